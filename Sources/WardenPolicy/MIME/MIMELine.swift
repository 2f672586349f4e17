#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line of a message: `range` of its buffer, plus a line feed when `hasNewline`. Lines are
/// cut at LF; in a CRLF message the CR is left out of `range`.
struct MIMELine: Sendable {
    var range: Range<Int>
    var hasNewline: Bool

    /// The length SpamAssassin measures: the content and its line feed.
    var length: Int { range.count + (hasNewline ? 1 : 0) }

    /// Splits `bytes` into lines; the last one has no newline when the text does not end in LF.
    static func split(_ bytes: [UInt8]) -> [MIMELine] {
        var lines: [MIMELine] = []
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var start = 0
            while start < raw.count {
                guard let found = memchr(base + start, 0x0A, raw.count - start) else {
                    lines.append(MIMELine(range: start..<raw.count, hasNewline: false))
                    break
                }
                let newline = base.distance(to: UnsafeRawPointer(found))
                lines.append(MIMELine(range: start..<newline, hasNewline: true))
                start = newline + 1
            }
        }
        return lines
    }
}
