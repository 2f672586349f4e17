import NIOCore

/// The connection's real endpoints, as a load balancer reports them in a PROXY protocol header
/// (https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt) before the first SMTP byte.
///
/// ```
/// LB: PROXY TCP4 203.0.113.7 192.0.2.25 51234 25\r\n
/// S:  220 mx.example.com ESMTP
/// ```
///
/// All four fields are nil for a header that carries no addresses (v1 `UNKNOWN`, v2 `LOCAL` or
/// family `UNSPEC`): the connection's own addresses are then the real ones. Addresses are in
/// canonical text form (`inet_ntop`: `2001:db8::1`, never `2001:0db8:0:0::1`), so they compare
/// and look up equal however the load balancer spelled them.
public struct ProxyHeader: Sendable, Hashable {
    public var sourceAddress: String?
    public var sourcePort: Int?
    public var destinationAddress: String?
    public var destinationPort: Int?

    public init(
        sourceAddress: String? = nil,
        sourcePort: Int? = nil,
        destinationAddress: String? = nil,
        destinationPort: Int? = nil
    ) {
        self.sourceAddress = sourceAddress
        self.sourcePort = sourcePort
        self.destinationAddress = destinationAddress
        self.destinationPort = destinationPort
    }

    /// A header without addresses: v1 `UNKNOWN`, v2 `LOCAL`.
    public static let unknown = ProxyHeader()

    /// The client's address, or nil when the header carries none.
    public var source: SocketAddress? {
        Self.socketAddress(self.sourceAddress, self.sourcePort)
    }

    /// The address the client connected to, or nil when the header carries none.
    public var destination: SocketAddress? {
        Self.socketAddress(self.destinationAddress, self.destinationPort)
    }

    private static func socketAddress(_ address: String?, _ port: Int?) -> SocketAddress? {
        guard let address, let port else { return nil }
        return try? SocketAddress(ipAddress: address, port: port)
    }
}

/// A PROXY protocol header could not be read; the connection is closed without a reply, as the
/// specification requires (section 2: "the receiver must ... abort the connection").
public struct ProxyHeaderError: Error, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The connection does not start with either version's signature.
        public static let notProxyProtocol = Code("notProxyProtocol")
        /// A v1 line or v2 block breaks the syntax.
        public static let malformed = Code("malformed")
        /// Longer than the v1 line limit or the configured v2 limit.
        public static let tooLong = Code("tooLong")
        /// Well formed, but for a transport Warden does not take (UDP, Unix sockets).
        public static let unsupported = Code("unsupported")

        public var description: String { self.name }
    }

    public let code: Code
    /// What exactly was wrong, for the log; it never quotes the peer's bytes.
    private let detail: String

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "ProxyHeaderError.\(self.code): \(self.detail)" }
}
