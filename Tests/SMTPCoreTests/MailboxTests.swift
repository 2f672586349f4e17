import SMTPCore
import Testing

@Suite("Mailbox (RFC 5321 4.1.2)")
struct MailboxTests {
    @Test(arguments: [
        ("a@example.org", Mailbox(localPart: "a", domain: "example.org"), false, false),
        ("\"a b\"@example.org", Mailbox(localPart: "\"a b\"", domain: "example.org"), true, false),
        ("a@[192.0.2.1]", Mailbox(localPart: "a", domain: "[192.0.2.1]"), false, true),
        ("\"x@y\"@[IPv6:::1]", Mailbox(localPart: "\"x@y\"", domain: "[IPv6:::1]"), true, true),
        ("jörg@bücher.example", Mailbox(localPart: "jörg", domain: "bücher.example"), false, false),
    ])
    func parsing(text: String, mailbox: Mailbox, quoted: Bool, literal: Bool) {
        #expect(Mailbox(parsing: text) == mailbox)
        #expect(mailbox.description == text)
        #expect(mailbox.isQuotedLocalPart == quoted)
        #expect(mailbox.isAddressLiteral == literal)
    }

    @Test(arguments: [
        "", "a", "a@", "@b", "\"a\u{1}b\"@c", "\"a\tb\"@c", "\"a\\\u{7F}\"@c", "a\u{0}@b", "<a@b>", "a@b.", "a@b ",
        " a@b", "a@[1.2.3.4", "a@b@c",
        String(repeating: "l", count: 65) + "@b", "a@" + String(repeating: "d.", count: 128) + "d",
    ])
    func parsingRejects(text: String) {
        #expect(Mailbox(parsing: text) == nil)
    }

    @Test(arguments: [
        (ForwardPath.postmaster, "Postmaster"),
        (.mailbox(Mailbox(localPart: "b", domain: "c")), "b@c"),
    ])
    func forwardPathDescription(path: ForwardPath, text: String) {
        #expect(path.description == text)
    }
}
