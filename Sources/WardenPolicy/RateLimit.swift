/// What a rate-limit or bulk rule counts per: one part or several joined (`user+recipient_domain`).
public enum RateKeyPart: Sendable, Hashable {
    case clientAddress
    /// The client's network: IPv4 and IPv6 prefix lengths (`client_net/24/64`).
    case clientNetwork(v4: Int, v6: Int)
    case helo
    case sender
    case senderDomain
    case user
    case recipient
    case recipientDomain

    var name: String {
        switch self {
        case .clientAddress: return "client_ip"
        case .clientNetwork(let v4, let v6): return "client_net/\(v4)/\(v6)"
        case .helo: return "helo"
        case .sender: return "sender"
        case .senderDomain: return "sender_domain"
        case .user: return "user"
        case .recipient: return "recipient"
        case .recipientDomain: return "recipient_domain"
        }
    }

    /// Needs a recipient: the rule counts per RCPT.
    var perRecipient: Bool { self == .recipient || self == .recipientDomain }
}

/// What a rate-limit rule counts. Stated explicitly so that no operator confuses messages with
/// recipients.
public enum RateCounted: String, Sendable, Hashable, CaseIterable {
    /// Sessions opened (counted when the client connects).
    case connections
    /// Messages the upstream accepted.
    case messages
    /// Recipients the upstream accepted.
    case recipients
    /// Bytes of messages the upstream accepted.
    case bytes
    /// Different recipient addresses among the accepted ones.
    case distinctRecipients = "distinct_recipients"
}

/// `ratelimit NAME key=user count=messages limit=100/1h [listener=submission] [exempt=FILE] [exempt_user=a,b]`
public struct RateLimit: Sendable {
    public var key: [RateKeyPart]
    public var counted: RateCounted
    public var limit: Int
    public var windowSeconds: Int
    public var scope: RateScope
}

/// `bulk NAME key=user limit=50/1h [listener=...] [exempt=FILE] [exempt_user=...]`: the same body
/// (by its fingerprint) to more than `limit` different recipients from one key within the window.
public struct BulkLimit: Sendable {
    public var key: [RateKeyPart]
    public var limit: Int
    public var windowSeconds: Int
    public var scope: RateScope
}

/// Where a limit applies and who is exempt from it.
public struct RateScope: Sendable {
    /// Listener names; empty: every listener.
    public var listeners: Set<String> = []
    /// Client addresses that are never limited (trusted networks, mailing-list hosts).
    public var exemptClients: (AddressList, String)?
    /// Authenticated users never limited, lowercased. Only the login counts: an envelope
    /// sender is whatever the client writes.
    public var exemptUsers: Set<String> = []

    public func applies(to facts: SessionFacts) -> Bool {
        if !listeners.isEmpty, !listeners.contains(facts.listener) { return false }
        if let (list, _) = exemptClients, let address = facts.clientAddress, list.lookup(address) != nil { return false }
        if let user = facts.authenticatedUser?.lowercased(), exemptUsers.contains(user) { return false }
        return true
    }
}

extension [RateKeyPart] {
    /// The key for these facts (and recipient, for per-recipient parts); nil when a part is
    /// unknown (no user for an unauthenticated client: the rule does not apply).
    public func value(for facts: SessionFacts, recipient: String? = nil) -> String? {
        if count == 1 { return self[0].value(for: facts, recipient: recipient) }
        var values: [String] = []
        for part in self {
            guard let value = part.value(for: facts, recipient: recipient) else { return nil }
            values.append(value)
        }
        return values.joined(separator: "|")
    }

    var perRecipient: Bool { contains(where: \.perRecipient) }
}

extension RateKeyPart {
    /// This part's value for these facts, nil when unknown.
    func value(for facts: SessionFacts, recipient: String?) -> String? {
        switch self {
        case .clientAddress:
            return facts.clientAddress.map { "\($0)" }
        case .clientNetwork(let v4, let v6):
            return facts.clientAddress.map { address in
                "\(Network.masked(address, address.isIPv4 ? v4 : v6))/\(address.isIPv4 ? v4 : v6)"
            }
        case .helo:
            return facts.helo?.lowercased()
        case .sender:
            return facts.sender.map { $0.reversePath?.description.lowercased() ?? "<>" }
        case .senderDomain:
            return facts.sender.map { $0.reversePath?.domain.lowercased() ?? "<>" }
        case .user:
            return facts.authenticatedUser?.lowercased()
        case .recipient:
            return recipient?.lowercased()
        case .recipientDomain:
            return recipient.map { $0.split(separator: "@").last.map { $0.lowercased() } ?? $0.lowercased() }
        }
    }
}
