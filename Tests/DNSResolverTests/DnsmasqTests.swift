import DNSResolver
import Testing

/// Forward-confirmed reverse DNS as `client_no_rdns` and `helo … no-fcrdns-match` need it,
/// against a real dnsmasq.
@Suite("DNSResolver against dnsmasq")
struct DnsmasqTests {
    private static func withServer(_ body: (DNSResolver) async throws -> Void) async throws {
        let server = try await Dnsmasq.start()
        defer { server.stop() }
        let resolver = try DNSResolver(configuration: .init(servers: [server.server], timeout: .seconds(1)))
        defer { resolver.shutdown() }
        try await body(resolver)
    }

    @Test func ipv4ReverseThenForwardConfirms() async throws {
        try await Self.withServer { resolver in
            let reverse = try await resolver.queryPTR([192, 0, 2, 10])
            #expect(reverse.names == ["mail.example.test"])
            #expect(reverse.ttl == Dnsmasq.ttl)
            let forward = try await resolver.queryA(reverse.names[0])
            #expect(forward == DNSAddressAnswer(addresses: [[192, 0, 2, 10]], ttl: Dnsmasq.ttl))
        }
    }

    @Test func ipv6ReverseThenForwardConfirms() async throws {
        try await Self.withServer { resolver in
            let address = ipv6("2001:db8::10")
            let reverse = try await resolver.queryPTR(address)
            #expect(reverse.names == ["mail.example.test"])
            let forward = try await resolver.queryAAAA(reverse.names[0])
            #expect(forward == DNSAddressAnswer(addresses: [address], ttl: Dnsmasq.ttl))
        }
    }

    @Test func addressWithTwoNamesReturnsBoth() async throws {
        try await Self.withServer { resolver in
            let reverse = try await resolver.queryPTR([192, 0, 2, 20])
            #expect(Set(reverse.names) == ["a.example.test", "b.example.test"])
            #expect(reverse.names.count == 2)
        }
    }

    @Test func missingNamesAreNotFound() async throws {
        try await Self.withServer { resolver in
            let noPTR = await #expect(throws: DNSError.self) { try await resolver.queryPTR([192, 0, 2, 99]) }
            #expect(noPTR?.kind == .notFound, "\(String(describing: noPTR))")
            let noName = await #expect(throws: DNSError.self) { try await resolver.queryA("nobody.example.test") }
            #expect(noName?.kind == .notFound)
            // The name exists with an A record only: NODATA for AAAA.
            let noData = await #expect(throws: DNSError.self) { try await resolver.queryAAAA("nothing.example.test") }
            #expect(noData?.kind == .notFound)
        }
    }

    /// dnsmasq without upstream servers refuses names it has no local data for.
    @Test func nameWithoutLocalDataIsRefused() async throws {
        try await Self.withServer { resolver in
            let refused = await #expect(throws: DNSError.self) { try await resolver.queryA("elsewhere.test") }
            #expect(refused?.kind == .refused, "\(String(describing: refused))")
        }
    }

    @Test(.enabled(if: ipv6LoopbackAvailable, "no IPv6 loopback"))
    func serverIsReachedOverIPv6WithItsPort() async throws {
        let server = try await Dnsmasq.start(alsoIPv6: true)
        defer { server.stop() }
        let resolver = try DNSResolver(configuration: .init(servers: ["[::1]:\(server.port)"], timeout: .seconds(1)))
        defer { resolver.shutdown() }
        let forward = try await resolver.queryA("mail.example.test")
        #expect(forward.addresses == [[192, 0, 2, 10]])
    }

    @Test func addressOfWrongLengthIsMalformed() async throws {
        try await Self.withServer { resolver in
            let error = await #expect(throws: DNSError.self) { try await resolver.queryPTR([192, 0, 2]) }
            #expect(error?.kind == .malformed)
        }
    }
}
