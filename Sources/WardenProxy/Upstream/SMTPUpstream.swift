import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SMTPCore
import WardenPolicy

/// An upstream mail server reached over SMTP (`smtp://host:port`). Each client session that gets
/// as far as MAIL or AUTH opens an upstream session on the same event loop, or takes one a
/// client session before it left open there (`UpstreamIdlePool`).
public struct SMTPUpstream: Upstream {
    public let configuration: UpstreamConfiguration
    public let host: String
    public let port: Int
    /// `host` when it is an address: connected to without a resolver (and its happy-eyeballs
    /// race) on every session.
    let address: SocketAddress?
    let tlsContext: NIOSSLContext?
    let logger: Logger
    let metrics: WardenMetrics?
    /// Upstream sessions kept between client sessions (`upstream.reuse_idle_seconds`).
    let pool: UpstreamIdlePool

    public init(configuration: UpstreamConfiguration, host: String, port: Int, logger: Logger, metrics: WardenMetrics?) throws {
        self.configuration = configuration
        self.host = host
        self.port = port
        let literal = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.address = IPAddress(literal) == nil ? nil : try? SocketAddress(ipAddress: literal, port: port)
        self.logger = logger
        self.metrics = metrics
        self.pool = UpstreamIdlePool(idleSeconds: configuration.reuseIdleSeconds)
        if configuration.tls == .off {
            tlsContext = nil
        } else {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            tls.certificateVerification = configuration.tlsVerify ? .fullVerification : .none
            if let caFile = configuration.tlsCAFile { tls.trustRoots = .file(caFile) }
            tlsContext = try NIOSSLContext(configuration: tls)
        }
    }

    /// A kept upstream session when one is open on this loop (with `reuse`; its RSET goes out
    /// with its first command), else a new one.
    public func connect(
        facts: SessionFacts, client: ClientEndpoint, on eventLoop: EventLoop, reuse: Bool
    ) -> EventLoopFuture<any UpstreamConnection> {
        guard reuse, let kept = pool.take(on: eventLoop) else { return open(facts: facts, client: client, on: eventLoop) }
        kept.resetPending = true
        return eventLoop.makeSucceededFuture(kept)
    }

    private func open(facts: SessionFacts, client: ClientEndpoint, on eventLoop: EventLoop) -> EventLoopFuture<any UpstreamConnection> {
        let started = NIODeadline.now()
        let connectTimeout = TimeAmount.seconds(Int64(configuration.connectTimeoutSeconds))
        let proxyHeader = makeProxyHeader(client)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamReplyHandler())
                }
            }
        let metrics = self.metrics
        let connected = address.map { bootstrap.connect(to: $0) } ?? bootstrap.connect(host: host, port: port)
        return connected
            .flatMapErrorThrowing { error in
                throw UpstreamError(.connectFailed, "\(host):\(port): \(error)")
            }
            .flatMap { channel -> EventLoopFuture<SMTPUpstreamConnection> in
                let handler = try! channel.pipeline.syncOperations.handler(type: UpstreamReplyHandler.self)
                let connection = SMTPUpstreamConnection(
                    channel: channel, replies: handler, configuration: configuration, pool: pool, metrics: metrics)
                if let proxyHeader {
                    connection.carriesClientState = true
                    channel.writeAndFlush(proxyHeader, promise: nil)
                }
                return connection.handshake(
                    facts: facts, client: client, tlsContext: tlsContext,
                    serverName: configuration.tlsServerName ?? host, deadline: started + connectTimeout, logger: logger
                ).map { connection }
                .flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
            }
            .map { connection -> any UpstreamConnection in
                metrics?.upstreamConnect(seconds: Self.seconds(since: started), success: true)
                return connection
            }
            .flatMapErrorThrowing { error in
                metrics?.upstreamConnect(seconds: Self.seconds(since: started), success: false)
                throw error
            }
    }

    private func makeProxyHeader(_ client: ClientEndpoint) -> ByteBuffer? {
        guard let source = client.address, let destination = client.local else { return nil }
        switch configuration.proxyProtocol {
        case .off: return nil
        case .v1: return ProxyHeaderEncoder.encodeV1(source: source, destination: destination)
        case .v2: return ProxyHeaderEncoder.encodeV2(source: source, destination: destination)
        }
    }

    static func seconds(since start: NIODeadline) -> Double {
        Double((NIODeadline.now() - start).nanoseconds) / 1e9
    }
}
