import SMTPCore
import Testing

@Suite("SMTPCommandParser: MAIL and RCPT paths (RFC 5321 4.1.2)")
struct EnvelopeAddressTests {
    @Test(
        arguments: [
            ("MAIL FROM:<a@example.org>", mail("a", "example.org")),
            ("mail from:<a@example.org>", mail("a", "example.org")),
            ("Mail From:<A.B@Example.ORG>", mail("A.B", "Example.ORG")),
            ("MAIL FROM: <a@example.org>", mail("a", "example.org")),
            ("MAIL  FROM:<a@example.org>", mail("a", "example.org")),
            ("MAIL FROM:<>", .mail(MailCommand(reversePath: nil))),
            ("MAIL FROM: <>", .mail(MailCommand(reversePath: nil))),
            ("MAIL FROM:<\"john smith\"@example.org>", mail("\"john smith\"", "example.org")),
            ("MAIL FROM:<\"a@b\"@example.org>", mail("\"a@b\"", "example.org")),
            ("MAIL FROM:<\"a\\\"b\\\\c\"@example.org>", mail("\"a\\\"b\\\\c\"", "example.org")),
            ("MAIL FROM:<\"<>\"@example.org>", mail("\"<>\"", "example.org")),
            ("MAIL FROM:<\"\"@example.org>", mail("\"\"", "example.org")),
            ("MAIL FROM:<user%other.example@relay.example>", mail("user%other.example", "relay.example")),
            ("MAIL FROM:<host!user@relay.example>", mail("host!user", "relay.example")),
            ("MAIL FROM:<a+tag@example.org>", mail("a+tag", "example.org")),
            ("MAIL FROM:<!#$%&'*+-/=?^_`{|}~@example.org>", mail("!#$%&'*+-/=?^_`{|}~", "example.org")),
            ("MAIL FROM:<a@localhost>", mail("a", "localhost")),
            ("MAIL FROM:<a@xn--bcher-kva.example>", mail("a", "xn--bcher-kva.example")),
            ("MAIL FROM:<a@3com.example>", mail("a", "3com.example")),
            ("MAIL FROM:<a@[192.0.2.1]>", mail("a", "[192.0.2.1]")),
            ("MAIL FROM:<a@[0.0.0.0]>", mail("a", "[0.0.0.0]")),
            ("MAIL FROM:<a@[255.255.255.255]>", mail("a", "[255.255.255.255]")),
            ("MAIL FROM:<a@[IPv6:2001:db8::1]>", mail("a", "[IPv6:2001:db8::1]")),
            ("MAIL FROM:<a@[ipv6:2001:DB8:0:0:0:0:0:1]>", mail("a", "[ipv6:2001:DB8:0:0:0:0:0:1]")),
            ("MAIL FROM:<a@[IPv6:::]>", mail("a", "[IPv6:::]")),
            ("MAIL FROM:<a@[IPv6:::1]>", mail("a", "[IPv6:::1]")),
            ("MAIL FROM:<a@[IPv6:fe80::]>", mail("a", "[IPv6:fe80::]")),
            ("MAIL FROM:<a@[IPv6:::ffff:192.0.2.1]>", mail("a", "[IPv6:::ffff:192.0.2.1]")),
            ("MAIL FROM:<a@[IPv6:1:2:3:4:5:6:192.0.2.1]>", mail("a", "[IPv6:1:2:3:4:5:6:192.0.2.1]")),
            ("MAIL FROM:<a@[IPv6:1:2:3::4:5:6]>", mail("a", "[IPv6:1:2:3::4:5:6]")),
            ("MAIL FROM:<a@[x-tag:some-content]>", mail("a", "[x-tag:some-content]")),
            ("MAIL FROM:<jörg@bücher.example>", mail("jörg", "bücher.example")),
            ("MAIL FROM:<\"jörg x\"@example.org>", mail("\"jörg x\"", "example.org")),
            ("MAIL FROM:<测试@例子.测试>", mail("测试", "例子.测试")),
            (
                "MAIL FROM:<@a.example,@b.example:u@c.example>",
                .mail(MailCommand(reversePath: mailbox("u", "c.example"), sourceRoute: ["a.example", "b.example"]))
            ),
            ("MAIL FROM:<@a:u@c>", .mail(MailCommand(reversePath: mailbox("u", "c"), sourceRoute: ["a"]))),
        ] as [(String, SMTPCommand)])
    func acceptsSender(line: String, command: SMTPCommand) {
        #expect(parse(line) == .command(command))
    }

