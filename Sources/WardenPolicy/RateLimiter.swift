import SMTPCore

/// Runs the `ratelimit` and `bulk` rules against a counter store. Limits are checked before the
/// event they guard (a client over its message limit is refused at MAIL, over its recipient
/// limit at RCPT) and the event is counted at once, as a reservation, so that parallel sessions
/// cannot all pass a check before any of them is counted; a reservation is given back when the
/// event does not happen (the upstream refused it, the client gave up), so refused attempts
/// never use up a user's allowance. Connections are counted as they come.
public struct RateLimiter: Sendable {
    public enum Stage: Int, Sendable, CaseIterable { case connect, mail, rcpt, dataEnd }

    /// A count taken ahead of the event it limits.
    public struct Reservation: Sendable, Hashable {
        public enum Until: Sendable, Hashable {
            /// Kept once the upstream accepted the message.
            case messageAccepted
            /// Kept once the upstream accepted the recipient.
            case recipientAccepted
        }
        public var key: String
        public var amount: Int
        public var windowSeconds: Int
        public var until: Until
    }

    /// A check's decision and the counts it took.
    public struct Outcome: Sendable {
        public var decision: Decision
        public var reservations: [Reservation]
    }

    public let rules: [Rule]
    let store: any CounterStore
    /// The store again when it answers at once: checks can then be made without a task.
    let immediateStore: (any ImmediateCounterStore)?
    let globalShadow: Bool
    let tempfailThreshold: Double?
    let rejectThreshold: Double?
    /// For each stage (by raw value), the `ratelimit` rules that guard it.
    let rateRulesByStage: [[RateRule]]
    let bulkRules: [BulkRule]

    public init(rules: RuleSet, store: any CounterStore) {
        self.rules = rules.limitRules
        var byStage = [[RateRule]](repeating: [], count: Stage.allCases.count)
        var bulk: [BulkRule] = []
        for (index, rule) in self.rules.enumerated() {
            switch rule.test {
            case .rate(let limit):
                for stage in Stage.allCases where Self.guards(limit, stage) {
                    byStage[stage.rawValue].append(RateRule(index: index, name: rule.name, limit: limit))
                }
            case .bulk(let limit):
                bulk.append(BulkRule(index: index, name: rule.name, limit: limit))
            default:
                break
            }
        }
        self.rateRulesByStage = byStage
        self.bulkRules = bulk
        self.store = store
        self.immediateStore = store as? any ImmediateCounterStore
        self.globalShadow = rules.shadow
        self.tempfailThreshold = rules.tempfailThreshold
        self.rejectThreshold = rules.rejectThreshold
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// Whether any rule guards `stage`: when none does, the session need not wait for the store.
    public func guards(_ stage: Stage) -> Bool { !rateRulesByStage[stage.rawValue].isEmpty }

    public var hasBulkRules: Bool { !bulkRules.isEmpty }

    /// Whether checks answer at once (`checkNow`, `checkBulkNow`): the store is in memory.
    public var answersAtOnce: Bool { immediateStore != nil }

    /// Checks the limits that guard `stage` (`recipient` at RCPT, `size` at the end of data) and
    /// counts the event ahead; a refused event gives its counts back at once.
    public func check(_ stage: Stage, facts: SessionFacts, recipient: String? = nil, size: Int = 0) async -> Outcome {
        var results: [(RateCount, Double?)] = []
        for count in counts(stage, facts: facts, recipient: recipient, size: size) {
            // A failed count (the store's own fallback failed too) never refuses valid mail.
            results.append((count, try? await count.apply(to: store)))
        }
        let (outcome, giveBack) = outcome(results, facts: facts)
        await release(giveBack)
        return outcome
    }

    /// `check` without waiting, when the store answers at once; nil otherwise.
    public func checkNow(_ stage: Stage, facts: SessionFacts, recipient: String? = nil, size: Int = 0) -> Outcome? {
        guard let immediateStore else { return nil }
        let results = counts(stage, facts: facts, recipient: recipient, size: size).map { ($0, Optional($0.apply(to: immediateStore))) }
        let (outcome, giveBack) = outcome(results, facts: facts)
        _ = releaseNow(giveBack)
        return outcome
    }

    /// Gives back counts taken for an event that did not happen.
    public func release(_ reservations: [Reservation]) async {
        if releaseNow(reservations) { return }
        for reservation in reservations {
            _ = try? await store.add(reservation.key, amount: -reservation.amount, window: .seconds(reservation.windowSeconds), now: nil)
        }
    }

    /// `release` without waiting; false (nothing given back) when the store does not answer at once.
    public func releaseNow(_ reservations: [Reservation]) -> Bool {
        guard let immediateStore else { return false }
        for reservation in reservations {
            _ = immediateStore.addNow(reservation.key, amount: -reservation.amount, window: .seconds(reservation.windowSeconds), now: nil)
        }
        return true
    }

    /// Duplicate bulk: adds the recipients to the set of those who got this body from this key,
    /// and refuses when the set has grown past the limit.
    public func checkBulk(fingerprint: BodyFingerprint, recipients: [String], facts: SessionFacts) async -> Decision {
        var results: [(BulkCount, Int)] = []
        for count in bulkCounts(fingerprint: fingerprint, recipients: recipients, facts: facts) {
            var largest = 0
            for storeKey in count.storeKeys {
                for member in count.members {
                    largest = max(largest, (try? await store.addDistinct(storeKey, member: member, window: count.window, now: nil)) ?? 0)
                }
            }
            results.append((count, largest))
        }
        return bulkDecision(results, fingerprint: fingerprint, facts: facts)
    }

    /// `checkBulk` without waiting, when the store answers at once; nil otherwise.
    public func checkBulkNow(fingerprint: BodyFingerprint, recipients: [String], facts: SessionFacts) -> Decision? {
        guard let immediateStore else { return nil }
        let results = bulkCounts(fingerprint: fingerprint, recipients: recipients, facts: facts).map { count in
            // A set's count only grows as members are added: its count after the last is its largest.
            let largest = count.storeKeys.map { immediateStore.addDistinctNow($0, members: count.members, window: count.window, now: nil) }
            return (count, largest.max() ?? 0)
        }
        return bulkDecision(results, fingerprint: fingerprint, facts: facts)
    }
}
