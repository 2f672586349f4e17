import Foundation
import SMTPCore

extension RateLimiter {
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
    static func guards(_ limit: RateLimit, _ stage: Stage) -> Bool {
        switch (stage, limit.counted) {
        case (.connect, .connections): return true
        case (.mail, .messages), (.mail, .bytes): return !limit.key.perRecipient
        case (.rcpt, .messages), (.rcpt, .bytes): return limit.key.perRecipient
        case (.rcpt, .recipients), (.rcpt, .distinctRecipients): return true
        case (.dataEnd, .bytes): return true
        default: return false
        }
    }

    /// Actions decide first; scored limits add to the session's score so far (its client rules)
    /// and meet the rule set's thresholds. Shadow hits decide only what would have happened.
    func decide(_ hits: [(Rule, PolicyHit)], facts: SessionFacts, reason: String) -> Decision {
        func outcome(_ counted: [(Rule, PolicyHit)]) -> (Verdict, Rule?, Double) {
            StageOutcome.decide(counted, sessionScore: facts.score, rejectThreshold: rejectThreshold, tempfailThreshold: tempfailThreshold)
        }
        let applied = outcome(hits.filter { !$0.1.shadow })
        let full = outcome(hits)
        var decision = Decision(verdict: applied.0, score: applied.2, hits: hits.map(\.1))
        if full.0.refuses, ClientPolicy.severity(full.0) > ClientPolicy.severity(applied.0) { decision.wouldHave = full.0 }
        guard applied.0.refuses else { return decision }
        let names = hits.filter { !$0.1.shadow }.map(\.0.name).joined(separator: ", ")
        let text =
            applied.1.map { "\(reason): \($0.summary.flatMap { $0.isEmpty ? nil : $0 } ?? $0.name)" }
            ?? "\(reason): score \(Self.format(ClientPolicy.rounded(facts.score + applied.2))) (\(names))"
        decision.reply = StageOutcome.reply(applied.0, text)
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
