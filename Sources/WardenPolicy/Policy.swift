/// The checks of a running configuration, asked in order at each stage. Scores add up; the first
/// check that refuses ends the stage, and so does an `accept` (an allowlist hit skips the rest).
/// Relay control stands before all of them: no allowlist, score or shadow mode can open a relay.
/// The client rules (lists, DNS lists, GeoIP, HELO) are decided once per session; the session
/// asks `client` where it needs that decision (DESIGN.md section 3: at RCPT by default).
public struct Policy: Sendable {
    public let relayControl: RelayControl?
    public let client: ClientPolicy?
    /// The `ratelimit` and `bulk` rules; the session asks them at each stage they guard.
    public let limits: RateLimiter?
    /// The content rules, asked at the end of DATA.
    public let content: ContentPolicy?
    public let checks: [any PolicyCheck]

    public init(
        relayControl: RelayControl?, client: ClientPolicy? = nil, limits: RateLimiter? = nil, content: ContentPolicy? = nil,
        checks: [any PolicyCheck] = []
    ) {
        self.relayControl = relayControl
        self.client = client.flatMap { $0.isEmpty ? nil : $0 }
        self.limits = limits.flatMap { $0.isEmpty ? nil : $0 }
        self.content = content
        self.checks = checks
    }

    /// The client decision, at once when it is made already or every lookup has its answer.
    public func clientDecision(_ facts: SessionFacts, atGreeting: Bool) -> PolicyAnswer {
        guard let client, let lookups = facts.lookups else { return .now(.pass) }
        if let decision = client.decideNow(lookups, facts: facts, atGreeting: atGreeting) { return .now(decision) }
        return .later { await client.decide(lookups, facts: facts, atGreeting: atGreeting) }
    }

    public func evaluate(_ query: PolicyQuery) -> PolicyAnswer {
        if let relayControl, case .now(let decision) = relayControl.evaluate(query), decision.verdict.refuses {
            return .now(decision)
        }
        var combined = Decision.pass
        for (index, check) in checks.enumerated() {
            switch check.evaluate(query) {
            case .now(let decision):
                if Policy.merge(decision, into: &combined) { return .now(combined) }
            case .later(let wait):
                let rest = Array(checks[(index + 1)...])
                let soFar = combined
                return .later {
                    var combined = soFar
                    if Policy.merge(await wait(), into: &combined) { return combined }
                    for check in rest {
                        let decision: Decision
                        switch check.evaluate(query) {
                        case .now(let ready): decision = ready
                        case .later(let waitMore): decision = await waitMore()
                        }
                        if Policy.merge(decision, into: &combined) { return combined }
                    }
                    return combined
                }
            }
        }
        return .now(combined)
    }

    /// Adds `decision` to `combined`; returns true when the stage is decided.
    static func merge(_ decision: Decision, into combined: inout Decision) -> Bool {
        combined.score += decision.score
        combined.hits += decision.hits
        guard decision.verdict != .continue else { return false }
        combined.verdict = decision.verdict
        combined.reply = decision.reply
        return true
    }
}
