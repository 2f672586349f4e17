import SMTPCore
import Testing

@Suite("SMTPCommandParser: verbs and simple arguments")
struct SMTPCommandParserTests {
    @Test(
        arguments: [
            ("EHLO client.example", .ehlo("client.example")),
            ("ehlo client.example", .ehlo("client.example")),
            ("eHlO [192.0.2.1]", .ehlo("[192.0.2.1]")),
            ("EHLO   spaced.example  ", .ehlo("spaced.example")),
            ("EHLO not_a-valid..domain", .ehlo("not_a-valid..domain")),
            ("EHLO bücher.example", .ehlo("bücher.example")),
            ("HELO client.example", .helo("client.example")),
            ("helo x", .helo("x")),
            ("DATA", .data),
            ("data", .data),
            ("DATA ", .data),
            ("RSET", .rset),
            ("Rset", .rset),
            ("NOOP", .noop),
            ("noop anything at all", .noop),
            ("QUIT", .quit),
            ("quit", .quit),
            ("HELP", .help),
            ("help MAIL", .help),
            ("STARTTLS", .starttls),
            ("starttls", .starttls),
            ("VRFY postmaster", .vrfy("postmaster")),
            ("vrfy John Smith", .vrfy("John Smith")),
            ("EXPN staff", .expn("staff")),
            ("BDAT 0 LAST", .bdat(size: 0, last: true)),
            ("BDAT 1000", .bdat(size: 1000, last: false)),
            ("bdat 42 last", .bdat(size: 42, last: true)),
            ("BDAT 999999999999999999 LAST", .bdat(size: 999_999_999_999_999_999, last: true)),
            ("BDAT 007", .bdat(size: 7, last: false)),
            ("AUTH PLAIN", .auth(mechanism: "PLAIN", initialResponse: nil)),
            ("auth plain AGFsaWNlAHNlY3JldA==", .auth(mechanism: "PLAIN", initialResponse: "AGFsaWNlAHNlY3JldA==")),
            ("AUTH PLAIN =", .auth(mechanism: "PLAIN", initialResponse: "=")),
            ("AUTH login dXNlcg==", .auth(mechanism: "LOGIN", initialResponse: "dXNlcg==")),
            ("AUTH SCRAM-SHA-256", .auth(mechanism: "SCRAM-SHA-256", initialResponse: nil)),
            ("AUTH x_oauth2 Zm9v", .auth(mechanism: "X_OAUTH2", initialResponse: "Zm9v")),
        ] as [(String, SMTPCommand)])
    func accepts(line: String, command: SMTPCommand) {
        #expect(parse(line) == .command(command))
    }

