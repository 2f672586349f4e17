import Synchronization

/// What one DNS list said about the client.
public enum ZoneAnswer: Sendable, Hashable {
    case listed([[UInt8]])
    case notListed
    /// Only answers in 127.255.255.0/24: the list refused the query (never a listing).
    case listError([[UInt8]])
    case failed(DNSFailure)
    /// The zone failed its health check.
    case disabled

    public var summary: String {
        switch self {
        case .listed(let answers): return "listed " + answers.map(ZoneAnswer.dotted).joined(separator: ",")
        case .notListed: return "not listed"
        case .listError(let answers): return "list error " + answers.map(ZoneAnswer.dotted).joined(separator: ",")
        case .failed(let failure): return "failed: \(failure)"
        case .disabled: return "zone disabled (failed its health check)"
        }
    }

    static func dotted(_ bytes: [UInt8]) -> String { bytes.map(String.init).joined(separator: ".") }
}

/// The client's forward-confirmed reverse DNS: a PTR name whose A/AAAA records include the
/// client address (RFC 8601 2.7.3 "iprev").
public struct ReverseDNS: Sendable, Hashable {
    public var verifiedName: String?
    public var names: [String]
    public var failure: DNSFailure?

    public init(verifiedName: String?, names: [String], failure: DNSFailure?) {
        self.verifiedName = verifiedName
        self.names = names
        self.failure = failure
    }
}

/// One lookup of a session: answered already when it started (from the cache), or running as
/// a task that keeps its answer where the session can read it without waiting.
final class Lookup<Value: Sendable>: Sendable {
    private let answer: LookupAnswer<Value>
    private let task: Task<Value, Never>?

    init(answered value: Value) {
        answer = LookupAnswer(value)
        task = nil
    }

    /// Runs `operation` as a task, on `executor` when given (the session's event loop), so that
    /// the answer comes back without a hop through the shared pool.
    init(on executor: (any TaskExecutor)?, _ operation: @escaping @Sendable () async -> Value) {
        let answer = LookupAnswer<Value>(nil)
        self.answer = answer
        task = Task(executorPreference: executor) {
            let value = await operation()
            answer.set(value)
            return value
        }
    }

    /// The answer if the lookup has finished, without waiting.
    var now: Value? { answer.get() }

    var value: Value {
        get async {
            if let now { return now }
            guard let task else { preconditionFailure("a lookup without a task is answered from the start") }
            return await task.value
        }
    }

    func cancel() { task?.cancel() }
}

private final class LookupAnswer<Value: Sendable>: Sendable {
    private let value: Mutex<Value?>

    init(_ value: Value?) { self.value = Mutex(value) }

    func get() -> Value? { value.withLock { $0 } }
    func set(_ new: Value) { value.withLock { $0 = new } }
}

/// The answers a client decision reads: every DNS list queried, and the reverse DNS if asked.
struct LookupAnswers {
    var zones: [String: ZoneAnswer]
    var reverse: ReverseDNS?
}

/// The lookups started for one client when it connects, awaited only where a decision needs
/// them (as postscreen does), and the client decision once made.
public final class ClientLookups: Sendable {
    public let address: IPAddress
    public let geo: GeoInfo?
    let zones: [String: Lookup<ZoneAnswer>]
    let reverse: Lookup<ReverseDNS>?
    let decided = Mutex<Decision?>(nil)

    init(address: IPAddress, geo: GeoInfo?, zones: [String: Lookup<ZoneAnswer>], reverse: Lookup<ReverseDNS>?) {
        self.address = address
        self.geo = geo
        self.zones = zones
        self.reverse = reverse
    }

    /// Whether the client decision was made already (it is logged once, when it is made).
    public var isDecided: Bool { decided.withLock { $0 != nil } }

    public func answer(for zone: String) async -> ZoneAnswer? {
        await zones[zone]?.value
    }

    public func reverseDNS() async -> ReverseDNS? {
        await reverse?.value
    }

    /// Every answer, once all lookups have finished.
    func answers() async -> LookupAnswers {
        var answers = LookupAnswers(zones: [:], reverse: await reverse?.value)
        for (zone, lookup) in zones { answers.zones[zone] = await lookup.value }
        return answers
    }

    /// Every answer if all lookups have finished (they usually have by the first RCPT, or were
    /// cached when the client connected); nil while one still runs.
    func answersNow() -> LookupAnswers? {
        var answers = LookupAnswers(zones: [:], reverse: nil)
        if let reverse {
            guard let answer = reverse.now else { return nil }
            answers.reverse = answer
        }
        for (zone, lookup) in zones {
            guard let answer = lookup.now else { return nil }
            answers.zones[zone] = answer
        }
        return answers
    }

    /// Stops what is still running (the session ended).
    public func cancel() {
        for lookup in zones.values { lookup.cancel() }
        reverse?.cancel()
    }

    deinit {
        cancel()
    }
}
