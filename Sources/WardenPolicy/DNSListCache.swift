import Synchronization

/// Answers of DNS lists shared by all sessions, each kept for its TTL clamped to
/// `[minimumTTL, maximumTTL]`, at most `capacity` entries (the oldest go first). Failures are
/// kept for `failureTTL` so that a dead zone is not asked again for every client.
public final class DNSListCache: Sendable {
    struct Entry {
        var outcome: DNSOutcome
        var expires: ContinuousClock.Instant
    }

    public let minimumTTL: Int
    public let maximumTTL: Int
    public let failureTTL: Int
    public let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    public init(minimumTTL: Int = 30, maximumTTL: Int = 3600, failureTTL: Int = 10, capacity: Int = 100_000) {
        self.minimumTTL = minimumTTL
        self.maximumTTL = maximumTTL
        self.failureTTL = failureTTL
        self.capacity = capacity
    }

    public func get(_ name: String, now: ContinuousClock.Instant = .now) -> DNSOutcome? {
        entries.withLock { entries in
            guard let entry = entries[name] else { return nil }
            guard entry.expires > now else {
                entries[name] = nil
                return nil
            }
            return entry.outcome
        }
    }

    public func put(_ name: String, _ outcome: DNSOutcome, now: ContinuousClock.Instant = .now) {
        let seconds: Int
        switch outcome {
        case .answer(_, let ttl): seconds = min(max(ttl, minimumTTL), maximumTTL)
        case .failure(.notFound): seconds = minimumTTL
        case .failure: seconds = failureTTL
        }
        entries.withLock { entries in
            if entries.count >= capacity {
                // Expired entries first; if none, the ones closest to expiry.
                let expired = entries.filter { $0.value.expires <= now }.map(\.key)
                for key in expired { entries[key] = nil }
                if entries.count >= capacity {
                    let oldest = entries.sorted { $0.value.expires < $1.value.expires }.prefix(max(1, capacity / 10)).map(\.key)
                    for key in oldest { entries[key] = nil }
                }
            }
            entries[name] = Entry(outcome: outcome, expires: now + .seconds(seconds))
        }
    }

    public var count: Int { entries.withLock { $0.count } }
}

/// Which zones passed their health check (127.0.0.2 listed, 127.0.0.1 not). A zone that fails
/// it is disabled: its rules do not hit until it passes again.
public final class ZoneHealth: Sendable {
    private let state = Mutex<[String: Bool]>([:])

    public init() {}

    public func set(_ zone: String, healthy: Bool) {
        state.withLock { $0[zone] = healthy }
    }

    /// Zones not checked yet count as healthy.
    public func isHealthy(_ zone: String) -> Bool {
        state.withLock { $0[zone] ?? true }
    }

    public var snapshot: [String: Bool] { state.withLock { $0 } }
}
