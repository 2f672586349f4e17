import Foundation
import SMTPCore
import WardenPolicy

/// What `warden scan FILE.eml` finds: the whole policy run offline on one message, as a
/// session would run it (the client rules when a client address is given, relay control for
/// the recipients, then the content rules), with each rule that hit, like `spamassassin -t`.
/// Rate limits are not counted: their counters belong to the running Warden.
public struct ScanReport: Sendable {
    public struct Line: Sendable {
        public var stage: String
        public var rule: String
        public var score: Double
        public var count: Int
        public var summary: String
        public var evidence: String
        public var shadow: Bool
    }

    public var lines: [Line] = []
    public var score: Double = 0
    public var verdict = "pass"
    public var reply: String?
    public var fields: [(name: String, value: String)] = []
    public var result = ContentResult()
    public var rulesLoaded = 0

    public struct Envelope: Sendable {
        public var clientIP: IPAddress?
        public var helo: String?
        public var from: String?
        public var to: [String]

        public init(clientIP: IPAddress? = nil, helo: String? = nil, from: String? = nil, to: [String] = []) {
            self.clientIP = clientIP
            self.helo = helo
            self.from = from
            self.to = to
        }
    }

    public static func make(message: [UInt8], envelope: Envelope, policy: Policy) async -> ScanReport {
        var report = ScanReport()
        var facts = SessionFacts(sessionID: "scan", listener: "scan", clientAddress: envelope.clientIP, clientPort: 0, helo: envelope.helo)
        if let from = envelope.from {
            let parts = from.split(separator: "@", maxSplits: 1).map(String.init)
            facts.sender = MailCommand(reversePath: parts.count == 2 ? Mailbox(localPart: parts[0], domain: parts[1]) : nil)
        }
        if let client = policy.client, let address = envelope.clientIP {
            let lookups = client.startLookups(for: address)
            facts.lookups = lookups
            let decision = await client.decide(lookups, facts: facts, atGreeting: false)
            report.add(decision, stage: "client", rules: client.rules)
            facts.score = decision.score
            facts.ruleHits = Dictionary(decision.hits.filter { !$0.shadow }.map { ($0.rule, 1) }, uniquingKeysWith: { $0 + $1 })
            if decision.verdict.refuses { return report.refused(decision) }
        }
        if let relay = policy.relayControl {
            for recipient in envelope.to {
                let parts = recipient.split(separator: "@", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                let rcpt = RcptCommand(forwardPath: .mailbox(Mailbox(localPart: parts[0], domain: parts[1])))
                if case .now(let decision) = relay.evaluate(PolicyQuery(stage: .rcpt, facts: facts, recipient: rcpt)), decision.verdict.refuses {
                    report.verdict = decision.verdict.rawValue
                    report.reply = decision.reply?.description
                    return report
                }
            }
        }
        guard let content = policy.content else {
            report.score = facts.score
            return report
        }
        report.rulesLoaded = content.rules.count
        let result = content.scan(message, envelopeFrom: envelope.from, sessionHits: facts.ruleHits)
        report.result = result
        let decision = content.decide(result, facts: facts)
        let summaries = Dictionary(result.hits.map { ($0.rule.name, $0) }, uniquingKeysWith: { first, _ in first })
        for hit in decision.hits {
            let counted = summaries[hit.rule]
            report.lines.append(Line(
                stage: "content", rule: hit.rule, score: hit.score, count: counted?.count ?? 1,
                summary: counted?.rule.summary ?? "", evidence: hit.evidence, shadow: hit.shadow))
        }
        report.score = ClientPolicy.rounded(facts.score + decision.score)
        if decision.verdict.refuses { return report.refused(decision) }
        report.fields = content.tagFields(result, facts: facts)
        return report
    }

    private mutating func add(_ decision: Decision, stage: String, rules: RuleSet) {
        for hit in decision.hits {
            let rule = rules.rules.first { $0.name == hit.rule }
            lines.append(Line(stage: stage, rule: hit.rule, score: hit.score, count: 1, summary: rule?.summary ?? "", evidence: hit.evidence, shadow: hit.shadow))
        }
        score = decision.score
    }

    private func refused(_ decision: Decision) -> ScanReport {
        var report = self
        report.verdict = decision.verdict.rawValue
        report.reply = (decision.reply ?? decision.verdict.defaultReply)?.description
        return report
    }

    /// The report as `spamassassin -t` shows its analysis.
    public var text: String {
        var out = ["Content analysis details:   (\(TagHeaders.format(score)) points)", "", " pts rule name              description",
                   "---- ---------------------- --------------------------------------------------"]
        for line in lines where !line.rule.hasPrefix("__") {
            let points = TagHeaders.format(line.score)
            let name = line.rule.padding(toLength: max(22, line.rule.count), withPad: " ", startingAt: 0)
            let times = line.count > 1 ? " (\(line.count) times)" : ""
            let shadow = line.shadow ? " [shadow]" : ""
            out.append("\(String(repeating: " ", count: max(0, 4 - points.count)))\(points) \(name) \(line.summary.isEmpty ? line.stage : line.summary)\(times)\(shadow)")
            out.append("                            \(line.evidence)")
        }
        let subrules = lines.filter { $0.rule.hasPrefix("__") }.map(\.rule)
        if !subrules.isEmpty { out.append("sub-rules hit: \(subrules.joined(separator: ", "))") }
        if !result.ruleErrors.isEmpty { out.append("rules stopped by the match limits: \(result.ruleErrors.joined(separator: ", "))") }
        if !result.problems.isEmpty { out.append("MIME problems: \(Array(Set(result.problems)).sorted().joined(separator: ", "))") }
        out.append("")
        out.append("verdict: \(verdict)\(reply.map { " (\($0))" } ?? "")")
        for field in fields { out.append("adds: \(field.name): \(field.value)") }
        return out.joined(separator: "\n")
    }

    /// The report as JSON, for scripts and the differential tests.
    public var json: String {
        let hits: [[String: Any]] = lines.map {
            ["stage": $0.stage, "rule": $0.rule, "score": $0.score, "count": $0.count, "description": $0.summary, "evidence": $0.evidence, "shadow": $0.shadow]
        }
        var object: [String: Any] = [
            "score": score, "verdict": verdict, "hits": hits, "rule_errors": result.ruleErrors, "problems": result.problems,
            "headers": fields.map { ["name": $0.name, "value": $0.value] }, "scanned_bytes": result.scannedBytes,
        ]
        if let reply { object["reply"] = reply }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