    @Test(arguments: [
        "MAIL FROM:a@example.org",
        "MAIL FROM:<a@example.org",
        "MAIL FROM:a@example.org>",
        "MAIL FROM:",
        "MAIL FROM:  <a@example.org>",
        "MAIL FROM:<a@example.org.>",
        "MAIL FROM:<a@.example.org>",
        "MAIL FROM:<a@example..org>",
        "MAIL FROM:<a@-example.org>",
        "MAIL FROM:<a@example-.org>",
        "MAIL FROM:<a@exa_mple.org>",
        "MAIL FROM:<a@>",
        "MAIL FROM:<@example.org>",
        "MAIL FROM:<a>",
        "MAIL FROM:<a.@example.org>",
        "MAIL FROM:<.a@example.org>",
        "MAIL FROM:<a..b@example.org>",
        "MAIL FROM:<a b@example.org>",
        "MAIL FROM:<a@b@example.org>",
        "MAIL FROM:<a(comment)@example.org>",
        "MAIL FROM:<\"unterminated@example.org>",
        "MAIL FROM:<\"a\"b@example.org>",
        "MAIL FROM:<a@example.org>x",
        "MAIL FROM:<a@example.org>>",
        "MAIL FROM:<<a@example.org>>",
        "MAIL FROM:<Postmaster>",
        "MAIL FROM:<@a.example:>",
        "MAIL FROM:<@a.example u@c.example>",
        "MAIL FROM:<@a.example,u@c.example>",
        "MAIL FROM:<@[192.0.2.1]:u@c.example>",
        "MAIL FROM:<@a.example.:u@c.example>",
        "MAIL FROM:<a@[192.0.2.256]>",
        "MAIL FROM:<a@[192.0.2]>",
        "MAIL FROM:<a@[192.0.2.1.5]>",
        "MAIL FROM:<a@[192.0.2.1111]>",
        "MAIL FROM:<a@[192.0..1]>",
        "MAIL FROM:<a@[ 192.0.2.1]>",
        "MAIL FROM:<a@[192.0.2.1 ]>",
        "MAIL FROM:<a@[IPv6: ::1]>",
        "MAIL FROM:<a@[]>",
        "MAIL FROM:<a@[192.0.2.1>",
        "MAIL FROM:<a@[IPv6:2001:db8::1::2]>",
        "MAIL FROM:<a@[IPv6:1:2:3:4:5:6:7]>",
        "MAIL FROM:<a@[IPv6:1:2:3:4:5:6:7:8:9]>",
        "MAIL FROM:<a@[IPv6:1:2:3:4:5:6:7::]>",
        "MAIL FROM:<a@[IPv6:12345::1]>",
        "MAIL FROM:<a@[IPv6:g::1]>",
        "MAIL FROM:<a@[IPv6::::1]>",
        "MAIL FROM:<a@[IPv6:1:2:3:4:5::192.0.2.1]>",
        "MAIL FROM:<a@[IPv6:1:2:3:4:5:192.0.2.1]>",
        "MAIL FROM:<a@[IPv6:192.0.2.1::]>",
        "MAIL FROM:<a@[IPv6:::ffff:192.0.2.256]>",
        "MAIL FROM:<a@[IPv6:]>",
        "MAIL FROM:<a@[IPv6:junk]>",
        "MAIL FROM:<a@[x-tag:]>",
        "MAIL FROM:<a@[-:x]>",
        "MAIL FROM:<a@[tag-:x]>",
        "MAIL FROM:<a@[tag:a\\b]>",
        "MAIL FROM:<a@[a[b]>",
        "MAIL FROM:<a@[IPv6:2001:db8::1]x>",
        "MAIL FROM:<a@[Bücher]>",
    ])
    func refusesSender(line: String) {
        #expect(parse(line) == .refused(badSender))
    }

    @Test(
        arguments: [
            ("RCPT TO:<b@example.org>", rcpt("b", "example.org")),
            ("rcpt to:<b@example.org>", rcpt("b", "example.org")),
            ("RCPT TO: <b@example.org>", rcpt("b", "example.org")),
            ("RCPT TO:<Postmaster>", .rcpt(RcptCommand(forwardPath: .postmaster))),
            ("RCPT TO:<postmaster>", .rcpt(RcptCommand(forwardPath: .postmaster))),
            ("RCPT TO:<POSTMASTER>", .rcpt(RcptCommand(forwardPath: .postmaster))),
            ("RCPT TO:<Postmaster@example.org>", rcpt("Postmaster", "example.org")),
            ("RCPT TO:<\"a b\"@[IPv6:::1]>", rcpt("\"a b\"", "[IPv6:::1]")),
            ("RCPT TO:<user%c.example@relay.example>", rcpt("user%c.example", "relay.example")),
            ("RCPT TO:<c.example!user@relay.example>", rcpt("c.example!user", "relay.example")),
            (
                "RCPT TO:<@a,@b:u@c>",
                .rcpt(RcptCommand(forwardPath: .mailbox(mailbox("u", "c")), sourceRoute: ["a", "b"]))
            ),
        ] as [(String, SMTPCommand)])
    func acceptsRecipient(line: String, command: SMTPCommand) {
        #expect(parse(line) == .command(command))
    }

