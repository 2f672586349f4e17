import RedisTestServer
import RedisClient
import Synchronization
import Testing

@testable import WardenPolicy

#if canImport(Glibc)
import Glibc
#endif

/// What only the Redis store has: shared counts, key names and expiry, and the fallback.
@Suite struct RedisCounterStoreTests {
    let window = CounterStoreTests.window
    let t0 = CounterStoreTests.t0

    static func client(_ server: RedisServerProcess) -> RedisClient {
        RedisClient(configuration: RedisConfiguration(port: server.port))
    }

    @Test func twoInstancesOnOneServerShareTheirCounts() async throws {
        try await withRedisServer { (server) async throws in
            let clock = ManualCounterClock(t0 + 1)
            let clients = [Self.client(server), Self.client(server)]
            let stores = clients.map { RedisCounterStore(client: $0, prefix: "warden:", clock: clock) }
            var counts: [Double] = []
            for index in 0..<10 {
                counts.append(try await stores[index % 2].add("auth:alice", amount: 1, window: window, now: nil))
            }
            #expect(counts == (1...10).map(Double.init), "one combined limit, not one per instance")
            #expect(try await stores[0].addDistinct("rcpt:alice", member: "a", window: window, now: nil) == 1)
            #expect(try await stores[1].addDistinct("rcpt:alice", member: "b", window: window, now: nil) == 2)
            #expect(try await stores[1].addDistinct("rcpt:alice", member: "a", window: window, now: nil) == 2)

            let other = RedisCounterStore(client: clients[0], prefix: "other:", clock: clock)
            #expect(try await other.count("auth:alice", window: window, now: nil) == 0, "prefixes keep deployments apart")
            for client in clients { await client.shutdown() }
        }
    }

    @Test func keysAreNamedByPrefixKindKeyAndWindowIndex() async throws {
        try await withRedisServer { (server) async throws in
            let client = Self.client(server)
            let store = RedisCounterStore(client: client, prefix: "warden:", clock: ManualCounterClock(t0 + 1))
            _ = try await store.add("conn:192.0.2.1", amount: 4, window: window, now: nil)
            _ = try await store.addDistinct("rcpt:bob", member: "x@example.net", window: window, now: nil)
            let index = Int(t0 / 60)
            #expect(try await client.run(["GET", "warden:c:conn:192.0.2.1:\(index)"]) == .bulk(Array("4".utf8)))
            #expect(try await client.run(["PFCOUNT", "warden:d:rcpt:bob:\(index)"]) == .integer(1))
            #expect(try await Self.allKeys(client).sorted() == ["warden:c:conn:192.0.2.1:\(index)", "warden:d:rcpt:bob:\(index)"])
            await client.shutdown()
        }
    }

    @Test func everyKeyWrittenHasATTLOfTwoWindowsAndASecond() async throws {
        try await withRedisServer { (server) async throws in
            let client = Self.client(server)
            let clock = ManualCounterClock(t0)
            let store = RedisCounterStore(client: client, prefix: "t:", clock: clock)
            for step in 0..<5 {
                clock.set(t0 + Double(step) * 45)
                _ = try await store.add("a", amount: 1, window: window, now: nil)
                _ = try await store.add("b:\(step)", amount: 2, window: window, now: nil)
                _ = try await store.add("b:\(step)", amount: -5, window: window, now: nil)  // clamped to 0 by SET
                _ = try await store.addDistinct("d", member: "m\(step)", window: window, now: nil)
                _ = try await store.add("short", amount: 1, window: .seconds(1), now: nil)
                _ = try await store.count("read-only", window: window, now: nil)
                _ = try await store.distinctCount("read-only-set", window: window, now: nil)
            }
            let keys = try await Self.allKeys(client)
            // "a" in 4 windows, 5 "b:", "d" in 4 windows, "short" in 5.
            #expect(keys.count == 18, "\(keys.sorted())")
            #expect(!keys.contains { $0.contains("read-only") }, "reading creates no key")
            for key in keys {
                let ttl = try await client.run(["PTTL", key]).integer ?? -3
                let limit = key.hasPrefix("t:c:short:") ? 3000 : 121_000
                #expect(ttl > 0 && ttl <= limit, "\(key) has PTTL \(ttl)")
            }
            await client.shutdown()
        }
    }

    @Test func aRedisErrorReplyIsThrown() async throws {
        try await withRedisServer { (server) async throws in
            let client = Self.client(server)
            let store = RedisCounterStore(client: client, prefix: "t:", clock: ManualCounterClock(t0))
            let index = Int(t0 / 60)
            #expect(try await client.run(["SET", "t:c:k:\(index)", "not a number"]) == .simple("OK"))
            let error = await #expect(throws: RedisError.self) { _ = try await store.add("k", amount: 1, window: window, now: nil) }
            #expect(error?.code == .serverError)
            await client.shutdown()
        }
    }

