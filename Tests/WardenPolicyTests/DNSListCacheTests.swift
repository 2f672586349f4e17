import Testing

@testable import WardenPolicy

@Suite struct DNSListCacheTests {
    let start = ContinuousClock.now
    func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }
    static let listed = DNSOutcome.answer(addresses: [[127, 0, 0, 2]], ttl: 300)

    /// (outcome, how long it is kept) with minimumTTL 30, maximumTTL 3600, failureTTL 10.
    @Test(arguments: [
        (DNSOutcome.answer(addresses: [[127, 0, 0, 2]], ttl: 5), 30),
        (.answer(addresses: [[127, 0, 0, 2]], ttl: 0), 30),
        (.answer(addresses: [[127, 0, 0, 2]], ttl: 30), 30),
        (.answer(addresses: [[127, 0, 0, 2]], ttl: 100), 100),
        (.answer(addresses: [[127, 0, 0, 2]], ttl: 3600), 3600),
        (.answer(addresses: [[127, 0, 0, 2]], ttl: 86400), 3600),
        (.answer(addresses: [], ttl: 100), 100),
        (.failure(.notFound), 30),
        (.failure(.timeout), 10),
        (.failure(.failed("SERVFAIL")), 10),
    ])
    func entriesLiveTheirClampedTTL(outcome: DNSOutcome, lifetime: Int) {
        let cache = DNSListCache(minimumTTL: 30, maximumTTL: 3600, failureTTL: 10, capacity: 100)
        cache.put("2.0.0.127.zen.spamhaus.org", outcome, now: at(0))
        #expect(cache.get("2.0.0.127.zen.spamhaus.org", now: at(0)) == outcome)
        #expect(cache.get("2.0.0.127.zen.spamhaus.org", now: at(lifetime - 1)) == outcome)
        #expect(cache.get("2.0.0.127.zen.spamhaus.org", now: at(lifetime)) == nil)
        #expect(cache.count == 0, "an expired entry is dropped when asked for")
    }

    @Test func namesAreKeptApart() {
        let cache = DNSListCache()
        cache.put("2.0.0.127.zen.spamhaus.org", Self.listed, now: at(0))
        #expect(cache.get("2.0.0.127.list.dnswl.org", now: at(0)) == nil)
        #expect(cache.get("3.0.0.127.zen.spamhaus.org", now: at(0)) == nil)
        #expect(cache.count == 1)
    }

    @Test func aFullCacheDropsTheEntriesClosestToExpiry() {
        let cache = DNSListCache(minimumTTL: 1, maximumTTL: 3600, failureTTL: 10, capacity: 10)
        for index in 0..<10 {
            cache.put("n\(index)", .answer(addresses: [[127, 0, 0, 2]], ttl: 100 + index), now: at(0))
        }
        #expect(cache.count == 10)
        cache.put("new", Self.listed, now: at(0))
        #expect(cache.count == 10)
        #expect(cache.get("n0", now: at(0)) == nil)
        for index in 1..<10 {
            #expect(cache.get("n\(index)", now: at(0)) != nil, "n\(index) is kept")
        }
        #expect(cache.get("new", now: at(0)) == Self.listed)
    }

    @Test func aTenthGoesAtOnceInALargerCache() {
        let cache = DNSListCache(minimumTTL: 1, maximumTTL: 3600, failureTTL: 10, capacity: 20)
        for index in 0..<20 {
            cache.put("n\(index)", .answer(addresses: [[127, 0, 0, 2]], ttl: 100 + index), now: at(0))
        }
        cache.put("new", Self.listed, now: at(0))
        #expect(cache.count == 19)
        #expect(cache.get("n0", now: at(0)) == nil)
        #expect(cache.get("n1", now: at(0)) == nil)
        #expect(cache.get("n2", now: at(0)) != nil)
    }

    @Test func expiredEntriesGoFirst() {
        let cache = DNSListCache(minimumTTL: 30, maximumTTL: 3600, failureTTL: 10, capacity: 3)
        cache.put("short", .failure(.timeout), now: at(0))
        cache.put("long1", .answer(addresses: [[127, 0, 0, 2]], ttl: 100), now: at(0))
        cache.put("long2", .answer(addresses: [[127, 0, 0, 2]], ttl: 200), now: at(0))
        cache.put("new", Self.listed, now: at(11))
        #expect(cache.count == 3)
        #expect(cache.get("short", now: at(11)) == nil)
        #expect(cache.get("long1", now: at(11)) != nil)
        #expect(cache.get("long2", now: at(11)) != nil)
        #expect(cache.get("new", now: at(11)) != nil)
    }
}

/// A session that ends while its DNS list lookup is in flight cancels the lookup; that must not
/// be remembered as a list failure, or a client could connect, close, and then skip the list.
@Suite struct CancelledLookupTests {
    @Test func aCancelledLookupIsNotCached() async throws {
        let name = "10.2.0.192.bl.test"
        let dns = FakeDNS(answers: [name: FakeDNS.listed("127.0.0.4")], delays: [name: .seconds(2)])
        let cache = DNSListCache()
        let fixture = try PolicyFixture("dnsbl BL bl.test 127.0.0.4\nscore BL 6\nthreshold reject 5", dns: dns, cache: cache)
        let first = fixture.policy.startLookups(for: ip("192.0.2.10"))
        try await Task.sleep(for: .milliseconds(100))
        first.cancel()
        try await Task.sleep(for: .milliseconds(200))
        #expect(cache.get(name) == nil, "the cancelled answer is not kept")
        let fast = FakeDNS(answers: [name: FakeDNS.listed("127.0.0.4")])
        let again = try PolicyFixture("dnsbl BL bl.test 127.0.0.4\nscore BL 6\nthreshold reject 5", dns: fast, cache: cache)
        let decision = await again.decide("192.0.2.10")
        #expect(decision.verdict == .reject, "the next session from the same address is looked up and refused")
        #expect(fast.count(name) == 1)
    }
}
