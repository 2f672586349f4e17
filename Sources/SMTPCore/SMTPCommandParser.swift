import struct NIOCore.ByteBuffer

/// Turns one command line into an `SMTPCommand`, or into the reply that refuses it,
/// [RFC 5321 section 4.1.1](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1):
///
///     C: mail from:<a@example.org> size=1200
///     -> .mail(MailCommand(reversePath: a@example.org, parameters: [SIZE=1200]))
///     C: MAIL FROM:<a@example.org.>
///     S: 501 5.1.7 Bad sender address syntax
///     C: FOO
///     S: 500 5.5.2 Command not recognized
///
/// RFC 5321 4.1.1 (and RFC 3030 2, RFC 3207 4, RFC 4954 4):
///
///     ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
///     helo = "HELO" SP Domain CRLF
///     mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
///     rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
///            Forward-path ) [SP Rcpt-parameters] CRLF
///     data = "DATA" CRLF
///     bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CR LF
///     rset = "RSET" CRLF
///     vrfy = "VRFY" SP String CRLF
///     expn = "EXPN" SP String CRLF
///     help = "HELP" [ SP String ] CRLF
///     noop = "NOOP" [ SP String ] CRLF
///     quit = "QUIT" CRLF
///     starttls = "STARTTLS" CRLF
///     auth-command = "AUTH" SP sasl-mech [SP initial-response]
///
/// Verbs and keywords are case-insensitive. Lenient where Postfix is: several spaces between
/// words, trailing spaces, one space after "FROM:" / "TO:", any EHLO/HELO argument without
/// spaces (later checks score it). UTF-8 is accepted in local parts, domains and parameter
/// values when it is valid; whether SMTPUTF8 allows it is the session's decision.
public enum SMTPCommandParser {
    /// `line` is one command line without its CRLF. The frame decoder has already cut it to
    /// `SMTPLimits.commandLineLength`.
    public static func parse(_ line: ByteBuffer) throws(SMTPCommandError) -> SMTPCommand {
        var bytes = Array(line.readableBytesView)
        guard !bytes.contains(where: ASCII.isControl) else { throw .invalidCharacter }
        while bytes.last == ASCII.space { bytes.removeLast() }
        let verbEnd = bytes.firstIndex(of: ASCII.space) ?? bytes.endIndex
        let argumentStart = bytes[verbEnd...].firstIndex { $0 != ASCII.space } ?? bytes.endIndex
        let argument = bytes[argumentStart...]
        let verb = String(decoding: bytes[..<verbEnd].map(ASCII.uppercased), as: UTF8.self)

        switch verb {
        case "EHLO": return .ehlo(try greetingArgument(argument, verb: verb))
        case "HELO": return .helo(try greetingArgument(argument, verb: verb))
        case "MAIL": return .mail(try parseMail(argument))
        case "RCPT": return .rcpt(try parseRcpt(argument))
        case "DATA": return try noArgument(argument, verb: verb, .data)
        case "BDAT": return try parseBdat(argument)
        case "RSET": return try noArgument(argument, verb: verb, .rset)
        case "NOOP": return .noop  // RFC 5321 4.1.1.9: the argument is ignored
        case "QUIT": return try noArgument(argument, verb: verb, .quit)
        case "VRFY": return .vrfy(try requiredArgument(argument, verb: verb))
        case "EXPN": return .expn(try requiredArgument(argument, verb: verb))
        case "HELP": return .help  // RFC 5321 4.1.1.8: the argument may be ignored
        case "STARTTLS": return try noArgument(argument, verb: verb, .starttls)
        case "AUTH": return try parseAuth(argument)
        default: throw .commandNotRecognized
        }
    }

    /// One word without spaces, valid UTF-8.
    private static func greetingArgument(
        _ argument: ArraySlice<UInt8>, verb: String
    ) throws(SMTPCommandError) -> String {
        guard !argument.isEmpty, !argument.contains(ASCII.space),
            let text = ASCII.string(argument)
        else { throw .syntax("\(verb) requires a domain or address literal") }
        return text
    }

    private static func requiredArgument(
        _ argument: ArraySlice<UInt8>, verb: String
    ) throws(SMTPCommandError) -> String {
        guard !argument.isEmpty else { throw .syntax("\(verb) requires an argument") }
        guard let text = ASCII.string(argument) else { throw .syntax() }
        return text
    }

    private static func noArgument(
        _ argument: ArraySlice<UInt8>, verb: String, _ command: SMTPCommand
    ) throws(SMTPCommandError) -> SMTPCommand {
        guard argument.isEmpty else { throw .syntax("\(verb) takes no arguments") }
        return command
    }
}
