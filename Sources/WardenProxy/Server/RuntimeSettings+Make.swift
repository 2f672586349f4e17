import Logging
import NIOPosix
import NIOSSL
import WardenPolicy

extension RuntimeSettings {
    /// Builds what sessions use from a loaded configuration: the policy and the upstream.
    /// Throws with a message naming the setting when something cannot be built.
    public static func make(
        configuration: WardenConfiguration, threadPool: NIOThreadPool, metrics: WardenMetrics?, logger: Logger
    ) throws -> RuntimeSettings {
        let trusted: NetworkSet
        do {
            trusted = try NetworkSet(parsing: configuration.relay.trustedNetworks)
        } catch {
            throw ConfigurationError(file: configuration.sourcePath, line: nil, message: "relay.trusted_networks: \(error.entry) is not a network")
        }
        let policy = Policy(relayControl: RelayControl(acceptedDomains: configuration.relay.acceptedDomains, trustedNetworks: trusted))
        let upstream: any Upstream
        switch configuration.upstream.target {
        case .maildir(let path):
            upstream = try MaildirUpstream(path: path, hostname: configuration.server.hostname, threadPool: threadPool)
        case .smtp(let host, let port):
            upstream = try SMTPUpstream(configuration: configuration.upstream, host: host, port: port, logger: logger, metrics: metrics)
        }
        return RuntimeSettings(configuration: configuration, policy: policy, upstream: upstream)
    }
}

extension ListenerContext {
    /// The listener's TLS context from its own certificate or the shared one; nil when neither
    /// is configured. TLS 1.2 is the minimum (RFC 8314 4.1; NIOSSL's default is 1.0).
    public static func make(_ listener: ListenerConfiguration, tls: TLSFilesConfiguration) throws -> ListenerContext {
        guard let certificate = listener.certificate ?? tls.certificate, let key = listener.key ?? tls.key else {
            return ListenerContext(configuration: listener, tls: nil)
        }
        let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
        let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        return ListenerContext(configuration: listener, tls: try NIOSSLContext(configuration: configuration))
    }
}
