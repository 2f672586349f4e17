/// A command line the server refuses, with the reply that says why
/// ([RFC 5321 section 4.2.2](https://www.rfc-editor.org/rfc/rfc5321#section-4.2.2),
/// enhanced codes from RFC 3463):
///
///     C: MAIL FROM:<a@example.org.>
///     S: 501 5.1.7 Bad sender address syntax
public struct SMTPCommandError: Error, Hashable, Sendable {
    public var reply: SMTPReply

    public init(reply: SMTPReply) {
        self.reply = reply
    }
}

extension SMTPCommandError {
    /// 500 5.5.2: unknown verb or empty line.
    static let commandNotRecognized = SMTPCommandError(
        reply: SMTPReply(500, EnhancedStatusCode(5, 5, 2), "Command not recognized"))

    /// 500 5.5.2: a control byte in the line.
    static let invalidCharacter = SMTPCommandError(
        reply: SMTPReply(500, EnhancedStatusCode(5, 5, 2), "Invalid character in command"))

    /// 501 5.5.4: the verb is known, its arguments are wrong.
    static func syntax(_ text: String = "Syntax error in parameters") -> SMTPCommandError {
        SMTPCommandError(reply: SMTPReply(501, EnhancedStatusCode(5, 5, 4), text))
    }

    /// 501 5.1.7 (sender) or 501 5.1.3 (recipient): the path is wrong.
    static func badAddress(_ role: PathParser.Role, _ failure: PathParser.Failure) -> SMTPCommandError {
        let detail = role == .sender ? 7 : 3
        let who = role == .sender ? "Sender" : "Recipient"
        let text =
            switch failure {
            case .syntax: "Bad \(who.lowercased()) address syntax"
            case .localPartTooLong: "\(who) address local part too long"
            case .domainTooLong: "\(who) address domain too long"
            case .pathTooLong: "\(who) address too long"
            }
        return SMTPCommandError(reply: SMTPReply(501, EnhancedStatusCode(5, 1, detail), text))
    }
}
