import SMTPCore

/// Refuses recipients outside the accepted domains unless the client may relay: it is
/// authenticated or its address is in the trusted networks. Warden is never an open relay,
/// whatever the upstream trusts (DESIGN.md section 1, step 8).
///
/// Addresses that ask for routing are refused for clients that may not relay, because an
/// upstream may honour them: the percent hack (`user%other@local`), bang paths
/// (`other!user@local`), a quoted local part holding `@`, and source routes (`@local:user@other`).
/// Address literals (`user@[192.0.2.1]`) are never an accepted domain.
public struct RelayControl: PolicyCheck {
    public let name = "relay_control"
    public let acceptedDomains: Set<String>
    public let trustedNetworks: NetworkSet

    public init(acceptedDomains: [String], trustedNetworks: NetworkSet) {
        self.acceptedDomains = Set(acceptedDomains.map { RelayControl.canonicalDomain($0) })
        self.trustedNetworks = trustedNetworks
    }

    public func evaluate(_ query: PolicyQuery) -> PolicyAnswer {
        guard query.stage == .rcpt, let recipient = query.recipient else { return .now(.pass) }
        if query.facts.authenticatedUser != nil { return .now(.pass) }
        if let address = query.facts.clientAddress, trustedNetworks.contains(address) { return .now(.pass) }
        guard case .mailbox(let mailbox) = recipient.forwardPath else { return .now(.pass) }
        if let reason = refusalReason(mailbox, sourceRoute: recipient.sourceRoute) {
            let reply = SMTPReply(554, EnhancedStatusCode(5, 7, 1), "<\(mailbox)>: Relay access denied")
            return .now(Decision(verdict: .reject, reply: reply, hits: [PolicyHit(rule: name, evidence: reason)]))
        }
        return .now(.pass)
    }

    func refusalReason(_ mailbox: Mailbox, sourceRoute: [String]) -> String? {
        if !sourceRoute.isEmpty { return "source route @\(sourceRoute.joined(separator: ",@"))" }
        if mailbox.isAddressLiteral { return "address literal \(mailbox.domain)" }
        let domain = RelayControl.canonicalDomain(mailbox.domain)
        guard acceptedDomains.contains(domain) else { return "domain \(domain) is not accepted" }
        // Byte tests (`String.contains(String)` goes through Foundation, per recipient).
        let local = mailbox.localPart.utf8
        if local.contains(UInt8(ascii: "%")) { return "percent hack in local part" }
        if local.contains(UInt8(ascii: "!")) { return "bang path in local part" }
        if local.contains(UInt8(ascii: "@")) { return "@ in quoted local part" }
        return nil
    }

    static func canonicalDomain(_ domain: String) -> String {
        domain.lowercased()
    }
}
