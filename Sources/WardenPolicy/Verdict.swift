import SMTPCore

/// What a check decides at one stage; the vocabulary is Haraka's, made into a type.
public enum Verdict: String, Sendable, Hashable {
    /// No opinion: the next check runs.
    case `continue`
    /// Skip the remaining checks of this stage (an allowlist hit).
    case accept
    /// Try later: `451 4.7.1`.
    case tempfail
    /// Refuse this command: `550 5.7.1`.
    case reject
    /// Close the session: `421 4.7.0`.
    case disconnect

    /// Whether this verdict refuses something (the reply then carries a decision reference).
    public var refuses: Bool {
        switch self {
        case .continue, .accept: return false
        case .tempfail, .reject, .disconnect: return true
        }
    }

    /// The reply Warden writes for this verdict when a check supplies none (DESIGN.md section 3).
    public var defaultReply: SMTPReply? {
        switch self {
        case .continue, .accept: return nil
        case .tempfail: return SMTPReply(451, EnhancedStatusCode(4, 7, 1), "Try again later")
        case .reject: return SMTPReply(550, EnhancedStatusCode(5, 7, 1), "Refused by policy")
        case .disconnect: return SMTPReply(421, EnhancedStatusCode(4, 7, 0), "Closing connection")
        }
    }
}

/// One reason a check gave, kept for the log line that explains a decision.
public struct PolicyHit: Sendable, Hashable {
    public var rule: String
    public var score: Double
    public var evidence: String
    /// The rule runs in shadow mode: logged and counted, not applied.
    public var shadow: Bool

    public init(rule: String, score: Double = 0, evidence: String, shadow: Bool = false) {
        self.rule = rule
        self.score = score
        self.evidence = evidence
        self.shadow = shadow
    }
}

/// The outcome of asking the policy at one stage.
public struct Decision: Sendable, Hashable {
    public var verdict: Verdict
    /// The reply to send for a refusal; `nil` uses the verdict's default.
    public var reply: SMTPReply?
    public var score: Double
    public var hits: [PolicyHit]
    /// What the decision would have been without shadow mode (a rule's or the global switch),
    /// when that refuses and `verdict` does not.
    public var wouldHave: Verdict?
    /// A connect-stage refusal to answer instead of the greeting (`reject_at greeting`).
    public var atGreeting = false
    /// DNS lists that failed or answered an error code, zone to what happened: logged and
    /// counted, never listings.
    public var listErrors: [String: String] = [:]

    public init(verdict: Verdict, reply: SMTPReply? = nil, score: Double = 0, hits: [PolicyHit] = [], wouldHave: Verdict? = nil) {
        self.verdict = verdict
        self.reply = reply
        self.score = score
        self.hits = hits
        self.wouldHave = wouldHave
    }

    public static let pass = Decision(verdict: .continue)

    /// The reply for a refusing decision, with the decision reference appended to its last line.
    public func refusalReply(reference: String) -> SMTPReply? {
        guard verdict.refuses, var reply = reply ?? verdict.defaultReply else { return nil }
        reply.lines[reply.lines.count - 1] += " [ref=\(reference)]"
        return reply
    }
}
