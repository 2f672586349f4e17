import CCAres

/// Asynchronous DNS queries through c-ares, for DNSBL/DNSWL lookups and forward-confirmed
/// reverse DNS (`docs/rules.md`).
///
/// Each resolver owns one c-ares channel and one thread of its own that drives it (see
/// `AresEventLoop`); any number of queries may be pending from any task, of which up to
/// `maxQueriesInFlight` are on the wire at once. A query ends with
/// exactly one answer or `DNSError`: on its answer, after its tries, at the latest after
/// `timeout × tries × servers`, on task cancellation (`.other`, "cancelled") or on `shutdown()`
/// (`.other`, "shut down"). Queries are asked as given (`ares_query`: no search list, no
/// `/etc/hosts`); answers are not cached here.
///
/// ```swift
/// let resolver = try DNSResolver(configuration: .init(servers: ["127.0.0.1:5353"]))
/// let name = DNSResolver.reverseName([192, 0, 2, 1]) + ".zen.spamhaus.org"
/// let listed = try await resolver.queryA(name)   // .notFound when not listed
/// ```
public final class DNSResolver: Sendable {
    private let loop: AresEventLoop

    public init(configuration: DNSResolverConfiguration) throws(DNSError) {
        loop = try AresEventLoop(configuration: configuration)
        try loop.start(threadName: "warden-dns")
    }

    deinit {
        loop.shutdown()
    }

    /// The IPv4 addresses of `name`, with the smallest TTL.
    public func queryA(_ name: String) async throws(DNSError) -> DNSAddressAnswer {
        let answer = try await query(name, type: ns_t_a)
        return try AresReplyParser.addresses(answer, family: .v4, query: name)
    }

    /// The IPv6 addresses of `name`, with the smallest TTL.
    public func queryAAAA(_ name: String) async throws(DNSError) -> DNSAddressAnswer {
        let answer = try await query(name, type: ns_t_aaaa)
        return try AresReplyParser.addresses(answer, family: .v6, query: name)
    }

    /// The PTR names of an address (4 or 16 bytes), without trailing dots, in answer order.
    public func queryPTR(_ address: [UInt8]) async throws(DNSError) -> (names: [String], ttl: Int) {
        guard address.count == 4 || address.count == 16 else {
            throw DNSError(kind: .malformed, detail: "an address has 4 or 16 bytes, not \(address.count)")
        }
        let name = Self.reverseName(address) + (address.count == 4 ? ".in-addr.arpa" : ".ip6.arpa")
        let answer = try await query(name, type: ns_t_ptr)
        return try AresReplyParser.pointerNames(answer, address: address, query: name)
    }

    /// One string per TXT record (its character-strings concatenated), decoded as UTF-8.
    public func queryTXT(_ name: String) async throws(DNSError) -> [String] {
        let answer = try await query(name, type: ns_t_txt)
        return try AresReplyParser.texts(answer, query: name)
    }

    /// Stops the resolver's thread. Queries in flight and later ones fail with `.other`,
    /// "shut down". Idempotent; also done by `deinit`.
    public func shutdown() {
        loop.shutdown()
    }

    private func query(_ name: String, type: ns_type) async throws(DNSError) -> [UInt8] {
        let query = PendingQuery(name: name, type: Int32(type.rawValue))
        let loop = self.loop
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if query.install(continuation) {
                    loop.submit(query)
                }
            }
        } onCancel: {
            query.finish(.failure(.cancelled))
        }
        return try outcome.get()
    }
}
