import SMTPCore

/// What the session knows about its client when it asks the policy. Checks read it; only the
/// session writes it.
public struct SessionFacts: Sendable {
    public var sessionID: String
    public var listener: String
    public var clientAddress: IPAddress?
    public var clientPort: Int
    public var helo: String?
    public var tls: Bool
    public var authenticatedUser: String?
    public var sender: MailCommand?
    public var recipients: [ForwardPath]
    public var messageSize: Int?
    /// The session's score so far (the client rules'), which scored limits add to.
    public var score: Double = 0
    /// The session's rule hits so far by rule name, for meta rules that combine stages.
    public var ruleHits: [String: Int] = [:]
    /// The client sent bytes before the greeting.
    public var earlyTalker = false
    /// The DNS, reverse DNS and GeoIP lookups started for this client at connect.
    public var lookups: ClientLookups?

    public init(
        sessionID: String, listener: String, clientAddress: IPAddress?, clientPort: Int,
        helo: String? = nil, tls: Bool = false, authenticatedUser: String? = nil,
        sender: MailCommand? = nil, recipients: [ForwardPath] = [], messageSize: Int? = nil
    ) {
        self.sessionID = sessionID
        self.listener = listener
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.helo = helo
        self.tls = tls
        self.authenticatedUser = authenticatedUser
        self.sender = sender
        self.recipients = recipients
        self.messageSize = messageSize
    }
}

/// One question to the policy: a stage, the session's facts and, at RCPT, the recipient asked for.
public struct PolicyQuery: Sendable {
    public var stage: PolicyStage
    public var facts: SessionFacts
    public var recipient: RcptCommand?

    public init(stage: PolicyStage, facts: SessionFacts, recipient: RcptCommand? = nil) {
        self.stage = stage
        self.facts = facts
        self.recipient = recipient
    }
}
