import SMTPCore
import Testing

@Suite("SMTPReply: wire form (RFC 5321 4.2) and log form")
struct SMTPReplyTests {
    @Test(arguments: [
        (SMTPReply(250, nil, "OK"), "250 OK\r\n", "250 OK"),
        (
            SMTPReply(550, EnhancedStatusCode(5, 7, 1), "Refused [ref=abc]"), "550 5.7.1 Refused [ref=abc]\r\n",
            "550 5.7.1 Refused [ref=abc]"
        ),
        (SMTPReply(250, EnhancedStatusCode(2, 0, 0), ""), "250 2.0.0\r\n", "250 2.0.0"),
        (SMTPReply(250, nil, ""), "250\r\n", "250"),
        (SMTPReply(code: 250, enhanced: nil, lines: []), "250\r\n", "250"),
        (
            SMTPReply(code: 250, enhanced: EnhancedStatusCode(5, 7, 1), lines: ["a", "b"]),
            "250-5.7.1 a\r\n250 5.7.1 b\r\n", "250 5.7.1 a b"
        ),
        (
            SMTPReply(code: 250, enhanced: nil, lines: ["mx.example.org", "PIPELINING", "8BITMIME"]),
            "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n", "250 mx.example.org PIPELINING 8BITMIME"
        ),
        (SMTPReply(code: 220, enhanced: nil, lines: ["", ""]), "220-\r\n220\r\n", "220  "),
        (
            SMTPReply(code: 451, enhanced: EnhancedStatusCode(4, 7, 1), lines: ["", "later"]),
            "451-4.7.1\r\n451 4.7.1 later\r\n", "451 4.7.1  later"
        ),
        (
            SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>"), "354 End data with <CR><LF>.<CR><LF>\r\n",
            "354 End data with <CR><LF>.<CR><LF>"
        ),
        (SMTPReply(550, nil, "a\r\n250 smuggled"), "550 a  250 smuggled\r\n", "550 a  250 smuggled"),
    ])
    func write(reply: SMTPReply, bytes: String, description: String) {
        #expect(wire(reply) == bytes)
        #expect(reply.description == description)
    }

    @Test(arguments: [
        (200, [true, false, false, false]),
        (250, [true, false, false, false]),
        (299, [true, false, false, false]),
        (334, [false, true, false, false]),
        (354, [false, true, false, false]),
        (421, [false, false, true, false]),
        (451, [false, false, true, false]),
        (500, [false, false, false, true]),
        (599, [false, false, false, true]),
    ])
    func categories(code: Int, expected: [Bool]) {
        let reply = SMTPReply(code, nil, "x")
        #expect(
            [reply.isPositiveCompletion, reply.isIntermediate, reply.isTransientFailure, reply.isPermanentFailure]
                == expected)
    }

    @Test func textJoinsLinesWithSpaces() {
        let reply = SMTPReply(code: 550, enhanced: EnhancedStatusCode(5, 1, 1), lines: ["No such", "user here"])
        #expect(reply.text == "No such user here")
        #expect(reply.lines == ["No such", "user here"])
    }
}
