import ArgumentParser
import Logging
import ServiceLifecycle
import WardenProxy

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the proxy until SIGTERM or SIGINT; SIGHUP reloads.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let configuration: WardenConfiguration
        do {
            configuration = try WardenConfiguration.load(path: options.config)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        WardenLogging.bootstrap(format: configuration.log.format, level: configuration.log.level)
        let logger = Logger(label: "warden")
        do {
            if configuration.tls.createSelfSigned, let certificate = configuration.tls.certificate, let key = configuration.tls.key {
                if try SelfSignedCertificate.ensure(certificatePath: certificate, keyPath: key, hostname: configuration.server.hostname) {
                    logger.notice("created a self-signed certificate", metadata: ["certificate": "\(certificate)", "key": "\(key)"])
                }
            }
            let server = try WardenServer(configuration: configuration, logger: logger)
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: [.init(service: server)],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                ))
            logger.info("starting", metadata: ["version": "\(WardenVersion.current)", "config": "\(configuration.sourcePath)"])
            try await group.run()
        } catch {
            logger.critical("cannot run", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
