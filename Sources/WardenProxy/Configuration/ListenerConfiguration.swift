/// What a listening socket speaks first.
public enum ListenerKind: String, Sendable, Equatable, CaseIterable {
    /// Port 25 style: plaintext, STARTTLS offered when a certificate is configured (RFC 5321).
    case smtp
    /// Port 587 style message submission (RFC 6409): plaintext, STARTTLS, AUTH.
    case submission
    /// Port 465 style implicit TLS (RFC 8314 3.3): TLS from the first byte.
    case smtps
}

/// One `[[listener]]` table: a socket Warden accepts SMTP sessions on.
public struct ListenerConfiguration: Sendable, Equatable {
    /// Unique name, used in logs and metrics labels.
    public var name: String
    /// IPv4 or IPv6 literal to bind to.
    public var address: String
    /// TCP port; 0 lets the system pick a free one.
    public var port: Int
    public var kind: ListenerKind
    /// Offer STARTTLS (RFC 3207). Always false for ``ListenerKind/smtps``, which is TLS already.
    public var starttls: Bool
    /// Offer AUTH PLAIN LOGIN (RFC 4954), relayed to the upstream.
    public var auth: Bool
    /// Offer AUTH before TLS is up (RFC 4954 4 advises against it).
    public var authBeforeTLS: Bool
    /// Read a PROXY protocol v1/v2 header before the greeting.
    public var proxyProtocol: Bool
    /// Networks (CIDR or single address, as written) allowed to send that header.
    public var proxyTrusted: [String]
    /// Absolute path of this listener's own certificate; nil uses `[tls]`.
    public var certificate: String?
    /// Absolute path of this listener's own key; nil uses `[tls]`.
    public var key: String?

    /// - Parameter auth: nil means the default of `kind`: false for smtp, true otherwise.
    public init(
        name: String,
        address: String,
        port: Int,
        kind: ListenerKind = .smtp,
        starttls: Bool = false,
        auth: Bool? = nil,
        authBeforeTLS: Bool = false,
        proxyProtocol: Bool = false,
        proxyTrusted: [String] = [],
        certificate: String? = nil,
        key: String? = nil
    ) {
        self.name = name
        self.address = address
        self.port = port
        self.kind = kind
        self.starttls = kind == .smtps ? false : starttls
        self.auth = auth ?? (kind != .smtp)
        self.authBeforeTLS = authBeforeTLS
        self.proxyProtocol = proxyProtocol
        self.proxyTrusted = proxyTrusted
        self.certificate = certificate
        self.key = key
    }
}
