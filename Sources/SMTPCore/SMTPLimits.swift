/// Protocol limits of SMTP, each with the RFC that sets it (STYLE.md rule 8).
///
/// Components take these as the defaults of their init parameters, so an operator can raise
/// them but nobody has to look up the numbers.
public enum SMTPLimits {
    /// RFC 5321 4.5.3.1.4: a command line, CRLF included.
    public static let commandLineLength = 512
    /// RFC 5321 4.5.3.1.6: a line of message text, CRLF included.
    public static let textLineLength = 1000
    /// RFC 5321 4.5.3.1.8: the minimum number of recipients a server must accept.
    public static let recipients = 100
    /// RFC 5321 4.5.3.1.1: octets in a local part.
    public static let localPartLength = 64
    /// RFC 5321 4.5.3.1.2: octets in a domain.
    public static let domainLength = 255
    /// RFC 5321 4.5.3.1.3: octets in a reverse- or forward-path, "<" and ">" included.
    public static let pathLength = 256
    /// RFC 4954 4: an AUTH command or response line.
    public static let authLineLength = 12288
    /// Ours: lines in one multi-line reply before the reply parser gives up.
    public static let replyLines = 128
}
