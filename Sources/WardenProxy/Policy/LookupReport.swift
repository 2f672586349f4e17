import SMTPCore
import WardenPolicy

/// The other parts of a rate-limit key `warden lookup` can be asked about.
public struct CounterQuery: Sendable {
    public var user: String?
    public var sender: String?
    public var recipient: String?
    public var listener: String?

    public init(user: String? = nil, sender: String? = nil, recipient: String? = nil, listener: String? = nil) {
        self.user = user
        self.sender = sender
        self.recipient = recipient
        self.listener = listener
    }
}

/// What `warden lookup IP` prints: everything the connect stage knows about one address and
/// the verdict it would reach.
public enum LookupReport {
    public static func make(address: IPAddress, helo: String?, policy: Policy, counterFacts: CounterQuery = CounterQuery()) async -> String {
        var lines = ["\(address)"]
        if let limits = policy.limits {
            var facts = SessionFacts(
                sessionID: "lookup", listener: counterFacts.listener ?? "lookup", clientAddress: address, clientPort: 0, helo: helo,
                authenticatedUser: counterFacts.user)
            if let sender = counterFacts.sender {
                let parts = sender.split(separator: "@", maxSplits: 1).map(String.init)
                facts.sender = MailCommand(reversePath: parts.count == 2 ? Mailbox(localPart: parts[0], domain: parts[1]) : nil)
            }
            section(&lines, "rate counters", await limits.counters(facts: facts, recipient: counterFacts.recipient))
        }
        guard let client = policy.client else {
            lines.append("  no client rules are loaded (Rules/ has none)")
            return lines.joined(separator: "\n")
        }
        var facts = SessionFacts(sessionID: "lookup", listener: "lookup", clientAddress: address, clientPort: 0, helo: helo)
        let lookups = client.startLookups(for: address)
        facts.lookups = lookups
        let rules = client.rules.rules
        var listLines: [String] = []
        for rule in rules {
            guard case .client(.list(let list, let file)) = rule.test else { continue }
            if let match = list.lookup(address) {
                listLines.append("\(rule.name): \(file):\(match.line) \(match.network)\(Self.effect(rule))")
            } else {
                listLines.append("\(rule.name): not in \(file)")
            }
        }
        section(&lines, "lists", listLines)
        var zoneLines: [String] = []
        var seen: Set<String> = []
        for rule in rules {
            guard case .client(.dnsList(let zone, let filter)) = rule.test else { continue }
            let answer = await lookups.answer(for: zone)
            if seen.insert(zone).inserted { zoneLines.append("\(zone): \(answer?.summary ?? "not asked")") }
            if case .listed(let answers)? = answer, answers.contains(where: filter.matches) {
                zoneLines.append("  \(rule.name) (\(filter)) hits\(Self.effect(rule))")
            }
        }
        section(&lines, "dns lists", zoneLines)
        section(&lines, "geoip", [client.geoInfo(for: address)?.summary ?? "no GeoIP data (no [geoip] databases, or the address is in none)"])
        if let reverse = await lookups.reverseDNS() {
            let names = reverse.names.isEmpty ? "no PTR" : reverse.names.joined(separator: ", ")
            section(&lines, "reverse dns", ["\(names); forward-confirmed: \(reverse.verifiedName ?? "none")" + (reverse.failure.map { " (\($0))" } ?? "")])
        }
        let decision = await client.decide(lookups, facts: facts, atGreeting: client.rules.refusalPoint == .greeting)
        section(&lines, "rules hit", decision.hits.map { "\($0.rule) score \($0.score)\($0.shadow ? " (shadow)" : ""): \($0.evidence)" })
        var verdict = "\(decision.verdict.rawValue), score \(decision.score)"
        if let reply = decision.refusalReply(reference: "lookup") { verdict += ": \(reply)" }
        if let wouldHave = decision.wouldHave { verdict += " (shadow mode: would have been \(wouldHave.rawValue))" }
        verdict += client.rules.refusalPoint == .greeting ? " [answered at the greeting]" : " [answered at RCPT]"
        section(&lines, "verdict", [verdict])
        return lines.joined(separator: "\n")
    }

    static func effect(_ rule: Rule) -> String {
        var parts: [String] = []
        if let action = rule.action { parts.append("action \(action.rawValue)") } else { parts.append("score \(rule.score)") }
        if rule.shadow { parts.append("shadow") }
        return " (" + parts.joined(separator: ", ") + ")"
    }

    static func section(_ lines: inout [String], _ title: String, _ items: [String]) {
        lines.append("  \(title):")
        if items.isEmpty { lines.append("    none") }
        for item in items { lines.append("    \(item)") }
    }
}
