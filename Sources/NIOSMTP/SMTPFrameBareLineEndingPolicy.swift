/// What the frame decoder does with a bare CR or bare LF inside message content.
///
/// RFC 5321 [§2.3.8](https://www.rfc-editor.org/rfc/rfc5321#section-2.3.8) allows only CRLF as a
/// line ending, and [§4.1.1.4](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.4) says a
/// server must not treat a bare LF, or any other sequence, as the end of the data. Servers that do
/// disagree with each other about where a message ends, which is what SMTP smuggling exploits:
///
///     C: DATA
///     S: 354 Start mail input
///     C: hello<LF>.<LF>MAIL FROM:<x@y><CR><LF>...<CR><LF>.<CR><LF>
///
/// Whatever the policy, only `<CR><LF>.<CR><LF>` with real CRLFs ends the data.
public enum BareLineEndingPolicy: Sendable, Hashable {
    /// The first bare CR or bare LF fails the message with `SMTPFrameDecoder.Frame.dataError`, and
    /// the decoder reads nothing more from the connection.
    case reject
    /// A bare CR or bare LF becomes CRLF in the content. It does not start a line: a `.` after it
    /// is kept as content and never begins the end-of-data sequence.
    case normalize
}
