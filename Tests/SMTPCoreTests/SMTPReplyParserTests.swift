import NIOCore
import SMTPCore
import Testing

@Suite("SMTPReplyParser (RFC 5321 4.2.1, RFC 2034)")
struct SMTPReplyParserTests {
    /// Feeds every line; the reply must come with the last one and not before.
    private static func feed(_ lines: [String], maxLines: Int = SMTPLimits.replyLines) -> Result<
        SMTPReply, SMTPReplyParseError
    > {
        var parser = SMTPReplyParser(maxLines: maxLines)
        for (number, line) in lines.enumerated() {
            let result: SMTPReply?
            do {
                result = try parser.parse(line: ByteBuffer(string: line))
            } catch {
                return .failure(error)
            }
            let isLast = number == lines.count - 1
            if let result {
                guard isLast else { return .failure(SMTPReplyParseError(message: "test: reply before the last line")) }
                return .success(result)
            }
        }
        return .failure(SMTPReplyParseError(message: "test: no reply after the last line"))
    }

    @Test(
        arguments: [
            (["250 OK"], SMTPReply(250, nil, "OK")),
            (["250"], SMTPReply(250, nil, "")),
            (["250 "], SMTPReply(250, nil, "")),
            (["220 mx.example.org ESMTP ready"], SMTPReply(220, nil, "mx.example.org ESMTP ready")),
            (["550 5.1.1 No such user"], SMTPReply(550, EnhancedStatusCode(5, 1, 1), "No such user")),
            (["250 2.0.0"], SMTPReply(250, EnhancedStatusCode(2, 0, 0), "")),
            (["250 2.0.0  two spaces"], SMTPReply(250, EnhancedStatusCode(2, 0, 0), " two spaces")),
            (["451 4.7.1 later"], SMTPReply(451, EnhancedStatusCode(4, 7, 1), "later")),
            (["550 4.7.1 class differs"], SMTPReply(550, nil, "4.7.1 class differs")),
            (["250 5.7.1 class differs"], SMTPReply(250, nil, "5.7.1 class differs")),
            (["550 5.7.1.2 not a code"], SMTPReply(550, nil, "5.7.1.2 not a code")),
            (["550 5.7.1x"], SMTPReply(550, nil, "5.7.1x")),
            (["550 5.7.1\tx"], SMTPReply(550, nil, "5.7.1\tx")),
            (["550 5.7000.1 x"], SMTPReply(550, nil, "5.7000.1 x")),
            (["550 5..1 x"], SMTPReply(550, nil, "5..1 x")),
            (["550 5.7.1  two spaces"], SMTPReply(code: 550, enhanced: EnhancedStatusCode(5, 7, 1), lines: [" two spaces"])),
            (["550 3.7.1 bad class"], SMTPReply(550, nil, "3.7.1 bad class")),
            (["354 End data with <CR><LF>.<CR><LF>"], SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>")),
            (["334 "], SMTPReply(334, nil, "")),
            (["334 VXNlcm5hbWU6"], SMTPReply(334, nil, "VXNlcm5hbWU6")),
            (["299 odd but valid"], SMTPReply(299, nil, "odd but valid")),
            (
                ["250-mx.example.org", "250-PIPELINING", "250-SIZE 10240000", "250 8BITMIME"],
                SMTPReply(
                    code: 250, enhanced: nil, lines: ["mx.example.org", "PIPELINING", "SIZE 10240000", "8BITMIME"])
            ),
            (["250-", "250 end"], SMTPReply(code: 250, enhanced: nil, lines: ["", "end"])),
            (["250-first", "250"], SMTPReply(code: 250, enhanced: nil, lines: ["first", ""])),
            (
                ["550-5.7.1 Refused by policy", "550 5.7.1 see https://example.org"],
                SMTPReply(
                    code: 550, enhanced: EnhancedStatusCode(5, 7, 1),
                    lines: ["Refused by policy", "see https://example.org"])
            ),
            (
                ["550-5.7.1", "550 5.7.1 text"],
                SMTPReply(code: 550, enhanced: EnhancedStatusCode(5, 7, 1), lines: ["", "text"])
            ),
            (
                ["550-5.7.1 first", "550 second without code"],
                SMTPReply(code: 550, enhanced: nil, lines: ["5.7.1 first", "second without code"])
            ),
            (
                ["550-first without code", "550 5.7.1 second"],
                SMTPReply(code: 550, enhanced: nil, lines: ["first without code", "5.7.1 second"])
            ),
            (
                ["550-5.7.1 first", "550 5.1.1 second"],
                SMTPReply(code: 550, enhanced: nil, lines: ["5.7.1 first", "5.1.1 second"])
            ),
            (["250 Bücher ok"], SMTPReply(250, nil, "Bücher ok")),
        ] as [([String], SMTPReply)])
    func parses(lines: [String], reply: SMTPReply) {
        #expect(Self.feed(lines) == .success(reply))
    }

    @Test(arguments: [
        ["250-first", "251 second"],
        ["250-first", "550 second"],
        ["", "250 ok"],
        ["garbage"],
        ["25"],
        ["25 short"],
        ["2500 four digits"],
        ["250_underscore"],
        ["250\tOK"],
        ["abc OK"],
        ["150 not a class"],
        ["650 not a class"],
        ["050 ok"],
        [" 250 OK"],
        ["250-first", "garbage"],
        ["250-first", "250+second"],
    ])
    func refuses(lines: [String]) {
        guard case .failure = Self.feed(lines) else {
            Issue.record("accepted \(lines)")
            return
        }
    }

    @Test(arguments: [(1, 1, true), (1, 2, false), (3, 3, true), (3, 4, false), (128, 128, true), (128, 129, false)])
    func maxLines(maxLines: Int, lineCount: Int, accepted: Bool) {
        let lines = (0..<lineCount).map { $0 == lineCount - 1 ? "250 last" : "250-line \($0)" }
        switch Self.feed(lines, maxLines: maxLines) {
        case .success(let reply):
            #expect(accepted)
            #expect(reply.lines.count == lineCount)
        case .failure(let error):
            #expect(!accepted)
            #expect(error.message == "reply longer than \(maxLines) lines")
        }
    }

    @Test func startsAfreshAfterAReplyAndAfterAnError() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.parse(line: ByteBuffer(string: "250-a")) == nil)
        #expect(
            try parser.parse(line: ByteBuffer(string: "250 b"))
                == SMTPReply(code: 250, enhanced: nil, lines: ["a", "b"]))
        #expect(try parser.parse(line: ByteBuffer(string: "354 go")) == SMTPReply(354, nil, "go"))
        #expect(try parser.parse(line: ByteBuffer(string: "250-a")) == nil)
        #expect(throws: SMTPReplyParseError.self) { try parser.parse(line: ByteBuffer(string: "550 b")) }
        #expect(
            try parser.parse(line: ByteBuffer(string: "550 5.0.0 c"))
                == SMTPReply(550, EnhancedStatusCode(5, 0, 0), "c"))
    }

    @Test func differingCodesAreNamedInTheError() {
        #expect(
            Self.feed(["250-a", "251 b"])
                == .failure(SMTPReplyParseError(message: "reply code 251 differs from 250 on an earlier line")))
        #expect(Self.feed(["hello"]) == .failure(SMTPReplyParseError(message: "not a reply line")))
    }
}
