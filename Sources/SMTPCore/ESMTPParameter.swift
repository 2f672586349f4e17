/// A MAIL or RCPT parameter, [RFC 5321 section 4.1.2](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.2)
/// (the ESMTP framework of RFC 1869):
///
///     C: MAIL FROM:<a@example.org> SIZE=1200 BODY=8BITMIME SMTPUTF8
///
/// gives `SIZE=1200`, `BODY=8BITMIME` and `SMTPUTF8` (a keyword without value).
public struct ESMTPParameter: Hashable, Sendable, CustomStringConvertible {
    /// Uppercased, so comparisons need not care how the client spelled it.
    public var keyword: String
    public var value: String?

    /// `keyword` is stored uppercased.
    public init(_ keyword: String, _ value: String?) {
        self.keyword = keyword.uppercased()
        self.value = value
    }

    /// "SIZE=123" or "SMTPUTF8"
    public var description: String {
        value.map { "\(keyword)=\($0)" } ?? keyword
    }
}
