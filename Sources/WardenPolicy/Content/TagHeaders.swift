/// The header fields Warden adds to a message that passes its content rules, so that the mail
/// server or the reader's client can file it, as SpamAssassin's `X-Spam-*` fields are used.
///
///     X-Spam-Score: 6.3
///     X-Spam-Status: Yes, score=6.3 required=5 tests=CHEAP_MEDS,HTML_ONLY
///     X-Spam-Flag: YES                       (only at or above the tag threshold)
///
/// Set in `Rules/` with `tag_headers on`, `tag_threshold 5` and `tag_header score|status|flag
/// NAME|off`. Fields of these names that the sender put in the message are removed.
public struct TagHeaders: Sendable, Hashable {
    public var enabled = false
    public var threshold = 5.0
    public var scoreName: String? = "X-Spam-Score"
    public var statusName: String? = "X-Spam-Status"
    public var flagName: String? = "X-Spam-Flag"

    public init() {}

    /// Every configured field name, whether or not it is added to a given message.
    public var names: [String] { [scoreName, statusName, flagName].compactMap { $0 } }

    /// The fields for a message with this total score and these rules (names, in order).
    public func fields(score: Double, rules: [String]) -> [(name: String, value: String)] {
        guard enabled else { return [] }
        let spam = score >= threshold
        // As SpamAssassin shows it: a score below the threshold never reads as the threshold.
        let shownScore = !spam && Self.format(score) == Self.format(threshold) ? Self.format(threshold - 0.1) : Self.format(score)
        var fields: [(String, String)] = []
        if let scoreName { fields.append((scoreName, shownScore)) }
        if let statusName {
            let tests = rules.isEmpty ? "none" : rules.joined(separator: ",")
            fields.append((statusName, "\(spam ? "Yes" : "No"), score=\(shownScore) required=\(Self.format(threshold)) tests=\(tests)"))
        }
        if spam, let flagName { fields.append((flagName, "YES")) }
        return fields
    }

    /// One decimal, as SpamAssassin shows scores.
    public static func format(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        let sign = tenths < 0 ? "-" : ""
        let magnitude = Int(abs(tenths))
        return "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }
}
