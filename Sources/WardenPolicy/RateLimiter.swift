import SMTPCore

/// Runs the `ratelimit` and `bulk` rules against a counter store. Limits are checked before the
/// event they guard (a client over its message limit is refused at MAIL, over its recipient
/// limit at RCPT) and the event is counted at once, as a reservation, so that parallel sessions
/// cannot all pass a check before any of them is counted; a reservation is given back when the
/// event does not happen (the upstream refused it, the client gave up), so refused attempts
/// never use up a user's allowance. Connections are counted as they come.
public struct RateLimiter: Sendable {
    public enum Stage: Sendable { case connect, mail, rcpt, dataEnd }

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
    let globalShadow: Bool
    let tempfailThreshold: Double?
    let rejectThreshold: Double?

    public init(rules: RuleSet, store: any CounterStore) {
        self.rules = rules.limitRules
        self.store = store
        self.globalShadow = rules.shadow
        self.tempfailThreshold = rules.tempfailThreshold
        self.rejectThreshold = rules.rejectThreshold
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// Whether any rule guards `stage`: when none does, the session need not wait for the store.
    public func guards(_ stage: Stage) -> Bool {
        rules.contains { rule in
            if case .rate(let limit) = rule.test { return guards(limit, stage) }
            return false
        }
    }

    public var hasBulkRules: Bool {
        rules.contains { if case .bulk = $0.test { return true } else { return false } }
    }

    /// Checks the limits that guard `stage` (`recipient` at RCPT, `size` at the end of data) and
    /// counts the event ahead; a refused event gives its counts back at once.
    public func check(_ stage: Stage, facts: SessionFacts, recipient: String? = nil, size: Int = 0) async -> Outcome {
        var hits: [(Rule, PolicyHit)] = []
        var taken: [Reservation] = []
        for rule in rules {
            guard case .rate(let limit) = rule.test, limit.scope.applies(to: facts), guards(limit, stage) else { continue }
            guard let key = limit.key.value(for: facts, recipient: recipient) else { continue }
            let storeKey = "\(rule.name):\(key)"
            let window = Duration.seconds(limit.windowSeconds)
            let count: Double
            do {
                switch (stage, limit.counted) {
                case (.connect, .connections):
                    count = try await store.add(storeKey, amount: 1, window: window, now: nil)
                case (_, .distinctRecipients):
                    // A set: a recipient already in it changes nothing.
                    count = Double(try await store.addDistinct(storeKey, member: (recipient ?? "").lowercased(), window: window, now: nil))
                case (.mail, .bytes):
                    // The size is not known yet: refuse only a key that is over already.
                    let now = try await store.count(storeKey, window: window, now: nil)
                    count = now >= Double(limit.limit) ? now + 1 : now
                default:
                    let amount = limit.counted == .bytes ? size : 1
                    count = try await store.add(storeKey, amount: amount, window: window, now: nil)
                    taken.append(Reservation(
                        key: storeKey, amount: amount, windowSeconds: limit.windowSeconds,
                        until: limit.counted == .recipients ? .recipientAccepted : .messageAccepted))
                }
            } catch {
                continue  // the store's own fallback failed too: never refuse valid mail for it
            }
            if count > Double(limit.limit) { hits.append(hit(rule, limit, key, count)) }
        }
        let decision = decide(hits, facts: facts, reason: "Rate limit exceeded")
        if decision.verdict.refuses, !taken.isEmpty {
            await release(taken)
            taken = []
        }
        return Outcome(decision: decision, reservations: taken)
    }

    /// Gives back counts taken for an event that did not happen.
    public func release(_ reservations: [Reservation]) async {
        for reservation in reservations {
            _ = try? await store.add(reservation.key, amount: -reservation.amount, window: .seconds(reservation.windowSeconds), now: nil)
        }
    }

    /// Duplicate bulk: adds the recipients to the set of those who got this body from this key,
    /// and refuses when the set has grown past the limit.
    public func checkBulk(fingerprint: BodyFingerprint, recipients: [String], facts: SessionFacts) async -> Decision {
        var hits: [(Rule, PolicyHit)] = []
        for rule in rules {
            guard case .bulk(let limit) = rule.test, limit.scope.applies(to: facts), let key = limit.key.value(for: facts) else { continue }
            // One distinct-recipient set per LSH band key; the message counts as the largest, so a
            // personalised copy that shares any band with the others is counted with them.
            var count = 0
            for band in fingerprint.keys {
                for recipient in recipients {
                    let seen = try? await store.addDistinct(
                        "\(rule.name):\(key):\(band)", member: recipient.lowercased(), window: .seconds(limit.windowSeconds), now: nil)
                    count = max(count, seen ?? 0)
                }
            }
            if count > limit.limit {
                let evidence = "\(limit.key.map(\.name).joined(separator: "+"))=\(key) body \(fingerprint.key) to \(count) recipients, over \(limit.limit)/\(Self.period(limit.windowSeconds))"
                hits.append((rule, PolicyHit(rule: rule.name, score: rule.score, evidence: evidence, shadow: rule.shadow || globalShadow)))
            }
        }
        return decide(hits, facts: facts, reason: "Too many copies of this message")
    }

    private func hit(_ rule: Rule, _ limit: RateLimit, _ key: String, _ count: Double) -> (Rule, PolicyHit) {
        let evidence = "\(limit.key.map(\.name).joined(separator: "+"))=\(key) \(limit.counted.rawValue) \(Self.format(count)) over \(limit.limit)/\(Self.period(limit.windowSeconds))"
        return (rule, PolicyHit(rule: rule.name, score: rule.score, evidence: evidence, shadow: rule.shadow || globalShadow))
    }
}
