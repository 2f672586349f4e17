import SMTPCore

/// One line of a message: `range` of its buffer, plus a line feed when `hasNewline`. Lines are
/// cut at LF; in a CRLF message the CR is left out of `range`.
struct MIMELine: Sendable {
    var range: Range<Int>
    var hasNewline: Bool

    /// The length SpamAssassin measures: the content and its line feed.
    var length: Int { range.count + (hasNewline ? 1 : 0) }

    /// The index of the first line feed in `bytes` at or after `start` (memchr).
    static func firstLineFeed(in bytes: [UInt8], from start: Int) -> Int? {
        bytes.withUnsafeBytes { $0.firstOffset(of: 0x0A, in: min(start, $0.count)..<$0.count) }
    }

    /// Splits `bytes` into lines; the last one has no newline when the text does not end in LF.
    static func split(_ bytes: [UInt8]) -> [MIMELine] {
        var lines: [MIMELine] = []
        var start = 0
        while start < bytes.count {
            guard let newline = firstLineFeed(in: bytes, from: start) else {
                lines.append(MIMELine(range: start..<bytes.count, hasNewline: false))
                break
            }
            lines.append(MIMELine(range: start..<newline, hasNewline: true))
            start = newline + 1
        }
        return lines
    }
}
