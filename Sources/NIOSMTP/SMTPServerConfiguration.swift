import SMTPCore

/// What the server side of one session offers and enforces. Built by the proxy per listener.
public struct SMTPServerConfiguration: Sendable, Hashable {
    public var hostname: String
    /// RCPT commands per message; the next one gets `452 4.5.3` (RFC 5321 4.5.3.1.10).
    public var maxRecipients: Int
    /// Message size in bytes, advertised with SIZE (RFC 1870); past it `552 5.3.4`.
    public var maxMessageSize: Int
    /// Failed commands per session before `421 4.7.0`.
    public var maxErrors: Int
    /// Commands per session before `421 4.7.0`.
    public var maxCommands: Int
    /// NOOP, RSET, VRFY, EXPN and HELP per session before each counts as an error (Postfix's
    /// `smtpd_junk_command_limit`, 100).
    public var maxJunkCommands: Int
    public var startTLSAvailable: Bool
    public var authAvailable: Bool
    public var authBeforeTLS: Bool
    /// The connection is TLS from its first byte (port 465, RFC 8314).
    public var implicitTLS: Bool

    public init(
        hostname: String,
        maxRecipients: Int = SMTPLimits.recipients,
        maxMessageSize: Int = 26_214_400,
        maxErrors: Int = 10,
        maxCommands: Int = 10_000,
        maxJunkCommands: Int = 100,
        startTLSAvailable: Bool = false,
        authAvailable: Bool = false,
        authBeforeTLS: Bool = false,
        implicitTLS: Bool = false
    ) {
        self.hostname = hostname
        self.maxRecipients = maxRecipients
        self.maxMessageSize = maxMessageSize
        self.maxErrors = maxErrors
        self.maxCommands = maxCommands
        self.maxJunkCommands = maxJunkCommands
        self.startTLSAvailable = startTLSAvailable
        self.authAvailable = authAvailable
        self.authBeforeTLS = authBeforeTLS
        self.implicitTLS = implicitTLS
    }
}

/// Replies the server side writes itself. One place, so every one carries an enhanced code.
public enum SMTPServerReplies {
    static func code(_ klass: Int, _ subject: Int, _ detail: Int) -> EnhancedStatusCode {
        EnhancedStatusCode(klass, subject, detail)
    }
    public static let ok = SMTPReply(250, code(2, 0, 0), "Ok")
    public static let bye = SMTPReply(221, code(2, 0, 0), "Bye")
    public static let startData = SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>")
    public static let readyForTLS = SMTPReply(220, code(2, 0, 0), "Ready to start TLS")
    public static let vrfy = SMTPReply(252, code(2, 0, 0), "Cannot VRFY user, but will accept message and attempt delivery")
    public static let help = SMTPReply(214, code(2, 0, 0), "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH")
    public static let expn = SMTPReply(502, code(5, 5, 1), "EXPN is not available")
    public static let greetFirst = SMTPReply(503, code(5, 5, 1), "Send EHLO or HELO first")
    public static let nestedMail = SMTPReply(503, code(5, 5, 1), "Nested MAIL command")
    public static let needMail = SMTPReply(503, code(5, 5, 1), "Need MAIL command first")
    public static let noRecipients = SMTPReply(554, code(5, 5, 1), "No valid recipients")
    public static let tooManyRecipients = SMTPReply(452, code(4, 5, 3), "Too many recipients")
    public static let tooManyErrors = SMTPReply(421, code(4, 7, 0), "Too many errors, closing connection")
    public static let tooManyCommands = SMTPReply(421, code(4, 7, 0), "Too many commands, closing connection")
    public static let lineTooLong = SMTPReply(500, code(5, 5, 2), "Line too long")
    public static let bareLineFeed = SMTPReply(500, code(5, 5, 2), "Bare LF in command; use CRLF")
    public static let bareCarriageReturn = SMTPReply(500, code(5, 5, 2), "Bare CR in command; use CRLF")
    public static let tlsUnavailable = SMTPReply(502, code(5, 5, 1), "STARTTLS is not available")
    public static let tlsActive = SMTPReply(503, code(5, 5, 1), "TLS is already active")
    public static let tlsInTransaction = SMTPReply(503, code(5, 5, 1), "STARTTLS is not permitted during a mail transaction")
    public static let authUnavailable = SMTPReply(503, code(5, 5, 1), "AUTH is not available")
    public static let authNeedsTLS = SMTPReply(530, code(5, 7, 0), "Must issue a STARTTLS command first")
    public static let authDone = SMTPReply(503, code(5, 5, 1), "Already authenticated")
    public static let authInTransaction = SMTPReply(503, code(5, 5, 1), "AUTH is not permitted during a mail transaction")
    public static let chunkingUnavailable = SMTPReply(502, code(5, 5, 1), "BDAT is not available; use DATA")
    public static let sizeExceeded = SMTPReply(552, code(5, 3, 4), "Message size exceeds fixed limit")
    public static let needsSMTPUTF8 = SMTPReply(553, code(5, 6, 7), "Non-ASCII address requires the SMTPUTF8 parameter")

    /// Replies that refuse because a limit was reached, as opposed to a protocol error by the
    /// client: the session gives each a decision reference and a log line.
    public static let limitReplies: [SMTPReply: String] = [
        tooManyRecipients: "recipient_limit",
        tooManyErrors: "error_limit",
        tooManyCommands: "command_limit",
        lineTooLong: "line_length",
        sizeExceeded: "message_size",
    ]
}