    static func allKeys(_ client: RedisClient) async throws -> [String] {
        var keys: [String] = []
        var cursor = "0"
        for _ in 0..<1000 {
            let reply = try await client.run(["SCAN", cursor, "COUNT", "1000"])
            guard let parts = reply.elements, parts.count == 2, let next = parts[0].string, let batch = parts[1].elements else {
                Issue.record("SCAN answered \(reply)")
                return keys
            }
            keys += batch.compactMap(\.string)
            cursor = next
            if cursor == "0" { break }
        }
        return keys
    }
}

/// Records `onChange` calls.
final class SwitchRecorder: Sendable {
    private let events = Mutex<[Bool]>([])
    private let reasons = Mutex<[String]>([])

    func record(_ usingPrimary: Bool, _ why: String) {
        events.withLock { $0.append(usingPrimary) }
        reasons.withLock { $0.append(why) }
    }

    var switches: [Bool] { events.withLock { $0 } }
    var why: [String] { reasons.withLock { $0 } }
}

@Suite struct CounterStoreFallbackTests {
    let window = CounterStoreTests.window
    let t0 = CounterStoreTests.t0

    /// A fallback store whose Redis connection is open and whose scripts are loaded, so that its
    /// first calls are one round trip each (tests run in parallel on a busy machine).
    func makeStore(
        port: Int, clock: ManualCounterClock, recorder: SwitchRecorder, operationTimeout: Duration = .seconds(1)
    ) async throws -> (FallbackCounterStore, RedisClient) {
        let client = RedisClient(configuration: RedisConfiguration(port: port, connectTimeout: .milliseconds(500)))
        let primary = RedisCounterStore(client: client, prefix: "t:", clock: clock)
        _ = try await primary.add("warm-up", amount: 1, window: window, now: nil)
        let store = FallbackCounterStore(
            primary: primary,
            fallback: MemoryCounterStore(clock: clock),
            operationTimeout: operationTimeout,
            probeInterval: .milliseconds(200),
            onChange: recorder.record
        )
        return (store, client)
    }

    /// Adds until `done` or the deadline, a little apart (the probe is driven by calls).
    func addUntil(_ store: FallbackCounterStore, seconds: Double, _ done: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !done() && ContinuousClock.now < deadline {
            _ = try await store.add("other", amount: 1, window: window, now: nil)
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func redisStoppingAndComingBack() async throws {
        let clock = ManualCounterClock(t0 + 1)
        let recorder = SwitchRecorder()
        var server = try await RedisServerProcess.start()
        let port = server.port
        let (store, client) = try await makeStore(port: port, clock: clock, recorder: recorder)
        do {
            for n in 1...3 { #expect(try await store.add("k", amount: 1, window: window, now: nil) == Double(n)) }
            #expect(store.isUsingPrimary)
            #expect(recorder.switches == [])

            await server.stop()
            for n in 1...5 {
                #expect(try await store.add("k", amount: 1, window: window, now: nil) == Double(n), "counted in memory from zero")
            }
            #expect(try await store.addDistinct("d", member: "m", window: window, now: nil) == 1)
            #expect(!store.isUsingPrimary)
            #expect(recorder.switches == [false], "one switch, one call")

            server = try await RedisServerProcess.start(port: port)
            try await addUntil(store, seconds: 8) { store.isUsingPrimary }
            #expect(store.isUsingPrimary)
            #expect(recorder.switches == [false, true])
            #expect(try await store.add("k", amount: 1, window: window, now: nil) == 1, "the new server's count")
            #expect(try await client.run(["GET", "t:c:k:\(Int(t0 / 60))"]) == .bulk(Array("1".utf8)))
            #expect(recorder.why.allSatisfy { !$0.isEmpty })
        } catch {
            await server.stop()
            throw error
        }
        await client.shutdown()
        await server.stop()
    }

    @Test func aServerThatStopsAnsweringIsLeftAfterTheTimeout() async throws {
        let clock = ManualCounterClock(t0 + 1)
        let recorder = SwitchRecorder()
        try await withRedisServer { (server) async throws in
            let (store, client) = try await makeStore(
                port: server.port, clock: clock, recorder: recorder, operationTimeout: .milliseconds(300))
            #expect(try await store.add("k", amount: 1, window: window, now: nil) == 1)

            server.pause()
            let start = ContinuousClock.now
            #expect(try await store.add("k", amount: 1, window: window, now: nil) == 1, "from memory")
            let waited = ContinuousClock.now - start
            #expect(waited >= .milliseconds(300) && waited < .seconds(2), "waited for the timeout, not for Redis: \(waited)")
            #expect(recorder.switches == [false])
            let fast = ContinuousClock.now
            #expect(try await store.add("k", amount: 1, window: window, now: nil) == 2)
            #expect(ContinuousClock.now - fast < .milliseconds(300), "later calls do not wait for Redis")

            server.resume()
            try await addUntil(store, seconds: 8) { store.isUsingPrimary }
            #expect(recorder.switches == [false, true])
            await client.shutdown()
        }
    }
}
