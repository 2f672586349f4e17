import Testing

@testable import WardenPolicy

/// Header fields as header rules see them. The decoded values in `spamAssassinDecodings` are
/// SpamAssassin 4.0.1's (`Message::Node::get_header`) for the same bytes.
@Suite struct MIMEHeaderTests {
    /// (the field as sent, SpamAssassin's decoded value)
    static let spamAssassinDecodings: [([UInt8], String)] = [
        (Array("Subject: =?utf-8?q?caf=C3=A9?=".utf8), "café"),
        (Array("Subject: =?UTF-8?B?Y2Fmw6k=?=".utf8), "café"),
        (Array("Subject: =?utf-8?q?hello_world?= =?utf-8?q?_again?=".utf8), "hello world again"),
        (Array("Subject: =?utf-8?b?w6k=?= =?utf-8?b?w6k=?=".utf8), "éé"),
        (Array("Subject: =?utf-8?q?=E2=82?= =?utf-8?q?=AC?=".utf8), "€"),
        (Array("Subject: =?utf-8?q?a?= =?iso-8859-1?q?=E9?=".utf8), "aé"),
        (Array("Subject: =?utf-8?q?a?= plain =?utf-8?q?b?=".utf8), "a plain b"),
        (
            Array("Subject: =?utf-8?X?abc?= and =?utf-8?q?unterminated".utf8),
            "=?utf-8?X?abc?= and =?utf-8?q?unterminated"
        ),
        (Array("Subject: =?utf-8?q?ok?=text=?utf-8?q?glued?=".utf8), "oktextglued"),
        (Array("Subject: =?x-unknown?q?caf=E9?=".utf8), "café"),
        (Array("Subject: =?us-ascii?q?caf=E9?=".utf8), "caf\u{FFFD}"),
        (Array("Subject: =?utf-8?q?bad_=FF_byte?=".utf8), "bad \u{FFFD} byte"),
        (Array("Subject: =?utf-8*en?q?language?=".utf8), "language"),
        (Array("Subject: =?utf-8?q??=empty".utf8), "empty"),
        (Array("Subject: =?utf-8?b?!!!w6k=?=".utf8), "é"),
        (Array("Subject: =?windows-1251?b?z/Do4uXy?=".utf8), "Привет"),
        (Array("Subject: =?koi8-r?q?=F0=D2=C9=D7=C5=D4?=".utf8), "Привет"),
        (Array("Subject: =?gb2312?B?xOO6ww==?=".utf8), "你好"),
        (Array("Subject: =?big5?B?pKSk5Q==?=".utf8), "中文"),
        (Array("Subject: =?euc-kr?B?x9GxubDu?=".utf8), "한국곡"),
        (Array("Subject: =?shift_jis?B?g2WDWINn?=".utf8), "テスト"),
        (Array("Subject: =?iso-2022-jp?B?GyRCRnxLXBsoQg==?=".utf8), "日本"),
        (Array("Subject: =?iso-8859-15?q?=A4uro?=".utf8), "€uro"),
        (Array("Subject: café raw utf-8".utf8), "café raw utf-8"),
        (latin1("Subject: caf\u{E9} raw latin-1"), "café raw latin-1"),
        (Array("Subject: first\n second\n\tthird".utf8), "first second third"),
        (Array("Subject:    spaced    out   ".utf8), "spaced    out"),
        (Array("From: \"=?utf-8?q?J=C3=BCrgen?=\" <j@example.de>".utf8), "\"Jürgen\" <j@example.de>"),
        (Array("Message-ID: <=?utf-8?q?id?=@example.com>".utf8), "<=?utf-8?q?id?=@example.com>"),
        (Array("Date: =?utf-8?q?Mon?=, 1 Jan 2024".utf8), "=?utf-8?q?Mon?=, 1 Jan 2024"),
        (Array("Received: from =?utf-8?q?x?= by y".utf8), "from =?utf-8?q?x?= by y"),
        (Array("References: <=?utf-8?q?r?=@example.com>".utf8), "<=?utf-8?q?r?=@example.com>"),
        (Array("List-Id: =?utf-8?q?list?= <list.example.com>".utf8), "=?utf-8?q?list?= <list.example.com>"),
        (Array("X-Spam: =?utf-8?q?not_structured?=".utf8), "not structured"),
    ]

