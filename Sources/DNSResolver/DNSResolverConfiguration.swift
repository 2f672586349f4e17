/// How a `DNSResolver` reaches its servers and how long it waits for them.
///
/// `servers` lists addresses with an optional port: `"127.0.0.1:5353"`, `"192.0.2.1"` (port
/// 53), `"[::1]:53"` or a bare `"::1"`. An empty list means the nameservers of
/// `/etc/resolv.conf`.
///
/// `timeout` is how long one try waits for an answer and `tries` how many times each server is
/// asked. c-ares 1.18 doubles the wait of every later round; the resolver caps a whole query,
/// from the call on, at `timeout × tries × number of servers`, so the configured numbers bound
/// what a caller waits.
///
/// `maxQueriesInFlight` bounds the queries handed to the servers at once; more wait their turn
/// (within the same cap). A burst of hundreds of datagrams overflows a server's receive buffer
/// (measured with rbldnsd on loopback: 500 at once lost 30 to 150 of them), and each lost one costs a
/// `timeout`.
public struct DNSResolverConfiguration: Sendable, Hashable {
    /// Resolver defaults of `resolv.conf(5)` would be 5 s and 2 attempts; a mail filter
    /// that answers within SMTP's greeting budget waits less.
    public static let defaultTimeout: Duration = .seconds(2)
    public static let defaultTries = 2
    public static let defaultMaxQueriesInFlight = 128

    public var servers: [String]
    public var timeout: Duration
    public var tries: Int
    public var maxQueriesInFlight: Int

    public init(
        servers: [String] = [],
        timeout: Duration = DNSResolverConfiguration.defaultTimeout,
        tries: Int = DNSResolverConfiguration.defaultTries,
        maxQueriesInFlight: Int = DNSResolverConfiguration.defaultMaxQueriesInFlight
    ) {
        self.servers = servers
        self.timeout = timeout
        self.tries = tries
        self.maxQueriesInFlight = maxQueriesInFlight
    }
}

extension DNSResolverConfiguration {
    /// `timeout` in whole milliseconds (at least 1), as c-ares takes it.
    var timeoutMilliseconds: Int32 {
        let (seconds, attoseconds) = timeout.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(1, milliseconds))
    }

    /// `servers` as c-ares' `host:port,[v6]:port` list, every entry checked and given a port.
    func serversCSV() throws(DNSError) -> String {
        var entries: [String] = []
        for server in servers {
            entries.append(try Self.normalizedServer(server))
        }
        return entries.joined(separator: ",")
    }

    static func normalizedServer(_ text: String) throws(DNSError) -> String {
        let malformed = DNSError(kind: .malformed, detail: "not a server address: \"\(text)\"")
        var host = Substring(text)
        var port: Substring? = nil
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw malformed }
            let rest = host[host.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw malformed }
                port = rest.dropFirst()
            }
            host = host[host.index(after: host.startIndex)..<close]
            guard host.contains(":") else { throw malformed }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            port = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        let portNumber: Int
        if let port {
            guard let number = Int(port), (1...65535).contains(number) else { throw malformed }
            portNumber = number
        } else {
            portNumber = 53
        }
        if host.contains(":") {
            guard IPAddressText.parse(String(host), family: .v6) != nil else { throw malformed }
            return "[\(host)]:\(portNumber)"
        }
        guard IPAddressText.parse(String(host), family: .v4) != nil else { throw malformed }
        return "\(host):\(portNumber)"
    }
}
