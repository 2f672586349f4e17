import struct NIOCore.ByteBuffer

/// A client command, [RFC 5321 section 4.1.1](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1),
/// with BDAT from [RFC 3030](https://www.rfc-editor.org/rfc/rfc3030), STARTTLS from
/// [RFC 3207](https://www.rfc-editor.org/rfc/rfc3207) and AUTH from
/// [RFC 4954](https://www.rfc-editor.org/rfc/rfc4954):
///
///     C: EHLO client.example             .ehlo("client.example")
///     C: MAIL FROM:<a@example.org>       .mail(MailCommand(reversePath: a@example.org))
///     C: RCPT TO:<Postmaster>            .rcpt(RcptCommand(forwardPath: .postmaster))
///     C: BDAT 1000 LAST                  .bdat(size: 1000, last: true)
///
/// `SMTPCommandParser` makes one from a line; `write(into:)` makes the line sent upstream.
public enum SMTPCommand: Hashable, Sendable {
    /// The argument as sent: a domain or an address literal.
    case ehlo(String)
    case helo(String)
    case mail(MailCommand)
    case rcpt(RcptCommand)
    case data
    case bdat(size: Int, last: Bool)
    case rset
    case noop
    case quit
    case vrfy(String)
    case expn(String)
    case help
    case starttls
    /// The mechanism uppercased; the initial response as sent ("=" for an empty one).
    case auth(mechanism: String, initialResponse: String?)

    /// "EHLO", "MAIL", ..., for logs and metrics.
    public var verb: String {
        switch self {
        case .ehlo: "EHLO"
        case .helo: "HELO"
        case .mail: "MAIL"
        case .rcpt: "RCPT"
        case .data: "DATA"
        case .bdat: "BDAT"
        case .rset: "RSET"
        case .noop: "NOOP"
        case .quit: "QUIT"
        case .vrfy: "VRFY"
        case .expn: "EXPN"
        case .help: "HELP"
        case .starttls: "STARTTLS"
        case .auth: "AUTH"
        }
    }

    /// Writes the canonical line for the upstream, CRLF included:
    /// "MAIL FROM:<a@b> SIZE=10\r\n". Source routes are dropped (RFC 5321 appendix C lets
    /// servers ignore them); Postmaster is "RCPT TO:<Postmaster>", the null path "MAIL FROM:<>".
    /// Control characters in values are written as spaces, so a value built by hand cannot
    /// end the line early.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeString(verb)
        switch self {
        case .ehlo(let argument), .helo(let argument), .vrfy(let argument), .expn(let argument):
            buffer.writeStaticString(" ")
            buffer.writeSMTPText(argument)
        case .mail(let mail):
            buffer.writeStaticString(" FROM:<")
            buffer.writeSMTPText(mail.reversePath?.description ?? "")
            buffer.writeStaticString(">")
            Self.write(mail.parameters, into: &buffer)
        case .rcpt(let rcpt):
            buffer.writeStaticString(" TO:<")
            buffer.writeSMTPText(rcpt.forwardPath.description)
            buffer.writeStaticString(">")
            Self.write(rcpt.parameters, into: &buffer)
        case .bdat(let size, let last):
            buffer.writeString(last ? " \(size) LAST" : " \(size)")
        case .auth(let mechanism, let initialResponse):
            buffer.writeStaticString(" ")
            buffer.writeSMTPText(mechanism)
            if let initialResponse {
                buffer.writeStaticString(" ")
                buffer.writeSMTPText(initialResponse)
            }
        case .data, .rset, .noop, .quit, .help, .starttls:
            break
        }
        buffer.writeStaticString("\r\n")
    }

    private static func write(_ parameters: [ESMTPParameter], into buffer: inout ByteBuffer) {
        for parameter in parameters {
            buffer.writeStaticString(" ")
            buffer.writeSMTPText(parameter.description)
        }
    }
}
