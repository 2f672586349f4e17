/// Counting for rate limits: a sliding window counter (two fixed windows, the previous one weighted
/// by how much of it still overlaps: count = previous * (1 - elapsed/window) + current; see
/// `CounterWindow`). Keys expire with their windows; every update is atomic and sets its expiry in
/// the same operation.
///
/// `now` is wall-clock seconds since 1970 (`CounterClock`); nil means the store's own clock.
/// Window index = floor(now / window), the same in every store and on every machine, so stores
/// sharing Redis must have their clocks in step (NTP). Use one window per key: the window length
/// is not part of the key, so put the rule's name in it.
public protocol CounterStore: Sendable {
    /// Adds `amount` to `key` now and returns the sliding count over the last `window` (after adding).
    func add(_ key: String, amount: Int, window: Duration, now: Double?) async throws -> Double
    /// Adds `member` to the distinct set `key` and returns how many distinct members were seen in
    /// the current and previous window together (approximate with HyperLogLog where the store uses
    /// it, exact otherwise).
    func addDistinct(_ key: String, member: String, window: Duration, now: Double?) async throws -> Int
    /// The sliding count without adding (for `warden lookup`).
    func count(_ key: String, window: Duration, now: Double?) async throws -> Double
    func distinctCount(_ key: String, window: Duration, now: Double?) async throws -> Int
}

/// A store that answers at once, in this process (`MemoryCounterStore`): a session asks it
/// without starting a task or waiting for a turn of its event loop.
public protocol ImmediateCounterStore: CounterStore {
    func addNow(_ key: String, amount: Int, window: Duration, now: Double?) -> Double
    /// Adds every member; the count after the last.
    func addDistinctNow(_ key: String, members: [String], window: Duration, now: Double?) -> Int
    func countNow(_ key: String, window: Duration, now: Double?) -> Double
}

extension CounterStore {
    public func add(_ key: String, amount: Int = 1, window: Duration) async throws -> Double {
        try await add(key, amount: amount, window: window, now: nil)
    }

    public func addDistinct(_ key: String, member: String, window: Duration) async throws -> Int {
        try await addDistinct(key, member: member, window: window, now: nil)
    }

    public func count(_ key: String, window: Duration) async throws -> Double {
        try await count(key, window: window, now: nil)
    }

    public func distinctCount(_ key: String, window: Duration) async throws -> Int {
        try await distinctCount(key, window: window, now: nil)
    }
}

/// A counter store operation that did not complete. Redis connection problems arrive as
/// `RedisError`; these are the store's own.
public struct CounterStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// No answer within the store's deadline.
        case timeout
        /// Redis answered, but not with what the script returns.
        case unexpectedReply
    }

    public let code: Code
    private let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "counter store \(code): \(detail)" }
}