    /// RFC 2047 encoded words in any charset, joined and decoded; malformed ones and the fields
    /// SpamAssassin never decodes (`Message-ID`, `Date`, `Received`, `References`, `List-*`) kept.
    @Test(arguments: spamAssassinDecodings)
    func decodesLikeSpamAssassin(field: [UInt8], expected: String) {
        let message = MIMEMessage(bytes: field + Array("\n\nbody\n".utf8))
        #expect(message.headers.first?.decoded == expected)
    }

    @Test func lookupIsCaseInsensitiveAndKeepsEveryOccurrence() {
        let message = MIMEMessage(
            bytes: Array(
                """
                Received: from a by b
                X-Tag: =?utf-8?q?one?=
                received: from c by d
                x-tag: two
                Subject: hi

                body

                """.utf8))
        #expect(message.header("RECEIVED") == ["from a by b", "from c by d"])
        #expect(message.header("X-Tag") == ["one", "two"])
        #expect(message.header("X-Tag", raw: true) == ["=?utf-8?q?one?=", "two"])
        #expect(message.header("Cc").isEmpty)
        #expect(message.headers.map(\.name) == ["Received", "X-Tag", "received", "x-tag", "Subject"])
    }

    /// `raw` removes the line breaks of a folded field but keeps its folding whitespace, and is
    /// trimmed; `decoded` makes each fold one space, as SpamAssassin does.
    @Test func rawKeepsFoldingWhitespace() {
        let message = MIMEMessage(bytes: Array("Subject:  one\r\n  two\r\n\t=?utf-8?q?three?= \r\n\r\nbody\r\n".utf8))
        #expect(message.header("subject", raw: true) == ["one  two\t=?utf-8?q?three?="])
        #expect(message.header("subject") == ["one two three"])
    }

    /// Lines that are not fields are skipped, three of them at most; the fourth starts the body
    /// (SpamAssassin's values).
    @Test func badHeaderLines() {
        let message = MIMEMessage(
            bytes: Array(
                """
                From: x@example.com
                This is not a header
                Another bad line
                Subject: still header?
                Third bad
                Fourth bad starts body
                Subject: in body
                Content-Type: text/html

                <p>body</p>

                """.utf8))
        #expect(
            message.headers.map { [$0.name, $0.decoded] } == [
                ["From", "x@example.com"], ["Subject", "still header?"],
            ])
        #expect(
            message.body
                == "still header?\nFourth bad starts body Subject: in body Content-Type: text/html\n<p>body</p> ")
        #expect(
            message.problems == ["bad header line", "bad header line", "bad header line", "missing header separator"])
    }

    /// A line starting with "--" ends the header section (a boundary where the blank line is
    /// missing).
    @Test func boundaryLineEndsTheHeaderSection() {
        let message = MIMEMessage(
            bytes: Array("From: x@example.com\nSubject: no separator\nContent-Type: text/plain\n--b\nbody\n".utf8))
        #expect(message.headers.count == 3)
        #expect(message.body == "no separator\n--b body ")
        #expect(message.problems == ["missing header separator"])
    }

    /// Values are cut at 8,192 bytes and names at 256, as in SpamAssassin.
    @Test func longFieldsAreCut() {
        let name = "X-" + String(repeating: "n", count: 300)
        let message = MIMEMessage(
            bytes: Array(("Subject: " + String(repeating: "a", count: 10_000) + "\n" + name + ": v\n\nbody\n").utf8))
        #expect(message.headers.map(\.name.count) == [7, 256])
        #expect(message.header("subject") == [String(repeating: "a", count: 8191)])
        #expect(message.problems == ["header truncated", "header truncated"])
    }

    @Test func unknownCharsetInAnEncodedWordIsCounted() {
        let message = MIMEMessage(bytes: Array("Subject: =?x-unknown?q?caf=E9?=\n\nbody\n".utf8))
        #expect(message.header("subject") == ["café"])
        #expect(message.problems == ["unknown charset"])
    }

    /// Known difference: SpamAssassin's UTF-16 detection gives up on a byte order mark and falls
    /// back to windows-1252 ("þÿ\0h\0i"); the mark is honoured here.
    @Test func utf16WithByteOrderMark() {
        let message = MIMEMessage(bytes: Array("Subject: =?utf-16?b?/v8AaABp?=\n\nbody\n".utf8))
        #expect(message.header("subject") == ["hi"])
    }
}

/// One byte per character (U+0000–U+00FF), for fields that are not UTF-8.
private func latin1(_ text: String) -> [UInt8] { text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }
