import Testing

@testable import WardenPolicy

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Messages built to hurt a parser. Each must read to a specific result, within the bounds of
/// `MIMELimits`, and in time linear in its size. Where SpamAssassin reads the same message, the
/// expected values are SpamAssassin 4.0.1's.
@Suite struct MIMEHostileInputTests {
    // MARK: Structure

    /// Multiparts 25 deep: the 20 outer levels are read, the next is a `multipart/mixed` leaf
    /// that is not text, so only the Subject remains (SpamAssassin's result).
    @Test func deepMultipartNesting() {
        var text = "Content-Type: text/plain\n\ndeep text\n"
        for level in 0..<25 {
            text = "Content-Type: multipart/mixed; boundary=\"d\(level)\"\n\n--d\(level)\n\(text)\n--d\(level)--\n"
        }
        let message = MIMEMessage(bytes: Array(("Subject: deep\n" + text).utf8))
        #expect(message.body == "deep\n")
        #expect(message.rawBody == "")
        #expect(message.problems == ["too deep"])
    }

    /// Enclosed messages 22 deep: after 20 the rest is one `message/rfc822` leaf, which
    /// `rawBody` keeps as text (SpamAssassin's result).
    @Test func deepEnclosedMessages() {
        var text = "Subject: leaf\n\nleaf text\n"
        for level in 0..<22 { text = "Subject: level \(level)\nContent-Type: message/rfc822\n\n" + text }
        let message = MIMEMessage(bytes: Array(text.utf8))
        #expect(message.body == "level 21\n")
        #expect(message.rawBody == "Subject: level 0\nContent-Type: message/rfc822\n\nSubject: leaf\n\nleaf text\n")
        #expect(message.problems == ["too deep"])
    }

    /// 1,200 parts: the first 1,000 are read (SpamAssassin stops at the same part here).
    @Test func tooManyParts() {
        let parts = (0..<1200).map { "--p\nContent-Type: text/plain\n\npart \($0)\n" }.joined()
        let message = MIMEMessage(
            bytes: Array(("Subject: parts\nContent-Type: multipart/mixed; boundary=\"p\"\n\n" + parts + "--p--\n").utf8)
        )
        #expect(message.body == "parts\n" + (0..<1000).map { "part \($0)" }.joined(separator: " "))
        #expect(message.rawBody == (0..<1000).map { "part \($0)" }.joined(separator: "\n"))
        #expect(message.problems == ["too many parts"])
    }

    /// 10,000 header fields are all kept, in order.
    @Test func hugeHeaderCount() {
        let fields = (0..<10_000).map { "X-Header-\($0): value \($0)\n" }.joined()
        let message = MIMEMessage(bytes: Array((fields + "Subject: many headers\n\nbody\n").utf8))
        #expect(message.headers.count == 10_001)
        #expect(message.headers[9_999].name == "X-Header-9999")
        #expect(message.header("x-header-5000") == ["value 5000"])
        #expect(message.body == "many headers\nbody ")
        #expect(message.problems.isEmpty)
    }

    /// Inside a multipart a body line longer than 2,048 bytes is cut into lines of 2,048, as
    /// SpamAssassin cuts it.
    @Test func longBodyLineIsCut() {
        let message = MIMEMessage(
            bytes: Array(
                ("Subject: long\nContent-Type: multipart/mixed; boundary=\"L\"\n\n--L\nContent-Type: text/plain\n\n"
                    + String(repeating: "x", count: 5000) + "\n--L--\n").utf8))
        let pieces = [2048, 2048, 904].map { String(repeating: "x", count: $0) }
        #expect(message.body == "long\n" + pieces.joined(separator: " "))
        #expect(message.rawBody == pieces.joined(separator: "\n"))
    }

    @Test func emptyAndHeaderOnlyMessages() {
        #expect(MIMEMessage(bytes: []).body == "\n")
        #expect(MIMEMessage(bytes: []).headers.isEmpty)
        let headersOnly = MIMEMessage(bytes: Array("Subject: only headers\nFrom: a@b.c".utf8))
        #expect(headersOnly.header("from") == ["a@b.c"])
        #expect(headersOnly.body == "only headers\n")
        #expect(headersOnly.problems == ["missing header separator"])
    }

    @Test func fullIsTheMessageAsReceived() {
        let bytes =
            Array("From alice@example.com Mon Jan  1 00:00:00 2024\nSubject: x\r\n\r\nbody".utf8) + [0xFF, 0x0D, 0x0A]
        let message = MIMEMessage(bytes: bytes)
        // Invalid UTF-8 is replaced.
        #expect(message.full == "Subject: x\r\n\r\nbody\u{FFFD}\r\n")
        #expect(MIMEMessage(bytes: bytes, maxBytes: 20).full == "")
        #expect(MIMEMessage(bytes: bytes, maxBytes: 20).problems.first == "truncated")
    }

    // MARK: Size

    /// Inputs of half a megabyte that would take minutes if any step were quadratic: each
    /// reads in well under ten seconds even in a debug build, and to what is expected.
    @Test(arguments: HostileBody.allCases)
    func hostileBodyReadsInLinearTime(_ body: HostileBody) {
        let bytes = body.message
        let started = Self.seconds()
        let message = MIMEMessage(bytes: bytes)
        let elapsed = Self.seconds() - started
        #expect(elapsed < 10, "\(body) took \(elapsed) s")
        #expect(body.check(message), "\(body): body \(message.body.prefix(80)), uris \(message.uris.prefix(4))")
    }

    enum HostileBody: String, CaseIterable, Sendable {
        case lessThanSigns, openTags, unclosedQuote, unclosedComment, longEntityName, unclosedDivs, fontColours
        case hiddenSpans, tableCells, baseAndRelativeLinks, distinctLinks, distinctTextLinks, addresses, hostDots
        case junkBase64, foldedHeader, encodedWords, emptyLines, parenthesisRun

        static let size = 500 * 1024

        var message: [UInt8] {
            let html = "Subject: t\nContent-Type: text/html\n\n"
            let text = "Subject: t\n\n"
            let n = Self.size
            switch self {
            case .lessThanSigns: return Array((html + String(repeating: "<", count: n)).utf8)
            case .openTags: return Array((html + String(repeating: "<a ", count: n / 3)).utf8)
            case .unclosedQuote: return Array((html + "<a href='x" + String(repeating: "y", count: n)).utf8)
            case .unclosedComment: return Array((html + "<!--" + String(repeating: "- -", count: n / 3)).utf8)
            case .longEntityName: return Array((html + "&" + String(repeating: "a", count: n)).utf8)
            case .unclosedDivs: return Array((html + String(repeating: "<div>", count: n / 5)).utf8)
            case .fontColours: return Array((html + String(repeating: "<font color=red>x", count: n / 17)).utf8)
            case .hiddenSpans:
                return Array(
                    (html + String(repeating: "<span style='color:#fff;display:none'>x</span>", count: n / 47)).utf8)
            case .tableCells: return Array((html + String(repeating: "<td>", count: n / 4)).utf8)
            case .baseAndRelativeLinks:
                return Array(
                    (html + String(repeating: "<base href=http://a/b/c.html><a href=../x/./y>z</a>", count: n / 52))
                        .utf8)
            case .distinctLinks:
                return Array(
                    (html + (0..<(n / 45)).map { "<a href='http://h\($0).example.com/%7e?x'>l</a>" }.joined()).utf8)
            case .distinctTextLinks:
                return Array(
                    (text + (0..<(n / 45)).map { "http://host\($0).example.com/p?a=\($0)&b=%41 " }.joined()).utf8)
            case .addresses:
                return Array((text + (0..<(n / 30)).map { "user\($0)@host\($0).example.com " }.joined()).utf8)
            case .hostDots: return Array((text + String(repeating: "a.", count: n / 2)).utf8)
            case .junkBase64:
                return Array(
                    ("Subject: t\nContent-Transfer-Encoding: base64\n\n" + String(repeating: "QUJD!", count: n / 5))
                        .utf8)
            case .foldedHeader:
                return Array(("Subject: t\nX-Long: a\n" + String(repeating: " b\n", count: n / 3) + "\nbody\n").utf8)
            case .encodedWords:
                return Array(("Subject: " + String(repeating: "=?utf-8?q?a?= ", count: n / 14) + "\n\nx\n").utf8)
            case .emptyLines:
                return Array(
                    ("Subject: t\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\n"
                        + String(repeating: "\n", count: n)).utf8)
            case .parenthesisRun:
                return Array((text + "http://x.example.com/" + String(repeating: ")", count: n / 2)).utf8)
            }
        }

        /// What the message reads to. `body` keeps 50,000 characters of each part (SpamAssassin's
        /// `body_part_scan_size`), so text links past that are not seen.
        func check(_ message: MIMEMessage) -> Bool {
            let n = Self.size
            let scan = MIMELimits().bodyPartScanSize
            let words = message.body.dropFirst(2).split(separator: " ")
            switch self {
            case .lessThanSigns: return message.body == "t\n" + String(repeating: "<", count: scan)
            case .openTags, .unclosedQuote, .unclosedComment: return message.body == "t\n"
            case .longEntityName: return message.body == "t\n&" + String(repeating: "a", count: scan - 1)
            case .unclosedDivs: return message.body == "t\n\n"
            case .fontColours: return message.body == "t\n" + String(repeating: "x", count: n / 17)
            case .hiddenSpans: return message.body == "t\n" + String(repeating: "x", count: n / 47)
            case .tableCells: return message.body == "t\n "
            case .baseAndRelativeLinks: return message.uris.contains("http://a/x/y")
            case .distinctLinks:
                return message.uris.count == 2 * (n / 45) && message.uris[1] == "http://h0.example.com/~?x"
            case .distinctTextLinks:
                return message.uris.count == 2 * words.count && message.uris[1] == "http://host0.example.com/p?a=0&b=A"
            case .addresses: return message.uris.count == words.count && message.body.count < scan + 1024
            case .hostDots: return message.uris.isEmpty
            case .junkBase64: return message.problems == ["bad base64"] && message.rawBody.hasPrefix("ABCABC")
            case .foldedHeader: return message.header("x-long") == ["a" + String(repeating: " b", count: 2730)]
            case .encodedWords: return message.problems == ["header truncated"]
            case .emptyLines: return message.problems == ["missing closing boundary"]
            case .parenthesisRun: return message.uris == ["http://x.example.com/"]
            }
        }
    }

    private static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
