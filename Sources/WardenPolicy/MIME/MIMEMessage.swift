/// A message read the way SpamAssassin 4.0 reads it for its rules, so that content rules written
/// for SpamAssassin (`header`, `body`, `rawbody`, `full`, `uri`) see the same text in Warden.
///
/// The reader never fails and never throws: malformed MIME is read as far as it goes, the way
/// SpamAssassin and mail readers read it, and what had to be forgiven is listed in `problems`.
///
/// Size: only the first `maxBytes` bytes of the message are read (512 KiB by default, about
/// what `spamc` sends SpamAssassin); the rest is ignored and `truncated` is noted, so a part cut
/// there is read as far as it goes. Of each part `body` keeps 50,000 characters and `rawBody`
/// 500,000 bytes, as SpamAssassin does. Every other bound is in `MIMELimits`, and work is
/// linear in the bytes read times the nesting depth.
///
///     Subject: =?utf-8?q?caf=C3=A9?=
///     Content-Type: text/html; charset=utf-8
///
///     <p>Visit <a href="http://www.example.com/">us</a></p>
///
///     message.header("Subject")    // ["café"]
///     message.body                 // "café\n\nVisit us\n"
///     message.rawBody              // "<p>Visit <a href=\"http://www.example.com/\">us</a></p>\n"
///     message.uris                 // ["http://www.example.com/"]
///
/// Parsing follows [RFC 5322](https://www.rfc-editor.org/rfc/rfc5322) (header fields),
/// [RFC 2045](https://www.rfc-editor.org/rfc/rfc2045) and [RFC 2046](https://www.rfc-editor.org/rfc/rfc2046)
/// (MIME structure and transfer encodings) and [RFC 2047](https://www.rfc-editor.org/rfc/rfc2047)
/// (encoded words), with SpamAssassin's leniency; see `MIMEEntityParser`, `MIMEHTMLRenderer`,
/// `MIMETextURIScanner` and `MIMEURICanonicalizer` for the details.
public struct MIMEMessage: Sendable {
    /// What was wrong with the message, one `MIMEProblem` raw value per occurrence (for metrics).
    public var problems: [String]
    /// The top-level header fields in order: the name as sent; the raw value with its line
    /// breaks removed (folding whitespace kept) and trimmed; the value as header rules see it,
    /// each fold made one space and encoded words decoded to UTF-8.
    ///
    /// SpamAssassin's `:raw` values also keep the line breaks and the space after the colon.
    public var headers: [(name: String, raw: String, decoded: String)]
    /// For each of `headers`, the value exactly as SpamAssassin's `raw_header` gives it: the
    /// bytes after the colon (leading space kept), line breaks as line feeds, ending in one.
    public var rawHeaderValues: [[UInt8]]
    /// `rawbody`: each `text/*` (except `text/calendar`) and `message/*` part, transfer-decoded
    /// and converted to UTF-8 like `body` but not rendered (HTML tags kept), one after the
    /// other, with a line break added where a part does not end in one.
    public var rawBody: String
    /// `rawbody` as SpamAssassin 4.0 matches it: each part of `rawBody` on its own, transfer-decoded
    /// but in its declared charset (not converted), cut at the part scan size.
    public var rawBodyParts: [[UInt8]]
    /// `body`: the decoded Subject and a line break, then each `text/plain` and `text/html` part
    /// (both alternatives of a `multipart/alternative`) with HTML rendered to text, parts
    /// separated by line breaks; then every run of whitespace is one space, and every run
    /// holding two or more line breaks a paragraph break (Unicode whitespace, as Perl's `\s`).
    /// Empty when the message has no part.
    public var body: String
    /// `body` as body rules read it: lines (line feeds kept) of at most
    /// `maximumBodyLineLength` bytes (SpamAssassin's `split_into_array_of_short_lines`).
    public var bodyLines: [[UInt8]]
    /// `full`: the message as received (up to `maxBytes`, without a leading mbox `From ` line),
    /// invalid UTF-8 replaced.
    public var full: String { String(decoding: fullBytes, as: UTF8.self) }
    /// `full` as bytes, not made valid UTF-8, for rules that match bytes.
    public var fullBytes: ArraySlice<UInt8>
    /// `uri`: the links in the text (after the Subject and the rendered body, in order) and then
    /// in the HTML (`href`, `src` and the like, in document order), each followed by the
    /// cleaned-up forms SpamAssassin adds (see `MIMEURICanonicalizer`), without duplicates.
    /// Empty when the message was read without `findingLinks`.
    public var uris: [String]
    /// The parts `body` renders, in order: the content type (`text/html` also for an attachment
    /// named `*.html`), the declared charset, and the text decoded to UTF-8 (HTML not rendered).
    public var textParts: [(contentType: String, charset: String?, text: String)]

