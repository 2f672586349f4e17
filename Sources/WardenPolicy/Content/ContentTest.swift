import PCRE2

/// What a SpamAssassin content rule (`header`, `body`, `rawbody`, `full`, `uri`, `meta`) tests,
/// compiled. The rule types and what each sees are SpamAssassin 4.0's; see docs/rules.md.
public enum ContentTest: Sendable {
    /// `header NAME Query =~ /re/` (or `!~`), `header NAME exists:Field`.
    case header(HeaderQuery, HeaderOperation, ifUnset: String?)
    /// Each line of the rendered body (the Subject first), whitespace collapsed.
    case body(Regex8)
    /// Each text part decoded from its transfer encoding, markup kept, in paragraphs of 2-4 KB.
    case rawBody(Regex8)
    /// The whole message as received.
    case full(Regex8)
    /// Each link of the message.
    case uri(Regex8)
    /// An expression over other rules' hit counts.
    case meta(MetaExpression)

    /// The regex a test runs, if it runs one.
    var regex: Regex8? {
        switch self {
        case .header(_, .matches(let regex), _), .header(_, .notMatches(let regex), _): return regex
        case .body(let regex), .rawBody(let regex), .full(let regex), .uri(let regex): return regex
        case .header(_, .exists, _), .meta: return nil
        }
    }

    /// The rule type's keyword, for reports.
    public var kind: String {
        switch self {
        case .header: return "header"
        case .body: return "body"
        case .rawBody: return "rawbody"
        case .full: return "full"
        case .uri: return "uri"
        case .meta: return "meta"
        }
    }
}

/// How a header rule compares its value.
public enum HeaderOperation: Sendable {
    case matches(Regex8)
    case notMatches(Regex8)
    /// `exists:Field`: the field is present, whatever its value.
    case exists
}

/// Which value a header rule reads, as SpamAssassin's `PerMsgStatus::get` gives it.
///
///     From            the decoded values of every From field, each ending in a line feed
///     From:raw        the values as sent (folding kept)
///     From:addr       the addresses of the fields (`:name` the display names)
///     ALL             every field as "Name: value", decoded; ALL:raw as sent
///     ToCc            To and then Cc; EnvelopeFrom the envelope sender (MAIL FROM)
///     MESSAGEID       X-Message-Id, Resent-Message-Id, X-Original-Message-ID and Message-Id
public struct HeaderQuery: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// A field, by its lowercased name.
        case field(String)
        case all, toCc, envelopeFrom, messageID
    }

    public enum Part: Sendable, Hashable {
        case value, addresses, names
    }

    public var source: Source
    public var raw = false
    public var part = Part.value
    /// `:first` and `:last`: only the topmost or the bottom field of the name.
    public var first = false
    public var last = false

    public init(source: Source) {
        self.source = source
    }
}

/// The `tflags` of a rule that change how it runs.
public struct RuleFlags: Sendable, Hashable {
    /// Count every match, each adding the score (`multiple`), at most `maxHits` times.
    public var multiple = false
    public var maxHits: Int?
    /// A rule meant to lower the score (`nice`); it only documents intent, as in SpamAssassin.
    public var nice = false
    /// A body rule skips the Subject line (`nosubject`).
    public var noSubject = false

    public init() {}
}
