import struct NIOCore.ByteBuffer

/// A server reply, [RFC 5321 section 4.2](https://www.rfc-editor.org/rfc/rfc5321#section-4.2),
/// with its enhanced status code ([RFC 2034](https://www.rfc-editor.org/rfc/rfc2034)) held apart
/// from the text:
///
///     C: EHLO client.example
///     S: 250-mx.example.org
///     S: 250 8BITMIME
///     C: RCPT TO:<nobody@example.org>
///     S: 550 5.1.1 No such user
///
/// The first is `SMTPReply(code: 250, enhanced: nil, lines: ["mx.example.org", "8BITMIME"])`,
/// the second `SMTPReply(550, EnhancedStatusCode(5, 1, 1), "No such user")`.
public struct SMTPReply: Hashable, Sendable, CustomStringConvertible {
    /// The three-digit reply code, 200...599.
    public var code: Int
    /// Written after the code on every line when present.
    public var enhanced: EnhancedStatusCode?
    /// The text of each line without code and enhanced code; at least one element (may be "").
    public var lines: [String]

    public init(code: Int, enhanced: EnhancedStatusCode?, lines: [String]) {
        precondition((200...599).contains(code), "invalid SMTP reply code \(code)")
        self.code = code
        self.enhanced = enhanced
        self.lines = lines.isEmpty ? [""] : lines
    }

    /// A one-line reply.
    public init(_ code: Int, _ enhanced: EnhancedStatusCode?, _ text: String) {
        self.init(code: code, enhanced: enhanced, lines: [text])
    }

    /// 2xx: the command succeeded.
    public var isPositiveCompletion: Bool { (200...299).contains(code) }
    /// 3xx: send more (354 after DATA, 334 during AUTH).
    public var isIntermediate: Bool { (300...399).contains(code) }
    /// 4xx: try again later.
    public var isTransientFailure: Bool { (400...499).contains(code) }
    /// 5xx: do not try again.
    public var isPermanentFailure: Bool { (500...599).contains(code) }

    /// The lines joined with " ".
    public var text: String {
        lines.joined(separator: " ")
    }

    /// Writes the reply in wire form, CRLF after each line: "250-5.7.1 a\r\n250 5.7.1 b\r\n",
    /// without enhanced code "250-a\r\n250 b\r\n", an empty last line as "250 5.7.1\r\n" or
    /// "250\r\n". Control characters in the text are written as spaces, so no text (an
    /// upstream's, a rule's description) can end a line early or smuggle a second reply.
    public func write(into buffer: inout ByteBuffer) {
        let lines = self.lines.isEmpty ? [""] : self.lines
        for (number, line) in lines.enumerated() {
            let isLast = number == lines.count - 1
            var content = enhanced.map { "\($0)" } ?? ""
            if !line.isEmpty {
                content += content.isEmpty ? line : " " + line
            }
            buffer.writeString(String(code))
            if !isLast {
                buffer.writeStaticString("-")
            } else if !content.isEmpty {
                buffer.writeStaticString(" ")
            }
            buffer.writeSMTPText(content)
            buffer.writeStaticString("\r\n")
        }
    }

    /// One line for logs: "550 5.7.1 text", control characters as spaces.
    public var description: String {
        let line = [String(code), enhanced?.description ?? "", text].filter { !$0.isEmpty }
            .joined(separator: " ")
        guard line.utf8.contains(where: ASCII.isControl) else { return line }
        return String(decoding: line.utf8.map { ASCII.isControl($0) ? ASCII.space : $0 }, as: UTF8.self)
    }
}