    @Test(arguments: [
        ("", notRecognized),
        ("   ", notRecognized),
        ("FOO", notRecognized),
        ("EHLOclient.example", notRecognized),
        ("MAILFROM:<a@b>", notRecognized),
        (" EHLO client.example", notRecognized),
        ("STARTTLSX", notRecognized),
        ("EHLO", "501 5.5.4 EHLO requires a domain or address literal"),
        ("EHLO a b", "501 5.5.4 EHLO requires a domain or address literal"),
        ("HELO", "501 5.5.4 HELO requires a domain or address literal"),
        ("HELO a b", "501 5.5.4 HELO requires a domain or address literal"),
        ("DATA now", "501 5.5.4 DATA takes no arguments"),
        ("RSET x", "501 5.5.4 RSET takes no arguments"),
        ("QUIT bye", "501 5.5.4 QUIT takes no arguments"),
        ("STARTTLS x", "501 5.5.4 STARTTLS takes no arguments"),
        ("VRFY", "501 5.5.4 VRFY requires an argument"),
        ("EXPN  ", "501 5.5.4 EXPN requires an argument"),
        ("BDAT", "501 5.5.4 Syntax: BDAT size [LAST]"),
        ("BDAT -1", "501 5.5.4 Syntax: BDAT size [LAST]"),
        ("BDAT +1", "501 5.5.4 Syntax: BDAT size [LAST]"),
        ("BDAT 1x", "501 5.5.4 Syntax: BDAT size [LAST]"),
        ("BDAT 1000000000000000000", "501 5.5.4 Syntax: BDAT size [LAST]"),
        ("BDAT 10 FIRST", "501 5.5.4 Syntax: BDAT size [LAST]"),
        ("BDAT 10 LAST x", "501 5.5.4 Syntax: BDAT size [LAST]"),
        ("BDAT LAST", "501 5.5.4 Syntax: BDAT size [LAST]"),
        ("AUTH", "501 5.5.4 Syntax: AUTH mechanism [initial-response]"),
        ("AUTH PL@IN", "501 5.5.4 Syntax: AUTH mechanism [initial-response]"),
        ("AUTH ABCDEFGHIJKLMNOPQRSTU", "501 5.5.4 Syntax: AUTH mechanism [initial-response]"),
        ("AUTH PLAIN abc", "501 5.5.4 Syntax: AUTH mechanism [initial-response]"),
        ("AUTH PLAIN Zm9v=", "501 5.5.4 Syntax: AUTH mechanism [initial-response]"),
        ("AUTH PLAIN Z===", "501 5.5.4 Syntax: AUTH mechanism [initial-response]"),
        ("AUTH PLAIN Zm=v", "501 5.5.4 Syntax: AUTH mechanism [initial-response]"),
        ("AUTH PLAIN Zm9v Zm9v", "501 5.5.4 Syntax: AUTH mechanism [initial-response]"),
        ("MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>"),
        ("MAIL TO:<a@b>", "501 5.5.4 Syntax: MAIL FROM:<address>"),
        ("MAIL FROM <a@b>", "501 5.5.4 Syntax: MAIL FROM:<address>"),
        ("RCPT", "501 5.5.4 Syntax: RCPT TO:<address>"),
        ("RCPT FROM:<a@b>", "501 5.5.4 Syntax: RCPT TO:<address>"),
    ])
    func refuses(line: String, reply: String) {
        #expect(parse(line) == .refused(reply))
    }

    @Test(arguments: [
        Array("EHLO a\rb".utf8),
        Array("EHLO a\nb".utf8),
        Array("EHLO a\tb".utf8),
        Array("NOOP \u{0}".utf8),
        Array("QUIT\r".utf8),
        Array("MAIL FROM:<a\u{7F}@b>".utf8),
        Array("RCPT TO:<a@b>\u{1B}".utf8),
        [0],
    ])
    func refusesControlBytes(line: [UInt8]) {
        #expect(parse(bytes: line) == .refused(invalidCharacter))
    }

    @Test(arguments: [
        raw(#"EHLO b\xFCcher"#),
        raw(#"VRFY \xC3"#),
        raw(#"HELO \xED\xA0\x80"#),
    ])
    func refusesInvalidUTF8Arguments(line: [UInt8]) {
        guard case .refused(let reply) = parse(bytes: line) else {
            Issue.record("accepted invalid UTF-8")
            return
        }
        #expect(reply.hasPrefix("501 5.5.4 "))
    }

    @Test(arguments: [
        (SMTPCommand.ehlo("x"), "EHLO"), (.helo("x"), "HELO"), (mail("a", "b"), "MAIL"),
        (rcpt("a", "b"), "RCPT"), (.data, "DATA"), (.bdat(size: 1, last: false), "BDAT"),
        (.rset, "RSET"), (.noop, "NOOP"), (.quit, "QUIT"), (.vrfy("x"), "VRFY"),
        (.expn("x"), "EXPN"), (.help, "HELP"), (.starttls, "STARTTLS"),
        (.auth(mechanism: "PLAIN", initialResponse: nil), "AUTH"),
    ])
    func verb(command: SMTPCommand, verb: String) {
        #expect(command.verb == verb)
    }
}