    @Test(arguments: [
        "RCPT TO:b@example.org",
        "RCPT TO:<>",
        "RCPT TO:<b@example.org.>",
        "RCPT TO:<b@[10.0.0.300]>",
        "RCPT TO:<@a:Postmaster>",
        "RCPT TO:<Postmaster >",
        "RCPT TO:<b @example.org>",
        "RCPT TO:",
    ])
    func refusesRecipient(line: String) {
        #expect(parse(line) == .refused(badRecipient))
    }

    @Test(arguments: [
        (String(repeating: "l", count: 64), "example.org", true),
        (String(repeating: "l", count: 65), "example.org", false),
        ("\"" + String(repeating: "q", count: 62) + "\"", "example.org", true),
        ("\"" + String(repeating: "q", count: 63) + "\"", "example.org", false),
        ("ü" + String(repeating: "l", count: 62), "example.org", true),
        ("ü" + String(repeating: "l", count: 63), "example.org", false),
    ])
    func localPartLength(localPart: String, domain: String, accepted: Bool) {
        let line = "MAIL FROM:<\(localPart)@\(domain)>"
        let expected: ParseOutcome =
            accepted ? .command(mail(localPart, domain)) : .refused("501 5.1.7 Sender address local part too long")
        #expect(parse(line) == expected)
    }

    /// A valid domain of exactly `length` octets, in labels of at most 63.
    private static func domain(length: Int) -> String {
        var labels: [String] = []
        var remaining = length
        while remaining > 0 {
            var label = min(63, remaining)
            if remaining == label + 1 { label -= 1 }
            labels.append(String(repeating: "d", count: label))
            remaining -= label + 1
        }
        let domain = labels.joined(separator: ".")
        precondition(domain.utf8.count == length)
        return domain
    }

    @Test(arguments: [
        ("RCPT TO:<b@\(domain(length: 247))>", ParseOutcome.command(rcpt("b", domain(length: 247)))),
        (
            "RCPT TO:<\(String(repeating: "l", count: 64))@\(domain(length: 189))>",
            .command(rcpt(String(repeating: "l", count: 64), domain(length: 189)))
        ),
        (
            "MAIL FROM:<@\(domain(length: 200)):b@\(domain(length: 50))>",
            .command(
                .mail(MailCommand(reversePath: mailbox("b", domain(length: 50)), sourceRoute: [domain(length: 200)])))
        ),
        ("RCPT TO:<b@\(domain(length: 253))>", .refused("501 5.1.3 Recipient address too long")),
        (
            "RCPT TO:<\(String(repeating: "l", count: 64))@\(domain(length: 190))>",
            .refused("501 5.1.3 Recipient address too long")
        ),
        ("RCPT TO:<b@\(domain(length: 256))>", .refused("501 5.1.3 Recipient address domain too long")),
        ("MAIL FROM:<b@\(domain(length: 256))>", .refused("501 5.1.7 Sender address domain too long")),
        ("MAIL FROM:<@\(domain(length: 256)):b@c>", .refused("501 5.1.7 Sender address domain too long")),
        ("MAIL FROM:<@\(domain(length: 200)):b@\(domain(length: 51))>", .refused("501 5.1.7 Sender address too long")),
        ("RCPT TO:<b@\(domain(length: 253))", .refused(badRecipient)),
    ])
    func pathAndDomainLength(line: String, outcome: ParseOutcome) {
        #expect(parse(line) == outcome)
    }

    @Test(arguments: [
        (raw(#"MAIL FROM:<j\xC3\xB6rg@example.org>"#), true),
        (raw(#"MAIL FROM:<j\xF6rg@example.org>"#), false),
        (raw(#"MAIL FROM:<j\xC3@example.org>"#), false),
        (raw(#"MAIL FROM:<a@b\xC3\xBCcher.example>"#), true),
        (raw(#"MAIL FROM:<a@b\xFCcher.example>"#), false),
        (raw(#"MAIL FROM:<a@\xED\xA0\x80.example>"#), false),
        (raw(#"MAIL FROM:<"\xE2\x82\xAC"@example.org>"#), true),
        (raw(#"MAIL FROM:<"\xE2\x82"@example.org>"#), false),
        (raw(#"MAIL FROM:<"\\xC3\xB6"@example.org>"#), false),
        (raw(#"MAIL FROM:<\xC0\xAF@example.org>"#), false),
    ])
    func utf8(line: [UInt8], accepted: Bool) {
        if accepted {
            guard case .command(.mail) = parse(bytes: line) else {
                Issue.record("refused valid UTF-8: \(parse(bytes: line))")
                return
            }
        } else {
            #expect(parse(bytes: line) == .refused(badSender))
        }
    }

    @Test func utf8MailboxKeepsItsText() {
        #expect(
            parse(bytes: raw(#"MAIL FROM:<j\xC3\xB6rg@b\xC3\xBCcher.example>"#))
                == .command(mail("jörg", "bücher.example")))
    }
}
