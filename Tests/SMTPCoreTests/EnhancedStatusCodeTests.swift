import SMTPCore
import Testing

@Suite("EnhancedStatusCode (RFC 3463 2)")
struct EnhancedStatusCodeTests {
    @Test(arguments: [
        ("5.7.1", EnhancedStatusCode(5, 7, 1)),
        ("2.0.0", EnhancedStatusCode(2, 0, 0)),
        ("4.4.7", EnhancedStatusCode(4, 4, 7)),
        ("5.999.999", EnhancedStatusCode(5, 999, 999)),
        ("5.007.01", EnhancedStatusCode(5, 7, 1)),
    ])
    func parses(text: String, code: EnhancedStatusCode) {
        #expect(EnhancedStatusCode(text[...]) == code)
    }

    @Test(arguments: [
        "", "5", "5.7", "5.7.1.", "5.7.1.0", "3.0.0", "1.0.0", "6.0.0", "0.0.0", "55.7.1",
        "5.1000.1", "5.1.1000", "5..1", ".7.1", "5.7.", "5.a.1", "5.7.1 ", " 5.7.1", "+5.7.1", "5.-7.1", "５.7.1",
    ])
    func rejects(text: String) {
        #expect(EnhancedStatusCode(text[...]) == nil)
    }

    @Test(arguments: [
        (EnhancedStatusCode(5, 7, 1), "5.7.1"),
        (EnhancedStatusCode(4, 123, 45), "4.123.45"),
    ])
    func description(code: EnhancedStatusCode, text: String) {
        #expect(code.description == text)
        #expect(EnhancedStatusCode(text[...]) == code)
    }
}
