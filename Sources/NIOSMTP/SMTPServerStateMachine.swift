import SMTPCore

/// The server side of one SMTP session as a plain value: which command is valid when, the
/// limits, and the replies Warden writes itself (RFC 5321 4.1.4 ordering). It does no I/O and
/// knows no policy: a command that is valid in sequence comes back as `.process`, and the
/// session reports the outcome with one of the `...Accepted` or `commandFailed` events.
///
///     C: MAIL FROM:<a@example.org>      -> .process(.mail(...))
///     (session asks policy and upstream, then calls mailAccepted(...))
public struct SMTPServerStateMachine: Sendable {
    public enum Action: Sendable, Hashable {
        /// Write this reply; the session goes on.
        case reply(SMTPReply)
        /// Valid here: the session asks the policy and the upstream, then reports back.
        case process(SMTPCommand)
        /// Write this `220`, then start TLS, discarding any input buffered after the command.
        case startTLS(SMTPReply)
        /// The client sent BDAT, which is not offered: skip that many bytes, then write the reply.
        case skipChunk(Int, SMTPReply)
        /// Write this reply and close the session.
        case close(SMTPReply)
    }

    public enum Phase: Sendable, Hashable {
        case awaitingHelo, ready, transaction, data, auth, closed
    }

    public let configuration: SMTPServerConfiguration
    public private(set) var phase: Phase = .awaitingHelo
    public private(set) var helo: String?
    public private(set) var esmtp = false
    public private(set) var tlsActive: Bool
    public private(set) var authenticatedUser: String?
    public private(set) var mail: MailCommand?
    public private(set) var recipients: [ForwardPath] = []
    public private(set) var errorCount = 0
    public private(set) var commandCount = 0
    public private(set) var transactionCount = 0
    /// NOOP, RSET, VRFY, EXPN and HELP so far; past `maxJunkCommands` each one counts as an error.
    public private(set) var junkCount = 0

    public init(configuration: SMTPServerConfiguration) {
        self.configuration = configuration
        self.tlsActive = configuration.implicitTLS
    }

    /// The size the client declared with `SIZE=` on MAIL, if any (RFC 1870).
    public var declaredSize: Int? {
        mail?.parameters.first { $0.keyword == "SIZE" }?.value.flatMap { Int($0) }
    }

    public var usesSMTPUTF8: Bool {
        mail?.parameters.contains { $0.keyword == "SMTPUTF8" } ?? false
    }

    // MARK: Events from the client

    public mutating func receivedCommand(_ command: SMTPCommand) -> Action {
        precondition(phase != .data && phase != .auth && phase != .closed, "command received in phase \(phase)")
        commandCount += 1
        if commandCount > configuration.maxCommands { return close(SMTPServerReplies.tooManyCommands) }
        switch command {
        case .ehlo, .helo:
            return .process(command)
        case .mail(let mail):
            guard helo != nil else { return failed(SMTPServerReplies.greetFirst) }
            guard phase != .transaction else { return failed(SMTPServerReplies.nestedMail) }
            if let refusal = SMTPParameterRules.check(mail: mail, maxSize: configuration.maxMessageSize) {
                return failed(refusal)
            }
            return .process(command)
        case .rcpt(let rcpt):
            guard phase == .transaction else { return failed(SMTPServerReplies.needMail) }
            guard recipients.count < configuration.maxRecipients else {
                return failed(SMTPServerReplies.tooManyRecipients)
            }
            if let refusal = SMTPParameterRules.check(rcpt: rcpt, smtputf8: usesSMTPUTF8) { return failed(refusal) }
            return .process(command)
        case .data:
            guard phase == .transaction else { return failed(SMTPServerReplies.needMail) }
            guard !recipients.isEmpty else { return failed(SMTPServerReplies.noRecipients) }
            return .process(command)
        case .bdat(let size, _):
            return skip(size, SMTPServerReplies.chunkingUnavailable)
        case .rset:
            resetTransaction()
            if let closing = countJunk() { return closing }
            return .process(command)
        case .noop:
            return junk(SMTPServerReplies.ok)
        case .quit:
            phase = .closed
            return .close(SMTPServerReplies.bye)
        case .vrfy:
            return junk(SMTPServerReplies.vrfy)
        case .expn:
            if let closing = countJunk() { return closing }
            return failed(SMTPServerReplies.expn)
        case .help:
            return junk(SMTPServerReplies.help)
        case .starttls:
            guard configuration.startTLSAvailable, !configuration.implicitTLS else {
                return failed(SMTPServerReplies.tlsUnavailable)
            }
            guard !tlsActive else { return failed(SMTPServerReplies.tlsActive) }
            guard phase != .transaction else { return failed(SMTPServerReplies.tlsInTransaction) }
            // RFC 3207 4.2: all knowledge from before TLS is discarded; the client greets again.
            tlsActive = true
            helo = nil
            esmtp = false
            authenticatedUser = nil
            phase = .awaitingHelo
            return .startTLS(SMTPServerReplies.readyForTLS)
        case .auth:
            guard configuration.authAvailable else { return failed(SMTPServerReplies.authUnavailable) }
            guard tlsActive || configuration.authBeforeTLS else { return failed(SMTPServerReplies.authNeedsTLS) }
            guard helo != nil else { return failed(SMTPServerReplies.greetFirst) }
            guard authenticatedUser == nil else { return failed(SMTPServerReplies.authDone) }
            guard phase != .transaction else { return failed(SMTPServerReplies.authInTransaction) }
            phase = .auth
            return .process(command)
        }
    }

