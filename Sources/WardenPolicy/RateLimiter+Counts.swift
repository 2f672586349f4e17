/// What a check counts, apart from how the store is asked (at once, or awaited): the counts a
/// stage takes, and the decision their results give.
extension RateLimiter {
    /// One counter a `ratelimit` rule reads or adds to at a stage.
    struct RateCount {
        enum Operation {
            /// Adds `amount`; kept as a reservation `until` the event happens, if given.
            case add(amount: Int, until: Reservation.Until?)
            case addDistinct(member: String)
            /// Reads without adding: the size is not known yet at MAIL, so only a key that is
            /// over already is refused.
            case peek
        }

        /// The rule's place in `rules` (a rule is too big a value to copy per count).
        var rule: Int
        var key: String
        var storeKey: String
        var operation: Operation
        var limit: Int
        var windowSeconds: Int

        var window: Duration { .seconds(windowSeconds) }

        func apply(to store: any CounterStore) async throws -> Double {
            switch operation {
            case .add(let amount, _): return try await store.add(storeKey, amount: amount, window: window, now: nil)
            case .addDistinct(let member): return Double(try await store.addDistinct(storeKey, member: member, window: window, now: nil))
            case .peek: return peeked(try await store.count(storeKey, window: window, now: nil))
            }
        }

        func apply(to store: any ImmediateCounterStore) -> Double {
            switch operation {
            case .add(let amount, _): return store.addNow(storeKey, amount: amount, window: window, now: nil)
            case .addDistinct(let member): return Double(store.addDistinctNow(storeKey, members: [member], window: window, now: nil))
            case .peek: return peeked(store.countNow(storeKey, window: window, now: nil))
            }
        }

        private func peeked(_ count: Double) -> Double {
            count >= Double(limit) ? count + 1 : count
        }

        var reservation: Reservation? {
            guard case .add(let amount, let until?) = operation else { return nil }
            return Reservation(key: storeKey, amount: amount, windowSeconds: windowSeconds, until: until)
        }
    }

    /// The distinct-recipient sets a `bulk` rule adds a message's recipients to: one set per LSH
    /// band key.
    struct BulkCount {
        /// The rule's place in `rules`.
        var rule: Int
        var key: String
        var storeKeys: [String]
        var members: [String]
        var window: Duration
    }

    /// A `ratelimit` or `bulk` rule as the checks read it: a reference, so that walking the
    /// rules of a stage copies no rule (a `Rule` is a large value).
    final class IndexedRule<Limit: Sendable>: Sendable {
        /// The rule's place in `rules`.
        let index: Int
        let name: String
        let limit: Limit

        init(index: Int, name: String, limit: Limit) {
            self.index = index
            self.name = name
            self.limit = limit
        }
    }

    typealias RateRule = IndexedRule<RateLimit>
    typealias BulkRule = IndexedRule<BulkLimit>

    /// The counts the `ratelimit` rules guarding `stage` take for these facts.
    func counts(_ stage: Stage, facts: SessionFacts, recipient: String?, size: Int) -> [RateCount] {
        var counts: [RateCount] = []
        for rule in rateRulesByStage[stage.rawValue] {
            let limit = rule.limit
            guard limit.scope.applies(to: facts), let key = limit.key.value(for: facts, recipient: recipient) else { continue }
            let operation: RateCount.Operation
            switch (stage, limit.counted) {
            case (.connect, .connections):
                operation = .add(amount: 1, until: nil)
            case (_, .distinctRecipients):
                // A set: a recipient already in it changes nothing.
                operation = .addDistinct(member: (recipient ?? "").lowercased())
            case (.mail, .bytes):
                operation = .peek
            default:
                operation = .add(
                    amount: limit.counted == .bytes ? size : 1,
                    until: limit.counted == .recipients ? .recipientAccepted : .messageAccepted)
            }
            counts.append(RateCount(
                rule: rule.index, key: key, storeKey: rule.name + ":" + key, operation: operation, limit: limit.limit,
                windowSeconds: limit.windowSeconds))
        }
        return counts
    }

    /// The decision of a stage's counts (nil: the store failed, the rule is skipped) and the
    /// reservations to give back because it refuses.
    func outcome(_ results: [(RateCount, Double?)], facts: SessionFacts) -> (Outcome, giveBack: [Reservation]) {
        var hits: [(Rule, PolicyHit)] = []
        var taken: [Reservation] = []
        for (count, result) in results {
            guard let result else { continue }
            if let reservation = count.reservation { taken.append(reservation) }
            guard result > Double(count.limit), case .rate(let limit) = rules[count.rule].test else { continue }
            let evidence = "\(limit.key.map(\.name).joined(separator: "+"))=\(count.key) \(limit.counted.rawValue) \(Self.format(result)) over \(limit.limit)/\(Self.period(limit.windowSeconds))"
            hits.append((rules[count.rule], hit(rules[count.rule], evidence)))
        }
        let decision = decide(hits, facts: facts, reason: "Rate limit exceeded")
        guard decision.verdict.refuses else { return (Outcome(decision: decision, reservations: taken), []) }
        return (Outcome(decision: decision, reservations: []), taken)
    }

    /// The sets the `bulk` rules add this message's recipients to.
    func bulkCounts(fingerprint: BodyFingerprint, recipients: [String], facts: SessionFacts) -> [BulkCount] {
        var counts: [BulkCount] = []
        let members = recipients.map { $0.lowercased() }
        for rule in bulkRules {
            let limit = rule.limit
            guard limit.scope.applies(to: facts), let key = limit.key.value(for: facts) else { continue }
            let prefix = rule.name + ":" + key + ":"
            counts.append(BulkCount(
                rule: rule.index, key: key, storeKeys: fingerprint.keys.map { prefix + $0 }, members: members,
                window: .seconds(limit.windowSeconds)))
        }
        return counts
    }

    /// The message counts as the largest of its sets (a failed store counts 0), so a personalised
    /// copy that shares any band with the others is counted with them.
    func bulkDecision(_ results: [(BulkCount, Int)], fingerprint: BodyFingerprint, facts: SessionFacts) -> Decision {
        var hits: [(Rule, PolicyHit)] = []
        for (count, seen) in results {
            guard case .bulk(let limit) = rules[count.rule].test, seen > limit.limit else { continue }
            let evidence = "\(limit.key.map(\.name).joined(separator: "+"))=\(count.key) body \(fingerprint.key) to \(seen) recipients, over \(limit.limit)/\(Self.period(limit.windowSeconds))"
            hits.append((rules[count.rule], hit(rules[count.rule], evidence)))
        }
        return decide(hits, facts: facts, reason: "Too many copies of this message")
    }

    private func hit(_ rule: Rule, _ evidence: String) -> PolicyHit {
        PolicyHit(rule: rule.name, score: rule.score, evidence: evidence, shadow: rule.shadow || globalShadow)
    }
}
