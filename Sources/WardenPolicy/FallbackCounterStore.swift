import Synchronization

/// Redis while it answers, this instance's own memory while it does not. Any Redis error, or no
/// answer within `operationTimeout`, switches to the fallback store for every later call; then at
/// most every `probeInterval` a call starts a `PING` in the background (no timer of its own: an
/// idle Warden does not probe), and the first one answered switches back. `onChange` is called
/// once per switch, `(false, why)` and `(true, why)`, for one log line and a metric.
///
/// Counts do not move between the stores: during an outage each instance limits on its own
/// counts, and after it the fleet's counts resume from what Redis held, so a limit is briefly
/// softer (per instance) on each switch, never harder.
public final class FallbackCounterStore: CounterStore {
    public static let defaultOperationTimeout = Duration.milliseconds(250)
    public static let defaultProbeInterval = Duration.seconds(5)

    private struct State {
        var usingPrimary = true
        var lastProbe: ContinuousClock.Instant?
        var probing = false
    }

    public let primary: RedisCounterStore
    public let fallback: MemoryCounterStore
    public let operationTimeout: Duration
    public let probeInterval: Duration
    private let onChange: @Sendable (Bool, String) -> Void
    private let state = Mutex(State())

    public init(
        primary: RedisCounterStore,
        fallback: MemoryCounterStore,
        operationTimeout: Duration = defaultOperationTimeout,
        probeInterval: Duration = defaultProbeInterval,
        onChange: @escaping @Sendable (_ usingPrimary: Bool, _ why: String) -> Void
    ) {
        self.primary = primary
        self.fallback = fallback
        self.operationTimeout = operationTimeout
        self.probeInterval = probeInterval
        self.onChange = onChange
    }

    public var isUsingPrimary: Bool { state.withLock { $0.usingPrimary } }

    public func add(_ key: String, amount: Int, window: Duration, now: Double?) async throws -> Double {
        await perform { [primary] in
            try await primary.add(key, amount: amount, window: window, now: now)
        } fallback: { fallback in
            fallback.add(key, amount: amount, window: window, now: now)
        }
    }

    public func addDistinct(_ key: String, member: String, window: Duration, now: Double?) async throws -> Int {
        await perform { [primary] in
            try await primary.addDistinct(key, member: member, window: window, now: now)
        } fallback: { fallback in
            fallback.addDistinct(key, member: member, window: window, now: now)
        }
    }

    public func count(_ key: String, window: Duration, now: Double?) async throws -> Double {
        await perform { [primary] in
            try await primary.count(key, window: window, now: now)
        } fallback: { fallback in
            fallback.count(key, window: window, now: now)
        }
    }

    public func distinctCount(_ key: String, window: Duration, now: Double?) async throws -> Int {
        await perform { [primary] in
            try await primary.distinctCount(key, window: window, now: now)
        } fallback: { fallback in
            fallback.distinctCount(key, window: window, now: now)
        }
    }

    private func perform<Result: Sendable>(
        primary operation: @escaping @Sendable () async throws -> Result,
        fallback: (MemoryCounterStore) -> Result
    ) async -> Result {
        if isUsingPrimary {
            do {
                return try await withDeadline(operationTimeout, operation)
            } catch {
                switchToFallback(because: error)
            }
        } else {
            probeIfDue()
        }
        return fallback(self.fallback)
    }

    private func switchToFallback(because error: any Error) {
        let switched = state.withLock { state -> Bool in
            guard state.usingPrimary else { return false }
            state.usingPrimary = false
            state.lastProbe = .now
            return true
        }
        if switched { onChange(false, "Redis failed (\(error)); counting in memory") }
    }

    private func probeIfDue() {
        let due = state.withLock { state -> Bool in
            let now = ContinuousClock.now
            guard !state.usingPrimary, !state.probing else { return false }
            if let last = state.lastProbe, now < last + probeInterval { return false }
            state.probing = true
            state.lastProbe = now
            return true
        }
        guard due else { return }
        Task { [primary, operationTimeout] in
            let answered = (try? await withDeadline(operationTimeout) { try await primary.ping() }) != nil
            let switched = self.state.withLock { state -> Bool in
                state.probing = false
                guard answered, !state.usingPrimary else { return false }
                state.usingPrimary = true
                return true
            }
            if switched { self.onChange(true, "Redis answered PING; counting in Redis again") }
        }
    }
}

/// The result of `operation`, or `CounterStoreError.timeout` after `timeout`, whichever is first.
/// The operation is cancelled on timeout but not awaited: a Redis command has its own timeout and
/// finishes in the background, so a stuck server costs the caller `timeout`, not more.
func withDeadline<Result: Sendable>(
    _ timeout: Duration,
    _ operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        let race = DeadlineRace(continuation)
        let work = Task {
            do {
                race.finish(.success(try await operation()))
            } catch {
                race.finish(.failure(error))
            }
        }
        race.setTimer(
            Task {
                try? await Task.sleep(for: timeout)
                if race.finish(.failure(CounterStoreError(.timeout, "no answer within \(timeout)"))) {
                    work.cancel()
                }
            }
        )
    }
}

private final class DeadlineRace<Result: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result, any Error>?
        var timer: Task<Void, Never>?
    }

    private let state: Mutex<State>

    init(_ continuation: CheckedContinuation<Result, any Error>) {
        state = Mutex(State(continuation: continuation))
    }

    /// Resumes the caller unless the other side already did; true if this call did.
    @discardableResult
    func finish(_ result: Swift.Result<Result, any Error>) -> Bool {
        let (continuation, timer) = state.withLock { state in
            defer { state.continuation = nil }
            return (state.continuation, state.timer)
        }
        guard let continuation else { return false }
        timer?.cancel()
        continuation.resume(with: result)
        return true
    }

    func setTimer(_ timer: Task<Void, Never>) {
        let finished = state.withLock { state -> Bool in
            guard state.continuation != nil else { return true }
            state.timer = timer
            return false
        }
        if finished { timer.cancel() }
    }
}
