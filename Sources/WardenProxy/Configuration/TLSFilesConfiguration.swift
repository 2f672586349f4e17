/// The `[tls]` table: the certificate that listeners present unless they name their own.
public struct TLSFilesConfiguration: Sendable, Equatable {
    /// Absolute path of the PEM certificate chain, or nil when none is configured.
    public var certificate: String?
    /// Absolute path of the PEM private key, or nil when none is configured.
    public var key: String?
    /// Create a self-signed pair at ``certificate`` and ``key`` at start when both are missing
    /// (see ``SelfSignedCertificate``).
    public var createSelfSigned: Bool

    public init(certificate: String? = nil, key: String? = nil, createSelfSigned: Bool = false) {
        self.certificate = certificate
        self.key = key
        self.createSelfSigned = createSelfSigned
    }
}
