import RedisClient

/// Counters shared by a fleet of Warden instances in one Redis. Each window is its own key,
/// `prefix + "c:" + key + ":" + windowIndex` (distinct sets: `"d:"`, HyperLogLog), and every write
/// is one Lua script that updates the key and sets its expiry together, so no key is ever left
/// without a TTL. Keys live `CounterWindow.keyLifetimeMilliseconds` after their last update: two
/// windows and a second.
///
/// Window indexes come from this machine's wall clock (`clock`), so every instance sharing the
/// server must run NTP; a skew of s seconds moves counts near window edges by s / window.
/// The keys of one call are not hash-tagged: this is for a single Redis (or a primary with
/// replicas), not Redis Cluster.
///
/// ```
/// C: EVALSHA <add> 2 warden:c:conn:192.0.2.1:28333334 warden:c:conn:192.0.2.1:28333333 1 121000
/// S: *2\r\n:3\r\n:10\r\n        (current 3, previous 10)
/// ```
public final class RedisCounterStore: CounterStore {
    /// INCRBY and PEXPIRE of the current window, GET of the previous one.
    static let addScript = RedisScript(
        """
        local current = redis.call('INCRBY', KEYS[1], ARGV[1])
        if current < 0 then
            redis.call('SET', KEYS[1], 0)
            current = 0
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        local previous = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
        return {current, previous}
        """
    )

    /// PFADD and PEXPIRE of the current window, PFCOUNT of its union with the previous one.
    static let addDistinctScript = RedisScript(
        """
        redis.call('PFADD', KEYS[1], ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return redis.call('PFCOUNT', KEYS[1], KEYS[2])
        """
    )

    public let client: RedisClient
    public let prefix: String
    private let clock: any CounterClock

    public init(client: RedisClient, prefix: String = "warden:", clock: any CounterClock = SystemCounterClock()) {
        self.client = client
        self.prefix = prefix
        self.clock = clock
    }

    /// A negative `amount` gives back a reservation; the count never goes below zero.
    public func add(_ key: String, amount: Int, window: Duration, now: Double?) async throws -> Double {
        let at = CounterWindow(window: window, now: now ?? clock.now())
        let reply = try await client.evalScript(
            Self.addScript,
            keys: keys("c:", key, at),
            args: [String(amount), String(at.keyLifetimeMilliseconds)]
        )
        guard let pair = try Self.checked(reply).elements, pair.count == 2,
            let current = pair[0].integer, let previous = pair[1].integer
        else { throw CounterStoreError(.unexpectedReply, "add script answered \(reply)") }
        return at.slidingCount(previous: previous, current: current)
    }

    public func addDistinct(_ key: String, member: String, window: Duration, now: Double?) async throws -> Int {
        let at = CounterWindow(window: window, now: now ?? clock.now())
        let reply = try await client.evalScript(
            Self.addDistinctScript,
            keys: keys("d:", key, at),
            args: [member, String(at.keyLifetimeMilliseconds)]
        )
        guard let count = try Self.checked(reply).integer else {
            throw CounterStoreError(.unexpectedReply, "distinct script answered \(reply)")
        }
        return count
    }

    public func count(_ key: String, window: Duration, now: Double?) async throws -> Double {
        let at = CounterWindow(window: window, now: now ?? clock.now())
        let reply = try await client.run(["MGET"] + keys("c:", key, at))
        guard let pair = try Self.checked(reply).elements, pair.count == 2 else {
            throw CounterStoreError(.unexpectedReply, "MGET answered \(reply)")
        }
        return at.slidingCount(previous: pair[1].integer ?? 0, current: pair[0].integer ?? 0)
    }

    public func distinctCount(_ key: String, window: Duration, now: Double?) async throws -> Int {
        let at = CounterWindow(window: window, now: now ?? clock.now())
        let reply = try await client.run(["PFCOUNT"] + keys("d:", key, at))
        guard let count = try Self.checked(reply).integer else {
            throw CounterStoreError(.unexpectedReply, "PFCOUNT answered \(reply)")
        }
        return count
    }

    /// Succeeds when Redis answers PONG (the fallback store's probe).
    public func ping() async throws {
        let reply = try await client.run(["PING"])
        guard case .simple("PONG") = try Self.checked(reply) else {
            throw CounterStoreError(.unexpectedReply, "PING answered \(reply)")
        }
    }

    /// The current window's key, then the previous one's.
    func keys(_ kind: String, _ key: String, _ at: CounterWindow) -> [String] {
        let base = prefix + kind + key + ":"
        return [base + String(at.index), base + String(at.index - 1)]
    }

    private static func checked(_ reply: RESPValue) throws -> RESPValue {
        if case .error(let message) = reply { throw RedisError(.serverError, message) }
        return reply
    }
}
