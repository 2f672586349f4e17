import DNSResolver
import Testing

/// DNSBL queries as the `dnsbl` rule asks them, against a real rbldnsd.
@Suite("DNSResolver against rbldnsd")
struct RbldnsdTests {
    private static func withServer(
        _ body: (DNSResolver, ServerProcess) async throws -> Void
    ) async throws {
        let server = try await Rbldnsd.start()
        defer { server.stop() }
        let resolver = try DNSResolver(configuration: .init(servers: [server.server], timeout: .seconds(1)))
        defer { resolver.shutdown() }
        try await body(resolver, server)
    }

    @Test func listedAddressAnswersItsCode() async throws {
        try await Self.withServer { resolver, _ in
            let answer = try await resolver.queryA(DNSResolver.reverseName([127, 0, 0, 2]) + ".bl.test")
            #expect(answer == DNSAddressAnswer(addresses: [[127, 0, 0, 2]], ttl: Rbldnsd.ttl))
            let range = try await resolver.queryA("99.2.0.192.bl.test")
            #expect(range.addresses == [[127, 0, 0, 4]])
        }
    }

    @Test func unlistedAddressIsNotFound() async throws {
        try await Self.withServer { resolver, _ in
            let error = await #expect(throws: DNSError.self) {
                try await resolver.queryA("3.0.0.127.bl.test")
            }
            #expect(error?.kind == .notFound)
        }
    }

    @Test func addressOnTwoListsHasBothAnswers() async throws {
        try await Self.withServer { resolver, _ in
            let answer = try await resolver.queryA("7.100.51.198.bl.test")
            #expect(Set(answer.addresses) == [[127, 0, 0, 2], [127, 0, 0, 10]])
            #expect(answer.addresses.count == 2)
            #expect(answer.ttl == Rbldnsd.ttl)
        }
    }

    @Test func ipv6AddressIsAskedByNibbles() async throws {
        try await Self.withServer { resolver, _ in
            let listed = try await resolver.queryA(DNSResolver.reverseName(ipv6("2001:db8::25")) + ".bl6.test")
            #expect(listed.addresses == [[127, 0, 0, 3]])
            let error = await #expect(throws: DNSError.self) {
                try await resolver.queryA(DNSResolver.reverseName(ipv6("2001:db9::25")) + ".bl6.test")
            }
            #expect(error?.kind == .notFound)
        }
    }

    @Test func txtCarriesTheListingReason() async throws {
        try await Self.withServer { resolver, _ in
            let texts = try await resolver.queryTXT("2.0.0.127.bl.test")
            #expect(texts == ["Listed 127.0.0.2, see http://bl.test/lookup?ip=127.0.0.2"])
            let error = await #expect(throws: DNSError.self) {
                try await resolver.queryTXT("3.0.0.127.bl.test")
            }
            #expect(error?.kind == .notFound)
        }
    }

    @Test func nameOutsideTheZonesIsRefused() async throws {
        try await Self.withServer { resolver, _ in
            let error = await #expect(throws: DNSError.self) {
                try await resolver.queryA("2.0.0.127.other.test")
            }
            #expect(error?.kind == .refused, "\(String(describing: error))")
        }
    }

    /// Hundreds of DNSBL lookups at once, as a burst of connections causes: every one gets
    /// its own right answer.
    @Test func fiveHundredParallelQueriesAllComplete() async throws {
        try await Self.withServer { resolver, _ in
            let count = 500
            let start = ContinuousClock.now
            let outcomes = await withTaskGroup(of: (Int, Result<DNSAddressAnswer, DNSError>).self) { group in
                for index in 0..<count {
                    group.addTask {
                        // Even: 192.0.2.x (listed as 127.0.0.4); odd: 10.0.x.y (not listed).
                        let name =
                            index.isMultiple(of: 2)
                            ? "\(index % 256).2.0.192.bl.test" : "\(index % 256).\(index / 256).0.10.bl.test"
                        do throws(DNSError) {
                            return (index, .success(try await resolver.queryA(name)))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                var outcomes: [Int: Result<DNSAddressAnswer, DNSError>] = [:]
                for await (index, outcome) in group {
                    outcomes[index] = outcome
                }
                return outcomes
            }
            #expect(outcomes.count == count)
            for (index, outcome) in outcomes {
                if index.isMultiple(of: 2) {
                    #expect((try? outcome.get().addresses) == [[127, 0, 0, 4]], "query \(index): \(outcome)")
                } else {
                    #expect(throws: DNSError.self) { try outcome.get() }
                    if case .failure(let error) = outcome {
                        #expect(error.kind == .notFound, "query \(index): \(error)")
                    }
                }
            }
            // Typically ~0.1 s; a datagram lost under load costs one retransmit (1 s), never more.
            #expect(ContinuousClock.now - start < .seconds(3))
        }
    }
}
