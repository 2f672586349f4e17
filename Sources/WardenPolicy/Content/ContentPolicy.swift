import PCRE2
import SMTPCore
import Synchronization

/// The content stage (DESIGN.md section 1 step 10): the content rules of a rule set run over a
/// complete message; their scores add to the session's score so far and the rule set's
/// thresholds and actions decide. Thread-safe: each scan borrows a regex matcher of its own.
public final class ContentPolicy: Sendable {
    public let rules: ContentRules
    public let ruleSet: RuleSet
    private let matchers = Mutex<[MatcherBox]>([])

    /// Nil when the rule set has no content rules.
    public init?(ruleSet: RuleSet) {
        guard let rules = ruleSet.content, !rules.isEmpty else { return nil }
        self.rules = rules
        self.ruleSet = ruleSet
    }

    /// Bytes of a message that are scanned (`scan_size`).
    public var scanBytes: Int { ruleSet.scanBytes }

    /// Scans the first `scanBytes` of `message`.
    public func scan(_ message: [UInt8], envelopeFrom: String?, sessionHits: [String: Int] = [:]) -> ContentResult {
        let input = ContentInput(bytes: message, envelopeFrom: envelopeFrom, maxBytes: scanBytes, for: rules)
        let box = matchers.withLock { $0.popLast() } ?? MatcherBox()
        defer { matchers.withLock { if $0.count < 64 { $0.append(box) } } }
        return rules.scan(input, sessionHits: sessionHits, matcher: box.matcher)
    }

    /// The verdict for a scanned message: rule actions first, then the reject and tempfail
    /// thresholds on the session's score plus the content score. Shadow rules (and the global
    /// shadow switch) decide only what would have happened.
    public func decide(_ result: ContentResult, facts: SessionFacts) -> Decision {
        let hits = result.hits.map { hit in
            (hit.rule, PolicyHit(rule: hit.rule.name, score: hit.score, evidence: hit.evidence, shadow: hit.rule.shadow || ruleSet.shadow))
        }
        func outcome(_ counted: [(Rule, PolicyHit)]) -> (Verdict, Rule?, Double) {
            StageOutcome.decide(
                counted, sessionScore: facts.score, rejectThreshold: ruleSet.rejectThreshold, tempfailThreshold: ruleSet.tempfailThreshold)
        }
        let applied = outcome(hits.filter { !$0.1.shadow })
        let full = outcome(hits)
        var decision = Decision(verdict: applied.0, score: applied.2, hits: hits.map(\.1))
        if full.0.refuses, ClientPolicy.severity(full.0) > ClientPolicy.severity(applied.0) { decision.wouldHave = full.0 }
        guard applied.0.refuses else { return decision }
        let total = ClientPolicy.rounded(facts.score + applied.2)
        let reason: String
        if let rule = applied.1 {
            reason = rule.summary.flatMap { $0.isEmpty ? nil : $0 } ?? rule.name
        } else {
            let names = hits.filter { !$0.1.shadow && $0.1.score != 0 }.map(\.0.name).joined(separator: ", ")
            reason = "Message refused: score \(TagHeaders.format(total)) (\(names))"
        }
        decision.reply = StageOutcome.reply(applied.0, reason)
        return decision
    }

    /// The fields to add to a message that passes, for its total score and rules that hit.
    public func tagFields(_ result: ContentResult, facts: SessionFacts) -> [(name: String, value: String)] {
        // The client rules that counted are named too: their scores are in the total. Sorted by
        // name, as SpamAssassin lists them.
        let names = (facts.ruleHits.keys.filter { !$0.hasPrefix("__") }
            + result.hits.filter { !$0.rule.isSubRule && !$0.rule.shadow }.map(\.rule.name)).sorted()
        let content = result.hits.filter { !$0.rule.shadow }.reduce(0) { $0 + $1.score }
        return ruleSet.tagging.fields(score: ClientPolicy.rounded(facts.score + content), rules: names)
    }
}

/// A matcher kept between scans; used by one scan at a time.
private final class MatcherBox: @unchecked Sendable {
    let matcher = RegexMatcher()
}
