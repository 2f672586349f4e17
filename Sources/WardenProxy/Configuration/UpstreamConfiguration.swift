/// Where accepted mail goes.
public enum UpstreamTarget: Sendable, Equatable {
    /// The embedded store: a Maildir at an absolute path.
    case maildir(path: String)
    /// Another SMTP server, relayed to command by command.
    case smtp(host: String, port: Int)
}

/// Whether Warden uses STARTTLS (RFC 3207) towards the upstream.
public enum UpstreamTLSMode: String, Sendable, Equatable, CaseIterable {
    case off
    /// Use STARTTLS when the upstream offers it.
    case opportunistic
    /// Refuse to relay when the upstream does not offer STARTTLS or the handshake fails.
    case required
}

/// The PROXY protocol header Warden sends the upstream before anything else.
public enum UpstreamProxyProtocol: String, Sendable, Equatable, CaseIterable {
    case off, v1, v2
}

/// The `[upstream]` table: the server Warden relays to, and how.
public struct UpstreamConfiguration: Sendable, Equatable {
    /// TCP connect plus the upstream's greeting.
    public static let defaultConnectTimeoutSeconds = 10
    /// RFC 5321 4.5.3.2.2-3: a reply to MAIL, RCPT and other commands.
    public static let defaultCommandTimeoutSeconds = 300
    /// RFC 5321 4.5.3.2.6: the reply after the message's final ".".
    public static let defaultDataTimeoutSeconds = 600
    /// How long an upstream session may wait, idle, for the next client session to reuse it.
    /// Well below Postfix's `smtpd_timeout` (300 s) and Exim's `smtp_receive_timeout` (5 min).
    public static let defaultReuseIdleSeconds = 5

    public var target: UpstreamTarget
    /// Name in Warden's own EHLO to the upstream.
    public var heloName: String
    public var tls: UpstreamTLSMode
    /// Verify the upstream's certificate and name.
    public var tlsVerify: Bool
    /// Absolute path of a PEM file of extra trust roots; nil means the system's roots.
    public var tlsCAFile: String?
    /// Name to verify; nil means the host of ``target``.
    public var tlsServerName: String?
    /// Send XCLIENT (Postfix) when the upstream offers it.
    public var xclient: Bool
    public var proxyProtocol: UpstreamProxyProtocol
    public var connectTimeoutSeconds: Int
    public var commandTimeoutSeconds: Int
    public var dataTimeoutSeconds: Int
    /// Idle seconds an upstream session is kept for reuse by the next client session; 0: every
    /// client session opens its own and ends it with QUIT. See `UpstreamIdlePool` for when a
    /// session is reused.
    public var reuseIdleSeconds: Int

    public init(
        target: UpstreamTarget,
        heloName: String = ServerConfiguration.machineHostname(),
        tls: UpstreamTLSMode = .off,
        tlsVerify: Bool = true,
        tlsCAFile: String? = nil,
        tlsServerName: String? = nil,
        xclient: Bool = true,
        proxyProtocol: UpstreamProxyProtocol = .off,
        connectTimeoutSeconds: Int = UpstreamConfiguration.defaultConnectTimeoutSeconds,
        commandTimeoutSeconds: Int = UpstreamConfiguration.defaultCommandTimeoutSeconds,
        dataTimeoutSeconds: Int = UpstreamConfiguration.defaultDataTimeoutSeconds,
        reuseIdleSeconds: Int = UpstreamConfiguration.defaultReuseIdleSeconds
    ) {
        self.target = target
        self.heloName = heloName
        self.tls = tls
        self.tlsVerify = tlsVerify
        self.tlsCAFile = tlsCAFile
        self.tlsServerName = tlsServerName
        self.xclient = xclient
        self.proxyProtocol = proxyProtocol
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.commandTimeoutSeconds = commandTimeoutSeconds
        self.dataTimeoutSeconds = dataTimeoutSeconds
        self.reuseIdleSeconds = reuseIdleSeconds
    }
}
