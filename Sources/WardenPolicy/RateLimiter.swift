import Foundation
import SMTPCore

/// Runs the `ratelimit` and `bulk` rules against a counter store. Limits are checked before the
/// event they guard (a client over its message limit is refused at MAIL, over its recipient
/// limit at RCPT) and counted when the upstream accepted what they count, so refused attempts
/// never use up a user's allowance. Connections are counted as they come.
public struct RateLimiter: Sendable {
    public enum Stage: Sendable { case connect, mail, rcpt, dataEnd }

    public let rules: [Rule]
    let store: any CounterStore

    public init(rules: RuleSet, store: any CounterStore) {
        self.rules = rules.limitRules
        self.store = store
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

    /// Checks the limits that guard `stage`; `recipient` at RCPT, `size` at the end of data.
    public func check(_ stage: Stage, facts: SessionFacts, recipient: String? = nil, size: Int = 0) async -> Decision {
        var hits: [(Rule, PolicyHit)] = []
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
                    count = Double(try await store.distinctCount(storeKey, window: window, now: nil)) + 1
                case (.dataEnd, .bytes):
                    count = try await store.count(storeKey, window: window, now: nil) + Double(size)
                default:
                    count = try await store.count(storeKey, window: window, now: nil) + 1
                }
            } catch {
                continue  // the store's own fallback failed too: never refuse valid mail for it
            }
            if count > Double(limit.limit) {
                let evidence = "\(limit.key.map(\.name).joined(separator: "+"))=\(key) \(limit.counted.rawValue) \(Self.format(count)) over \(limit.limit)/\(Self.period(limit.windowSeconds))"
                hits.append((rule, PolicyHit(rule: rule.name, score: rule.score, evidence: evidence, shadow: rule.shadow)))
            }
        }
        return Self.decide(hits, reason: "Rate limit exceeded")
    }

    /// Counts what the upstream accepted: a recipient at RCPT, a message at the end of data.
    public func recordRecipient(_ recipient: String, facts: SessionFacts) async {
        for rule in rules {
            guard case .rate(let limit) = rule.test, limit.scope.applies(to: facts),
                [.recipients, .distinctRecipients].contains(limit.counted),
                let key = limit.key.value(for: facts, recipient: recipient)
            else { continue }
            let storeKey = "\(rule.name):\(key)"
            let window = Duration.seconds(limit.windowSeconds)
            if limit.counted == .recipients {
                _ = try? await store.add(storeKey, amount: 1, window: window, now: nil)
            } else {
                _ = try? await store.addDistinct(storeKey, member: recipient.lowercased(), window: window, now: nil)
            }
        }
    }

    public func recordMessage(size: Int, recipients: [String], facts: SessionFacts) async {
        for rule in rules {
            guard case .rate(let limit) = rule.test, limit.scope.applies(to: facts), [.messages, .bytes].contains(limit.counted) else { continue }
            let amount = limit.counted == .messages ? 1 : size
            let keys = limit.key.perRecipient
                ? Set(recipients.compactMap { limit.key.value(for: facts, recipient: $0) })
                : Set([limit.key.value(for: facts)].compactMap { $0 })
            for key in keys {
                _ = try? await store.add("\(rule.name):\(key)", amount: amount, window: .seconds(limit.windowSeconds), now: nil)
            }
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
                hits.append((rule, PolicyHit(rule: rule.name, score: rule.score, evidence: evidence, shadow: rule.shadow)))
            }
        }
        return Self.decide(hits, reason: "Too many copies of this message")
    }

    /// The current count of every `ratelimit` rule whose key these facts give, for `warden lookup`.
    public func counters(facts: SessionFacts, recipient: String? = nil) async -> [String] {
        var lines: [String] = []
        for rule in rules {
            guard case .rate(let limit) = rule.test else { continue }
            let keyName = limit.key.map(\.name).joined(separator: "+")
            guard let key = limit.key.value(for: facts, recipient: recipient) else {
                lines.append("\(rule.name): \(keyName) not given")
                continue
            }
            let storeKey = "\(rule.name):\(key)"
            let window = Duration.seconds(limit.windowSeconds)
            let count: Double? =
                limit.counted == .distinctRecipients
                ? (try? await store.distinctCount(storeKey, window: window, now: nil)).map(Double.init)
                : try? await store.count(storeKey, window: window, now: nil)
            let shown = count.map(Self.format) ?? "unavailable"
            let scope = limit.scope.applies(to: facts) ? "" : " (exempt or out of scope here)"
            lines.append("\(rule.name): \(keyName)=\(key) \(limit.counted.rawValue) \(shown) of \(limit.limit)/\(Self.period(limit.windowSeconds))\(scope)")
        }
        return lines
    }

    /// Which limits guard a stage: connections at connect; messages and bytes at MAIL (unless
    /// they count per recipient: then at RCPT); recipients at RCPT; bytes again at the end.
    func guards(_ limit: RateLimit, _ stage: Stage) -> Bool {
        switch (stage, limit.counted) {
        case (.connect, .connections): return true
        case (.mail, .messages), (.mail, .bytes): return !limit.key.perRecipient
        case (.rcpt, .messages), (.rcpt, .bytes): return limit.key.perRecipient
        case (.rcpt, .recipients), (.rcpt, .distinctRecipients): return true
        case (.dataEnd, .bytes): return true
        default: return false
        }
    }

    static func decide(_ hits: [(Rule, PolicyHit)], reason: String) -> Decision {
        var decision = Decision(verdict: .continue, score: ClientPolicy.rounded(hits.filter { !$0.1.shadow }.reduce(0) { $0 + $1.1.score }), hits: hits.map(\.1))
        let applied = hits.filter { !$0.1.shadow }
        let strongest = { (list: [(Rule, PolicyHit)]) -> (Rule, Verdict)? in
            list.compactMap { rule, _ in rule.action.map { (rule, $0.verdict) } }.max { ClientPolicy.severity($0.1) < ClientPolicy.severity($1.1) }
        }
        if let (rule, verdict) = strongest(applied), verdict.refuses {
            decision.verdict = verdict
            let text = "\(reason): \(rule.summary ?? rule.name)"
            switch verdict {
            case .tempfail: decision.reply = SMTPReply(451, EnhancedStatusCode(4, 7, 1), "\(text); try again later")
            case .disconnect: decision.reply = SMTPReply(421, EnhancedStatusCode(4, 7, 0), text)
            case .reject: decision.reply = SMTPReply(550, EnhancedStatusCode(5, 7, 1), text)
            case .accept, .continue: break
            }
        } else if let (_, verdict) = strongest(hits), verdict.refuses {
            decision.wouldHave = verdict
        }
        return decision
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }

    static func period(_ seconds: Int) -> String {
        if seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
