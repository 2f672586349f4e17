import struct NIOCore.ByteBuffer

/// Accumulates a server's reply lines into an `SMTPReply`,
/// [RFC 5321 section 4.2.1](https://www.rfc-editor.org/rfc/rfc5321#section-4.2.1):
///
///     S: 250-mx.example.org      -> nil
///     S: 250-PIPELINING          -> nil
///     S: 250 8BITMIME            -> SMTPReply(code: 250, lines: [...3 lines])
///
/// RFC 5321 4.2:
///
///     Reply-line  = *( Reply-code "-" [ textstring ] CRLF )
///                   Reply-code [ SP textstring ] CRLF
///     Reply-code  = %x32-35 %x30-35 %x30-39
///
/// Like real clients it accepts any second digit and a bare code "250" as a final line.
/// An enhanced code (RFC 2034) is taken out of the text when every line starts with the same
/// "X.Y.Z " (or is exactly "X.Y.Z") and X is the reply's first digit.
public struct SMTPReplyParser: Sendable {
    private let maxLines: Int
    private var code: Int?
    /// The text of each line so far: its bytes after the code and the separator.
    private var texts: [ArraySlice<UInt8>] = []

    /// - Parameter maxLines: lines one reply may have, `SMTPLimits.replyLines` by default.
    public init(maxLines: Int = SMTPLimits.replyLines) {
        precondition(maxLines > 0, "maxLines must be positive")
        self.maxLines = maxLines
    }

    /// Takes one reply line without its CRLF. Returns the reply when its last line arrives,
    /// nil while more lines are needed. After a reply or an error it starts afresh.
    public mutating func parse(line: ByteBuffer) throws(SMTPReplyParseError) -> SMTPReply? {
        let bytes = Array(line.readableBytesView)
        guard bytes.count >= 3, bytes[0...2].allSatisfy(ASCII.isDigit),
            (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(bytes[0])
        else {
            throw fail("not a reply line")
        }
        let lineCode = bytes[0...2].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        let isLast: Bool
        switch bytes.count == 3 ? ASCII.space : bytes[3] {
        case ASCII.space: isLast = true
        case UInt8(ascii: "-"): isLast = false
        default: throw fail("not a reply line")
        }
        if let code, code != lineCode {
            throw fail("reply code \(lineCode) differs from \(code) on an earlier line")
        }
        guard texts.count < maxLines else {
            throw fail("reply longer than \(maxLines) lines")
        }
        code = lineCode
        texts.append(bytes.dropFirst(4))
        guard isLast else { return nil }

        let reply = Self.reply(code: lineCode, texts: texts)
        reset()
        return reply
    }

    private mutating func fail(_ message: String) -> SMTPReplyParseError {
        reset()
        return SMTPReplyParseError(message: message)
    }

    private mutating func reset() {
        code = nil
        texts = []
    }

    private static func reply(code: Int, texts: [ArraySlice<UInt8>]) -> SMTPReply {
        let prefixes = texts.map(enhancedPrefix)
        guard let first = prefixes[0], first.code.statusClass == code / 100,
            prefixes.allSatisfy({ $0?.code == first.code })
        else {
            return SMTPReply(code: code, enhanced: nil, lines: texts.map { String(decoding: $0, as: UTF8.self) })
        }
        let lines = zip(texts, prefixes).map { text, prefix in
            String(decoding: text.dropFirst(prefix?.length ?? 0), as: UTF8.self)
        }
        return SMTPReply(code: code, enhanced: first.code, lines: lines)
    }

    /// The enhanced code a line's text starts with (its first word, `X.Y.Z`), and how many bytes
    /// to drop with it: the code and the space after it.
    private static func enhancedPrefix(_ text: ArraySlice<UInt8>) -> (code: EnhancedStatusCode, length: Int)? {
        var index = text.startIndex
        func number(maxDigits: Int) -> Int? {
            var value = 0
            let start = index
            while index < text.endIndex, index - start < maxDigits, ASCII.isDigit(text[index]) {
                value = value * 10 + Int(text[index] - UInt8(ascii: "0"))
                index += 1
            }
            return index > start ? value : nil
        }
        func dot() -> Bool {
            guard index < text.endIndex, text[index] == UInt8(ascii: ".") else { return false }
            index += 1
            return true
        }
        guard let statusClass = number(maxDigits: 1), [2, 4, 5].contains(statusClass), dot(),
            let subject = number(maxDigits: 3), dot(), let detail = number(maxDigits: 3)
        else { return nil }
        let code = EnhancedStatusCode(statusClass, subject, detail)
        if index == text.endIndex { return (code, index - text.startIndex) }
        guard text[index] == ASCII.space else { return nil }
        return (code, index + 1 - text.startIndex)
    }
}