    /// `findingLinks` false leaves `uris` empty: the link search is for `uri` rules only.
    public init(
        bytes: [UInt8], maxBytes: Int = MIMELimits.defaultMaximumBytes, limits: MIMELimits = MIMELimits(),
        findingLinks: Bool = true
    ) {
        var problems: [MIMEProblem] = []
        let input = bytes.count > maxBytes ? Array(bytes.prefix(max(0, maxBytes))) : bytes
        if input.count < bytes.count { problems.append(.truncated) }

        var parser = MIMEEntityParser(limits: limits)
        let fields = parser.readMessage(input, depth: limits.maximumDepth)
        problems.append(contentsOf: parser.problems)

        headers = fields.map { field in
            let name = field.nameText
            let decoded = MIMEHeaderText.decoded(field.rawValue, name: name, problems: &problems)
            return (name, MIMEHeaderText.unfoldedRaw(field.rawValue), decoded)
        }
        rawHeaderValues = fields.map { $0.rawValue.last == 0x0A ? $0.rawValue : $0.rawValue + [0x0A] }
        let subject = headers.last { $0.name.lowercased() == "subject" }?.decoded
        let text = MIMEBodyText(leaves: parser.leaves, subject: subject, limits: limits)
        problems.append(contentsOf: text.problems)
        body = text.body
        rawBody = text.rawBody
        rawBodyParts = text.rawBodyParts
        textParts = text.textParts
        fullBytes = input[MIMEEntityParser.mboxSeparatorLength(input)...]
        bodyLines = MIMEBodyText.shortLines(text.body, maximum: limits.maximumBodyLineLength)
        uris = findingLinks ? Self.links(bodyLines: bodyLines, html: text.htmlURIs, limits: limits) : []
        self.problems = problems.prefix(limits.maximumProblems).map(\.rawValue)
    }

    /// All values of the top-level header fields named `name` (any case), in order: decoded,
    /// or with `raw` as sent (see `headers`). Empty when there is none.
    public func header(_ name: String, raw: Bool = false) -> [String] {
        let wanted = name.lowercased()
        return headers.filter { $0.name.lowercased() == wanted }.map { raw ? $0.raw : $0.decoded }
    }

    /// Text links count only when one of their forms names a plausible host (SpamAssassin's
    /// `valid_domain`); HTML links always count.
    private static func links(bodyLines: [[UInt8]], html: [String], limits: MIMELimits) -> [String] {
        var result: [String] = []
        var added = Set<String>()
        func add(_ variants: [String]) {
            for variant in variants where added.insert(variant).inserted { result.append(variant) }
        }
        var seen = Set<[UInt8]>()
        for line in bodyLines {
            for uri in MIMETextURIScanner.scan(line, seen: &seen) {
                let variants = MIMEURICanonicalizer.variants(of: uri, maximumLength: limits.maximumURILength)
                if variants.contains(where: MIMEURIHost.hasValidHost) { add(variants) }
            }
        }
        for uri in html {
            add(MIMEURICanonicalizer.variants(of: uri, maximumLength: limits.maximumURILength, isFromHTML: true))
        }
        return result
    }
}
