import SMTPCore
import Testing

@Suite("SMTPCommand: canonical wire form and encode-then-parse")
struct SMTPCommandRoundTripTests {
    @Test(arguments: [
        (SMTPCommand.ehlo("client.example"), "EHLO client.example\r\n"),
        (.helo("[192.0.2.1]"), "HELO [192.0.2.1]\r\n"),
        (mail("a", "example.org"), "MAIL FROM:<a@example.org>\r\n"),
        (.mail(MailCommand(reversePath: nil)), "MAIL FROM:<>\r\n"),
        (
            mail(
                "\"john smith\"", "[IPv6:2001:db8::1]", [ESMTPParameter("SIZE", "10"), ESMTPParameter("SMTPUTF8", nil)]),
            "MAIL FROM:<\"john smith\"@[IPv6:2001:db8::1]> SIZE=10 SMTPUTF8\r\n"
        ),
        (mail("jörg", "bücher.example"), "MAIL FROM:<jörg@bücher.example>\r\n"),
        (rcpt("b", "example.org", [ESMTPParameter("NOTIFY", "NEVER")]), "RCPT TO:<b@example.org> NOTIFY=NEVER\r\n"),
        (.rcpt(RcptCommand(forwardPath: .postmaster)), "RCPT TO:<Postmaster>\r\n"),
        (.data, "DATA\r\n"),
        (.bdat(size: 512, last: false), "BDAT 512\r\n"),
        (.bdat(size: 0, last: true), "BDAT 0 LAST\r\n"),
        (.rset, "RSET\r\n"),
        (.noop, "NOOP\r\n"),
        (.quit, "QUIT\r\n"),
        (.vrfy("John Smith"), "VRFY John Smith\r\n"),
        (.expn("staff"), "EXPN staff\r\n"),
        (.help, "HELP\r\n"),
        (.starttls, "STARTTLS\r\n"),
        (.auth(mechanism: "PLAIN", initialResponse: nil), "AUTH PLAIN\r\n"),
        (.auth(mechanism: "PLAIN", initialResponse: "="), "AUTH PLAIN =\r\n"),
        (.auth(mechanism: "LOGIN", initialResponse: "dXNlcg=="), "AUTH LOGIN dXNlcg==\r\n"),
    ])
    func roundTrip(command: SMTPCommand, line: String) {
        #expect(wire(command) == line)
        // "\r\n" is one Character: cut the bytes, not the characters.
        #expect(parse(bytes: Array(line.utf8.dropLast(2))) == .command(command))
    }

    @Test(arguments: [
        ("mail from: <a@b>   size=10", "MAIL FROM:<a@b> SIZE=10\r\n"),
        ("MAIL FROM:<@r1,@r2:a@b>", "MAIL FROM:<a@b>\r\n"),
        ("rcpt to:<@r1:b@c> notify=never", "RCPT TO:<b@c> NOTIFY=never\r\n"),
        ("rcpt to:<POSTMASTER>", "RCPT TO:<Postmaster>\r\n"),
        ("ehlo   client.example  ", "EHLO client.example\r\n"),
        ("noop ignored words", "NOOP\r\n"),
        ("help me", "HELP\r\n"),
        ("bdat 0010 last", "BDAT 10 LAST\r\n"),
        ("auth plain Zm9v", "AUTH PLAIN Zm9v\r\n"),
    ])
    func clientSpellingBecomesCanonical(line: String, canonical: String) throws {
        guard case .command(let command) = parse(line) else {
            Issue.record("refused \(line)")
            return
        }
        #expect(wire(command) == canonical)
    }

    @Test(arguments: [
        (SMTPCommand.ehlo("evil\r\nRCPT TO:<x@y>"), "EHLO evil  RCPT TO:<x@y>\r\n"),
        (mail("a\n", "b"), "MAIL FROM:<a @b>\r\n"),
        (.vrfy("x\u{0}y"), "VRFY x y\r\n"),
    ])
    func controlCharactersCannotEndTheLine(command: SMTPCommand, line: String) {
        #expect(wire(command) == line)
    }
}
