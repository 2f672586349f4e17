import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// The long-running proxy: its listeners, the metrics endpoint, reload on SIGHUP, and the
/// drain on SIGTERM (new clients get `421 4.3.2`, open transactions may finish within
/// `shutdown_grace_seconds`, then every session is closed).
public final class WardenServer: Service {
    let configurationPath: String
    let group: MultiThreadedEventLoopGroup
    let threadPool: NIOThreadPool
    let runtime: ProxyRuntime
    let listeners: [ListenerContext]
    let logger: Logger
    /// Called with the bound addresses once every listener is up (tests use it).
    let onListening: (@Sendable ([String: SocketAddress]) -> Void)?

    public init(
        configuration: WardenConfiguration, logger: Logger,
        onListening: (@Sendable ([String: SocketAddress]) -> Void)? = nil
    ) throws {
        self.onListening = onListening
        self.configurationPath = configuration.sourcePath
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        self.threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let metrics = WardenMetrics()
        let state = PolicyState(configuration: configuration, logger: logger, metrics: metrics)
        let settings = try RuntimeSettings.make(configuration: configuration, threadPool: threadPool, metrics: metrics, logger: logger, state: state)
        self.runtime = ProxyRuntime(settings: settings, metrics: metrics, logger: logger, policyState: state)
        self.listeners = try configuration.listeners.map { try ListenerContext.make($0, tls: configuration.tls) }
    }

    public func run() async throws {
        let channels = try await bindListeners()
        let metricsServer = try await startMetrics()
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { [self] in
                for await _ in await UnixSignalsSequence(trapping: .sighup) { reload() }
            }
            tasks.addTask { [self] in await watchPolicyFiles() }
            tasks.addTask { [self] in await checkZonesPeriodically() }
            try? await gracefulShutdown()
            tasks.cancelAll()
        }
        await drain()
        for channel in channels { try? await channel.close() }
        try? await metricsServer?.close().get()
        try? await threadPool.shutdownGracefully()
        try? await group.shutdownGracefully()
        logger.info("stopped")
    }

    private func bindListeners() async throws -> [Channel] {
        var channels: [Channel] = []
        var bound: [String: SocketAddress] = [:]
        for listener in listeners {
            let runtime = self.runtime
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if listener.configuration.kind == .smtps, let tls = listener.tls {
                            try pipeline.addHandler(NIOSSLServerHandler(context: tls))
                        }
                        try pipeline.addHandler(SMTPSession(runtime: runtime, listener: listener))
                    }
                }
            let configuration = listener.configuration
            let channel = try await bootstrap.bind(host: configuration.address, port: configuration.port).get()
            channels.append(channel)
            let address = channel.localAddress
            bound[configuration.name] = address
            logger.info(
                "listening",
                metadata: [
                    "listener": "\(configuration.name)", "kind": "\(configuration.kind.rawValue)",
                    "address": "\(address?.ipAddress ?? configuration.address)", "port": "\(address?.port ?? configuration.port)",
                ])
        }
        onListening?(bound)
        return channels
    }

    private func startMetrics() async throws -> MetricsServer? {
        guard let address = runtime.settings.configuration.metrics.address else { return nil }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw ConfigurationError(file: configurationPath, line: nil, message: "metrics.address \(address) is not HOST:PORT")
        }
        let host = String(address[..<colon]).trimmingCharacters(in: ["[", "]"])
        let registry = runtime.registry
        let server = MetricsServer(host: host, port: port, metrics: runtime.metrics) { !registry.isShuttingDown }
        let boundAddress = try await server.start(group: group).get()
        logger.info("metrics listening", metadata: ["address": "\(boundAddress)"])
        return server
    }

    /// Reloads `warden.toml`: settings that can change live take effect for new sessions; a file
    /// that does not load leaves everything as it was and says file, line and reason.
    func reload() {
        do {
            let configuration = try WardenConfiguration.load(path: configurationPath)
            let settings = try RuntimeSettings.make(
                configuration: configuration, threadPool: threadPool, metrics: runtime.metrics, logger: logger, state: runtime.policyState)
            if configuration.listeners != runtime.settings.configuration.listeners || configuration.tls != runtime.settings.configuration.tls {
                logger.warning("listener and TLS changes take effect at the next restart")
            }
            runtime.settings = settings
            WardenLogging.setLevel(configuration.log.level)
            runtime.metrics.reloads(success: true)
            logger.info("reloaded", metadata: ["file": "\(configurationPath)"])
        } catch {
            runtime.metrics.reloads(success: false)
            logger.error("reload failed, previous settings kept", metadata: ["error": "\(error)"])
        }
    }

    /// Reloads when a file under `Rules/` or `Blocklists/`, a file they include, or a GeoIP
    /// database changes (polled every two seconds: portable, and cheap for a few files).
    private func watchPolicyFiles() async {
        var last = PolicyFiles.fingerprint(runtime.settings)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(2))
            let now = PolicyFiles.fingerprint(runtime.settings)
            guard now != last else { continue }
            last = now
            logger.info("policy files changed")
            reload()
            last = PolicyFiles.fingerprint(runtime.settings)
        }
    }

    /// Health checks of the DNS lists in use, at start and every `dns.health_check_seconds`.
    private func checkZonesPeriodically() async {
        var known: [String: Bool] = [:]
        while !Task.isCancelled {
            let settings = runtime.settings
            let interval = settings.configuration.dns.healthCheckSeconds
            guard interval > 0 else { return }
            for check in await settings.policy.client?.checkZones() ?? [] {
                guard let healthy = check.healthy else {
                    logger.warning("dns list health check got no answer", metadata: ["zone": "\(check.zone)"])
                    continue
                }
                runtime.metrics.zoneHealth(zone: check.zone, healthy: healthy)
                if known[check.zone] != healthy {
                    if healthy {
                        logger.info("dns list healthy", metadata: ["zone": "\(check.zone)", "check": "\(check.detail)"])
                    } else {
                        logger.error("dns list disabled: its rules do not hit until it passes again", metadata: ["zone": "\(check.zone)", "check": "\(check.detail)"])
                    }
                }
                known[check.zone] = healthy
            }
            try? await Task.sleep(for: .seconds(interval))
        }
    }

    /// SIGTERM: idle sessions close now, the others when their transaction ends or the grace
    /// period is over.
    private func drain() async {
        let grace = runtime.settings.configuration.server.shutdownGraceSeconds
        logger.info("shutting down", metadata: ["sessions": "\(runtime.registry.count)", "grace_seconds": "\(grace)"])
        runtime.registry.shutdown(force: false)
        let deadline = ContinuousClock.now + .seconds(grace)
        while runtime.registry.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if runtime.registry.count > 0 {
            runtime.registry.shutdown(force: true)
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
