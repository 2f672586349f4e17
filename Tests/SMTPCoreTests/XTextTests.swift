import SMTPCore
import Testing

@Suite("XText (RFC 3461 4)")
struct XTextTests {
    @Test(arguments: [
        ("user@example.org", "user@example.org"),
        ("a b", "a+20b"),
        ("a+b", "a+2Bb"),
        ("a=b", "a+3Db"),
        ("", ""),
        ("+", "+2B"),
        ("tab\there", "tab+09here"),
        ("ü", "+C3+BC"),
        ("~!", "~!"),
        ("\u{7F}", "+7F"),
    ])
    func encodeAndDecode(plain: String, xtext: String) {
        #expect(XText.encode(plain) == xtext)
        #expect(XText.decode(xtext) == plain)
    }

    @Test(arguments: [
        ("a+2bb", "a+b"),
        ("+41", "A"),
    ])
    func decodeIsLenientAboutSpelling(xtext: String, plain: String) {
        #expect(XText.decode(xtext) == plain)
    }

    @Test(arguments: ["a b", "a=b", "+", "+2", "+2G", "+G2", "a+", "+FF", "+C3", "é"])
    func decodeRejects(text: String) {
        #expect(XText.decode(text) == nil)
    }

    @Test(arguments: ["rfc822;Jörg+Smith=1@bücher.example", "\"quoted local\"@[IPv6:::1]", "a\r\nb", ""])
    func roundTrip(plain: String) {
        let encoded = XText.encode(plain)
        #expect(encoded.utf8.allSatisfy { (33...126).contains($0) && $0 != UInt8(ascii: "=") })
        #expect(XText.decode(encoded) == plain)
    }
}