    /// A parse error or a line the frame decoder refused.
    public mutating func receivedInvalidLine(_ reply: SMTPReply) -> Action {
        commandCount += 1
        if commandCount > configuration.maxCommands { return close(SMTPServerReplies.tooManyCommands) }
        return failed(reply)
    }

    // MARK: Outcomes reported by the session

    /// The helo-stage policy passed: record the greeting and build the reply.
    public mutating func heloAccepted(_ command: SMTPCommand) -> SMTPReply {
        switch command {
        case .ehlo(let name):
            greet(name, esmtp: true)
            return SMTPServerCapabilities.ehloReply(configuration, tlsActive: tlsActive, authenticated: authenticatedUser != nil)
        case .helo(let name):
            greet(name, esmtp: false)
            return SMTPReply(250, nil, configuration.hostname)
        default:
            preconditionFailure("heloAccepted with \(command.verb)")
        }
    }

    public mutating func mailAccepted(_ mail: MailCommand) {
        precondition(phase == .ready, "MAIL accepted in phase \(phase)")
        self.mail = mail
        recipients = []
        phase = .transaction
    }

    public mutating func rcptAccepted(_ rcpt: RcptCommand) {
        precondition(phase == .transaction, "RCPT accepted in phase \(phase)")
        recipients.append(rcpt.forwardPath)
    }

    /// The session replied 354 and reads the message now.
    public mutating func dataStarted() {
        precondition(phase == .transaction, "DATA started in phase \(phase)")
        phase = .data
    }

    /// The message was answered, whatever the answer: the transaction is over (RFC 5321 4.1.1.4).
    public mutating func dataFinished() {
        precondition(phase == .data, "DATA finished in phase \(phase)")
        transactionCount += 1
        resetTransaction()
    }

    /// The AUTH exchange ended; `user` is set when the upstream said 235.
    public mutating func authFinished(user: String?) {
        precondition(phase == .auth, "AUTH finished in phase \(phase)")
        authenticatedUser = user
        phase = helo == nil ? .awaitingHelo : .ready
    }

    /// A command was refused by the policy or the upstream: count it against the error limit.
    public mutating func commandFailed() -> Action? {
        errorCount += 1
        if errorCount >= configuration.maxErrors { return close(SMTPServerReplies.tooManyErrors) }
        return nil
    }

    /// The session is ending for a reason of its own (timeout, shutdown, upstream lost).
    public mutating func closing() {
        phase = .closed
    }

    // MARK: Helpers

    private mutating func greet(_ name: String, esmtp: Bool) {
        resetTransaction()
        helo = name
        self.esmtp = esmtp
        phase = .ready
    }

    private mutating func resetTransaction() {
        mail = nil
        recipients = []
        if phase == .transaction || phase == .data || phase == .ready {
            phase = .ready
        }
    }

    /// Postfix's smtpd_junk_command_limit: a client may keep a session busy with commands that
    /// do nothing only so long; past the limit each one counts against the error limit.
    private mutating func countJunk() -> Action? {
        junkCount += 1
        guard junkCount > configuration.maxJunkCommands else { return nil }
        return commandFailed()
    }

    private mutating func junk(_ reply: SMTPReply) -> Action {
        if let closing = countJunk() { return closing }
        return .reply(reply)
    }

    private mutating func failed(_ reply: SMTPReply) -> Action {
        if let close = commandFailed() { return close }
        return .reply(reply)
    }

    private mutating func skip(_ size: Int, _ reply: SMTPReply) -> Action {
        if case .close(let closing) = commandFailed() { return .close(closing) }
        return .skipChunk(size, reply)
    }

    private mutating func close(_ reply: SMTPReply) -> Action {
        phase = .closed
        return .close(reply)
    }
}
