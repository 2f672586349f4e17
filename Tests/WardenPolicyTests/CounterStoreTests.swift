import RedisTestServer
import RedisClient
import Testing

@testable import WardenPolicy

/// The stores under one behavioural suite: the same sliding-window behaviour from memory and
/// from a real redis-server, both on a manual clock.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory
    case redis

    var testDescription: String { rawValue }
}

/// Runs `body` with a fresh store of `kind` whose clock starts at `CounterStoreTests.t0`.
func withCounterStore(_ kind: StoreKind, _ body: (any CounterStore, ManualCounterClock) async throws -> Void) async throws {
    let clock = ManualCounterClock(CounterStoreTests.t0)
    switch kind {
    case .memory:
        try await body(MemoryCounterStore(clock: clock), clock)
    case .redis:
        try await withRedisServer { (server) async throws in
            let client = RedisClient(configuration: RedisConfiguration(port: server.port))
            do {
                try await body(RedisCounterStore(client: client, prefix: "test:", clock: clock), clock)
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
    }
}

func expectClose(_ actual: Double, _ expected: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(abs(actual - expected) < 1e-9, "\(actual) is not \(expected)", sourceLocation: sourceLocation)
}

@Suite struct CounterStoreTests {
    static let window = Duration.seconds(60)
    /// The start of a 60 s window (28,333,334 × 60).
    static let t0 = 1_700_000_040.0
    var window: Duration { Self.window }
    var t0: Double { Self.t0 }

    @Test(arguments: StoreKind.allCases)
    func aLimitOfNIsReachedByTheNthEvent(kind: StoreKind) async throws {
        try await withCounterStore(kind) { (store, clock) async throws in
            clock.set(t0 + 10)
            let limit = 5.0
            for n in 1...5 {
                let count = try await store.add("conn:192.0.2.1", amount: 1, window: window, now: nil)
                #expect(count == Double(n))
                #expect((count >= limit) == (n == 5), "reached at exactly the fifth, not before")
            }
            #expect(try await store.count("conn:192.0.2.1", window: window, now: nil) == 5)
            #expect(try await store.add("conn:192.0.2.1", amount: 1, window: window, now: nil) == 6)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aWindowRunsFromItsStartToJustBeforeTheNext(kind: StoreKind) async throws {
        try await withCounterStore(kind) { (store, _) async throws in
            #expect(try await store.add("k", amount: 1, window: window, now: t0) == 1)
            #expect(try await store.add("k", amount: 1, window: window, now: t0 + 59.999) == 2, "same window, nothing before it")
            // The next window starts: the last one is wholly inside the last 60 s.
            #expect(try await store.count("k", window: window, now: t0 + 60) == 2)
            #expect(try await store.add("k", amount: 1, window: window, now: t0 + 60) == 3)

            // One event a millisecond before t0 belongs to the window before.
            _ = try await store.add("edge", amount: 1, window: window, now: t0 - 0.001)
            #expect(try await store.count("edge", window: window, now: t0 - 0.001) == 1)
            #expect(try await store.count("edge", window: window, now: t0) == 1)
            expectClose(try await store.count("edge", window: window, now: t0 + 30), 0.5)
            #expect(try await store.count("edge", window: window, now: t0 + 60) == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func thePreviousWindowWeighsByHowMuchOfItStillOverlaps(kind: StoreKind) async throws {
        try await withCounterStore(kind) { (store, clock) async throws in
            clock.set(t0 + 5)
            for _ in 0..<10 { _ = try await store.add("k", amount: 1, window: window, now: nil) }
            clock.set(t0 + 60)
            #expect(try await store.count("k", window: window, now: nil) == 10, "0 % elapsed: all of it")
            clock.set(t0 + 90)
            #expect(try await store.count("k", window: window, now: nil) == 5, "50 % elapsed: half of it")
            #expect(try await store.add("k", amount: 2, window: window, now: nil) == 7)
            clock.set(t0 + 119)
            expectClose(try await store.count("k", window: window, now: nil), 10.0 / 60 + 2)
            clock.set(t0 + 120)
            #expect(try await store.count("k", window: window, now: nil) == 2, "100 %: the 10 are gone, the 2 weigh fully")
            clock.set(t0 + 150)
            #expect(try await store.count("k", window: window, now: nil) == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func oldWindowsExpire(kind: StoreKind) async throws {
        try await withCounterStore(kind) { (store, _) async throws in
            _ = try await store.add("k", amount: 3, window: window, now: t0)
            _ = try await store.addDistinct("d", member: "a", window: window, now: t0)
            #expect(try await store.count("k", window: window, now: t0 + 119.9) > 0)
            #expect(try await store.count("k", window: window, now: t0 + 120) == 0)
            #expect(try await store.distinctCount("d", window: window, now: t0 + 120) == 0)
            #expect(try await store.add("k", amount: 1, window: window, now: t0 + 600) == 1, "nothing old counts")
            #expect(try await store.addDistinct("d", member: "a", window: window, now: t0 + 600) == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func distinctMembersAreCountedOverTwoWindows(kind: StoreKind) async throws {
        try await withCounterStore(kind) { (store, _) async throws in
            var counts: [Int] = []
            for member in ["a@example.com", "b@example.com", "c@example.com", "a@example.com"] {
                counts.append(try await store.addDistinct("rcpt:u1", member: member, window: window, now: t0 + 1))
            }
            #expect(counts == [1, 2, 3, 3])
            #expect(try await store.addDistinct("rcpt:u1", member: "c@example.com", window: window, now: t0 + 61) == 3)
            #expect(try await store.addDistinct("rcpt:u1", member: "d@example.com", window: window, now: t0 + 62) == 4)
            #expect(try await store.distinctCount("rcpt:u1", window: window, now: t0 + 90) == 4)
            // Two windows on: only {c, d} of the last window and the new e.
            #expect(try await store.addDistinct("rcpt:u1", member: "e@example.com", window: window, now: t0 + 121) == 3)
            #expect(try await store.distinctCount("rcpt:u1", window: window, now: t0 + 300) == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func keysAreKeptApart(kind: StoreKind) async throws {
        try await withCounterStore(kind) { (store, _) async throws in
            _ = try await store.add("a", amount: 2, window: window, now: t0)
            _ = try await store.addDistinct("a", member: "x", window: window, now: t0)
            #expect(try await store.add("b", amount: 1, window: window, now: t0) == 1)
            #expect(try await store.count("a", window: window, now: t0) == 2, "the distinct set 'a' is not the counter 'a'")
            #expect(try await store.distinctCount("b", window: window, now: t0) == 0)
            #expect(try await store.count("missing", window: window, now: t0) == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func amountsAddUpAndCountingDoesNotAdd(kind: StoreKind) async throws {
        try await withCounterStore(kind) { (store, _) async throws in
            #expect(try await store.count("bytes", window: window, now: t0) == 0)
            #expect(try await store.count("bytes", window: window, now: t0) == 0)
            #expect(try await store.add("bytes", amount: 250_000, window: window, now: t0) == 250_000)
            #expect(try await store.add("bytes", amount: 0, window: window, now: t0) == 250_000)
            #expect(try await store.add("bytes", amount: 250_000, window: window, now: t0) == 500_000)
            #expect(try await store.distinctCount("set", window: window, now: t0) == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aNegativeAmountGivesBackButNeverBelowZero(kind: StoreKind) async throws {
        try await withCounterStore(kind) { (store, _) async throws in
            #expect(try await store.add("rsv", amount: 3, window: window, now: t0) == 3)
            #expect(try await store.add("rsv", amount: -1, window: window, now: t0) == 2, "a reservation given back")
            #expect(try await store.add("rsv", amount: -5, window: window, now: t0) == 0)
            #expect(try await store.count("rsv", window: window, now: t0) == 0)
            #expect(try await store.add("rsv", amount: 1, window: window, now: t0) == 1)
            #expect(try await store.add("fresh", amount: -1, window: window, now: t0) == 0)
            // Given back in the next window: the previous window keeps its count.
            _ = try await store.add("late", amount: 4, window: window, now: t0)
            #expect(try await store.add("late", amount: -2, window: window, now: t0 + 60) == 4)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func windowsOfOtherLengthsAndTheDefaultArguments(kind: StoreKind) async throws {
        try await withCounterStore(kind) { (store, clock) async throws in
            clock.set(3600 * 472_222)  // an hour's start
            #expect(try await store.add("hour", window: .seconds(3600)) == 1)
            clock.advance(by: .seconds(3600 + 900))
            #expect(try await store.count("hour", window: .seconds(3600)) == 0.75)
            #expect(try await store.add("ms", window: .milliseconds(500)) == 1)
            clock.advance(by: 0.75)
            #expect(try await store.count("ms", window: .milliseconds(500)) == 0.5)
            #expect(try await store.addDistinct("hd", member: "m", window: .seconds(3600)) == 1)
            #expect(try await store.distinctCount("hd", window: .seconds(3600)) == 1)
        }
    }
}

/// What only the memory store has: its bounds.
@Suite struct CounterStoreMemoryTests {
    let window = CounterStoreTests.window
    let t0 = CounterStoreTests.t0

    @Test func aFloodOfNewKeysStaysWithinCapacityAndKeepsTheBusyOnes() {
        let store = MemoryCounterStore(capacity: 10_000, clock: ManualCounterClock(t0))
        var hot = 0.0
        var largest = 0
        for index in 0..<1_000_000 {
            _ = store.add("conn:\(index)", amount: 1, window: window, now: nil)
            if index % 1000 == 0 { hot = store.add("hot", amount: 1, window: window, now: nil) }
            if index % 10_000 == 0 { largest = max(largest, store.keyCount) }
        }
        #expect(largest <= 10_000)
        #expect(store.keyCount <= 10_000)
        #expect(hot == 1000, "a key in use is never the one evicted")
        #expect(store.count("conn:999999", window: window, now: nil) == 1)
    }

    @Test func expiredKeysGoBeforeRecentlyUpdatedOnes() {
        let clock = ManualCounterClock(t0)
        let store = MemoryCounterStore(capacity: 10, clock: clock)
        for index in 0..<5 { _ = store.add("long:\(index)", amount: 1, window: .seconds(3600), now: nil) }
        clock.advance(by: 1)
        for index in 0..<5 { _ = store.add("short:\(index)", amount: 1, window: .seconds(10), now: nil) }
        clock.advance(by: 100)  // the short windows have expired; the long ones are the least recent
        _ = store.add("new", amount: 1, window: window, now: nil)
        #expect(store.keyCount == 6)
        for index in 0..<5 {
            #expect(store.count("long:\(index)", window: .seconds(3600), now: nil) == 1)
        }
    }

    @Test func whenNothingHasExpiredTheLeastRecentlyUpdatedGo() {
        let clock = ManualCounterClock(t0)
        let store = MemoryCounterStore(capacity: 10, clock: clock)
        for index in 0..<10 { _ = store.add("k\(index)", amount: 1, window: window, now: nil) }
        _ = store.add("k0", amount: 1, window: window, now: nil)  // k1 is now the least recent
        _ = store.add("new", amount: 1, window: window, now: nil)
        #expect(store.keyCount == 10)
        #expect(store.count("k1", window: window, now: nil) == 0)
        #expect(store.count("k0", window: window, now: nil) == 2)
        #expect(store.count("new", window: window, now: nil) == 1)
    }

    @Test func aDistinctSetStopsGrowingAtItsCap() {
        let store = MemoryCounterStore(maximumDistinctMembers: 100, clock: ManualCounterClock(t0))
        var last = 0
        for index in 0..<150 { last = store.addDistinct("rcpt", member: "user\(index)@example.com", window: window, now: nil) }
        #expect(last == 100)
        #expect(store.distinctCount("rcpt", window: window, now: nil) == 100)
        #expect(store.memberCount == 100)
        // Over two windows the count is still capped.
        for index in 150..<300 { last = store.addDistinct("rcpt", member: "user\(index)@example.com", window: window, now: t0 + 61) }
        #expect(last == 100)
    }

    @Test func allSetsTogetherStayWithinTheMembersBudget() {
        let store = MemoryCounterStore(capacity: 1000, maximumTotalMembers: 5000, clock: ManualCounterClock(t0))
        var largest = 0
        for key in 0..<100 {
            for member in 0..<100 { _ = store.addDistinct("set\(key)", member: "m\(member)", window: window, now: nil) }
            largest = max(largest, store.memberCount)
        }
        #expect(largest <= 5000)
        #expect(store.distinctCount("set99", window: window, now: nil) == 100, "the newest set is whole")
    }

    @Test func theSystemClockIsTheDefault() async throws {
        let store: any CounterStore = MemoryCounterStore()
        #expect(try await store.add("k", window: .seconds(60)) >= 1)
    }
}
