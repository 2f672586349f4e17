/// An enhanced mail system status code, [RFC 3463 section 2](https://www.rfc-editor.org/rfc/rfc3463#section-2),
/// carried in replies as [RFC 2034](https://www.rfc-editor.org/rfc/rfc2034) describes:
///
///     C: RCPT TO:<nobody@example.org>
///     S: 550 5.1.1 No such user
///
/// The class says how bad (2 success, 4 persistent transient failure, 5 permanent failure),
/// the subject what it is about (1 addressing, 7 security or policy, ...), the detail which case.
public struct EnhancedStatusCode: Hashable, Sendable, CustomStringConvertible {
    public var statusClass: Int
    public var subject: Int
    public var detail: Int

    /// `EnhancedStatusCode(5, 7, 1)` is 5.7.1. Our own codes must be valid ones.
    public init(_ statusClass: Int, _ subject: Int, _ detail: Int) {
        precondition(
            [2, 4, 5].contains(statusClass) && (0...999).contains(subject)
                && (0...999).contains(detail),
            "invalid enhanced status code \(statusClass).\(subject).\(detail)")
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    /// Parses the text form, e.g. "5.7.1"; nil when it is not one. RFC 3463 2:
    ///
    ///     status-code = class "." subject "." detail
    ///     class       = "2" / "4" / "5"
    ///     subject     = 1*3digit
    ///     detail      = 1*3digit
    public init?(_ text: Substring) {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3,
            let statusClass = Self.number(parts[0], maxDigits: 1), [2, 4, 5].contains(statusClass),
            let subject = Self.number(parts[1], maxDigits: 3),
            let detail = Self.number(parts[2], maxDigits: 3)
        else { return nil }
        self.init(statusClass, subject, detail)
    }

    /// "5.7.1"
    public var description: String {
        "\(statusClass).\(subject).\(detail)"
    }

    private static func number(_ digits: Substring.UTF8View.SubSequence, maxDigits: Int) -> Int? {
        guard (1...maxDigits).contains(digits.count), digits.allSatisfy(ASCII.isDigit) else {
            return nil
        }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}
