import SMTPCore

/// How a later stage (rate limits, content) turns its hits into a verdict: a rule's own refusing
/// action decides first; otherwise, when the stage added to the score, the session's score so
/// far plus the stage's meets the reject and tempfail thresholds.
enum StageOutcome {
    static func decide(
        _ counted: [(Rule, PolicyHit)], sessionScore: Double, rejectThreshold: Double?, tempfailThreshold: Double?
    ) -> (verdict: Verdict, decisive: Rule?, score: Double) {
        let score = ClientPolicy.rounded(counted.reduce(0) { $0 + $1.1.score })
        var verdict: Verdict = .continue
        var decisive: Rule?
        for (rule, _) in counted {
            guard let action = rule.action?.verdict, action.refuses, ClientPolicy.severity(action) > ClientPolicy.severity(verdict) else { continue }
            verdict = action
            decisive = rule
        }
        let total = ClientPolicy.rounded(sessionScore + score)
        if verdict == .continue, score != 0 {
            if let threshold = rejectThreshold, total >= threshold {
                verdict = .reject
            } else if let threshold = tempfailThreshold, total >= threshold {
                verdict = .tempfail
            }
        }
        return (verdict, decisive, score)
    }

    /// The reply for a refusing verdict with `text` (`451` asks to try later); nil otherwise.
    static func reply(_ verdict: Verdict, _ text: String) -> SMTPReply? {
        switch verdict {
        case .tempfail: SMTPReply(451, EnhancedStatusCode(4, 7, 1), "\(text); try again later")
        case .disconnect: SMTPReply(421, EnhancedStatusCode(4, 7, 0), text)
        case .reject: SMTPReply(550, EnhancedStatusCode(5, 7, 1), text)
        case .accept, .continue: nil
        }
    }
}
