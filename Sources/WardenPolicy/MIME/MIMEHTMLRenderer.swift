/// Renders an HTML part into the text body rules see, and collects its links, as SpamAssassin's
/// `Mail::SpamAssassin::HTML` does:
///
///     <p>Hello <b>wo</b>rld</p><ul><li>one<li>two</ul><div>a&amp;b<br>c</div>
///     -> "\n\nHello world\n\n one two\na&b\nc\n"
///
/// - Tags are dropped; `br` and `div` give a line break, `p`, `hr`, `blockquote`, `pre`,
///   `title` (and the obsolete `listing`, `plaintext`, `xmp`) a blank line, `li`, `td`, `th`,
///   `dd`, `dt`, `h1`–`h6` and `embed` a space. The space before and after such a break is
///   trimmed, unless the text next to it is hidden (see `MIMEHTMLTextStyle`).
/// - Runs of whitespace in text become one space; entities are decoded; `script` and `style`
///   content and comments are dropped. Hidden text is kept.
/// - Links come from `a`/`area`/`link` `href`, `img`/`frame`/`iframe`/`embed`/`script`/`bgsound`
///   `src`, `form` `action`, `background` of `body`/`table`/`tr`/`td`, `meta` refresh URLs and
///   `base`, relative ones resolved against `<base href>`.
struct MIMEHTMLRenderer: MIMEHTMLSink {
    /// The rendered text so far; SpamAssassin's list of text chunks, of which only the flags of
    /// the last one are ever looked at.
    private var rendered: [UInt8] = []
    private var hasChunks = false
    private var lastChunkStart = 0
    private var lastChunkIsWhitespace = false
    private var lastChunkIsInvisible = false
    private var seenURIs = Set<String>()
    private var inside: [String: Int] = [:]
    private var style = MIMEHTMLTextStyle()
    private var baseHref: String?
    private let maximumURILength: Int
    private(set) var uris: [String] = []

    /// Renders `html`; the text and the links in document order.
    static func render(_ html: String, maximumURILength: Int) -> (text: String, uris: [String]) {
        var renderer = MIMEHTMLRenderer(maximumURILength: maximumURILength)
        var tokenizer = MIMEHTMLTokenizer()
        tokenizer.parse(prepare(Array(html.utf8)), into: &renderer)
        // SpamAssassin closes an unterminated style or script so its text is not shown.
        var rounds = 0
        while (renderer.inside["style"] ?? 0) > 0, rounds < 8 {
            tokenizer.parse(Array("</style>".utf8), into: &renderer)
            rounds += 1
        }
        while (renderer.inside["script"] ?? 0) > 0, rounds < 16 {
            tokenizer.parse(Array("</script>".utf8), into: &renderer)
            rounds += 1
        }
        tokenizer.finish(into: &renderer)
        return (String(decoding: renderer.rendered, as: UTF8.self), renderer.uris)
    }

    private init(maximumURILength: Int) {
        self.maximumURILength = maximumURILength
    }

    /// SpamAssassin's edits before parsing: `&nbsp;` becomes a space, `<br/>` becomes `<br>`,
    /// and curly double quotes become straight ones (so `href=“…”` still quotes).
    private static func prepare(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        let nbsp = Array("&nbsp;".utf8)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "&"), input[index...].starts(with: nbsp) {
                output.append(0x20)
                index += nbsp.count
                continue
            }
            if byte == 0xE2, index + 2 < input.count, input[index + 1] == 0x80,
                input[index + 2] == 0x9C || input[index + 2] == 0x9D
            {
                output.append(UInt8(ascii: "\""))
                index += 3
                continue
            }
            if byte == UInt8(ascii: "<") {
                // <(\w+)\s*\/>  ->  <$1>
                var end = index + 1
                while end < input.count, MIMEContentType.isWordByte(input[end]) || input[end] >= 0x80 { end += 1 }
                if end > index + 1 {
                    var after = end
                    while after < input.count, MIMEContentType.isSpace(input[after]) { after += 1 }
                    if after + 1 < input.count, input[after] == UInt8(ascii: "/"), input[after + 1] == UInt8(ascii: ">")
                    {
                        output.append(contentsOf: input[index..<end])
                        output.append(UInt8(ascii: ">"))
                        index = after + 2
                        continue
                    }
                }
            }
            output.append(byte)
            index += 1
        }
        return output
    }

    // MARK: Events

    mutating func startTag(_ name: String, attributes: [(name: String, value: String)]) {
        handleTag(name, attributes: attributes, isStart: true)
    }

    mutating func endTag(_ name: String) {
        handleTag(name, attributes: [], isStart: false)
    }

    mutating func text(_ bytes: [UInt8]) {
        if (inside["script"] ?? 0) > 0 || (inside["style"] ?? 0) > 0 { return }
        let isInvisible = Self.hasVisibleCharacters(bytes) && style.isInvisible
        display(bytes, isInvisible: isInvisible)
    }

    private mutating func handleTag(_ tag: String, attributes: [(name: String, value: String)], isStart: Bool) {
        let count = (inside[tag] ?? 0) + (isStart ? 1 : -1)
        inside[tag] = max(count, 0)
        if Self.isNamespaced(tag) { return }
        guard Self.elements.contains(tag) || Self.tricks.contains(tag) else { return }
        if MIMEHTMLTextStyle.styledElements.contains(tag) {
            style.update(tag: tag, attributes: attributes, isStart: isStart)
        }
        if let space = Self.whitespace[tag] { displayWhitespace(space) }
        if isStart, Self.linkElements.contains(tag) { collectLinks(tag, attributes) }
    }

    // MARK: Text

    private mutating func displayWhitespace(_ text: String) {
        if hasChunks, !lastChunkIsWhitespace, !lastChunkIsInvisible, rendered.count > lastChunkStart,
            rendered.last == 0x20
        {
            rendered.removeLast()
        }
        appendChunk(text.utf8, isWhitespace: true, isInvisible: false)
    }

    private mutating func appendChunk(_ text: some Collection<UInt8>, isWhitespace: Bool, isInvisible: Bool) {
        lastChunkStart = rendered.count
        rendered.append(contentsOf: text)
        hasChunks = true
        lastChunkIsWhitespace = isWhitespace
        lastChunkIsInvisible = isInvisible
    }

    private mutating func display(_ bytes: [UInt8], isInvisible: Bool) {
        // [ \t\n\r\f\x0b]+ and "\xc2\xa0" (as characters: U+00C2 U+00A0) become one space each.
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if MIMEContentType.isSpace(byte) {
                while index < bytes.count, MIMEContentType.isSpace(bytes[index]) { index += 1 }
                text.append(0x20)
                continue
            }
            if byte == 0xC3, index + 3 < bytes.count, bytes[index + 1] == 0x82, bytes[index + 2] == 0xC2,
                bytes[index + 3] == 0xA0
            {
                text.append(0x20)
                index += 4
                continue
            }
            text.append(byte)
            index += 1
        }
        let dropsSpace = !isInvisible && hasChunks && lastChunkIsWhitespace && text.first == 0x20
        appendChunk(dropsSpace ? text.dropFirst() : text[...], isWhitespace: false, isInvisible: isInvisible)
    }

    private static func hasVisibleCharacters(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index < bytes.count {
            if MIMEContentType.isSpace(bytes[index]) {
                index += 1
            } else if bytes[index] == 0xC3, index + 3 < bytes.count, bytes[index + 1] == 0x82, bytes[index + 2] == 0xC2,
                bytes[index + 3] == 0xA0
            {
                index += 4
            } else {
                return true
            }
        }
        return false
    }

    // MARK: Links

    private mutating func collectLinks(_ tag: String, _ attributes: [(name: String, value: String)]) {
        func value(_ name: String) -> String? { attributes.first { $0.name == name }?.value }
        /// `x/href` and the like stand for `href` (SpamAssassin's `\w{1,8}\/href`).
        func aliased(_ name: String) -> String? {
            attributes.last { Self.isAlias($0.name, of: name) }?.value ?? value(name)
        }
        switch tag {
        case "body", "table", "tr", "td":
            if let background = value("background") { addLink(background) }
        case "a", "area", "link":
            let href = aliased("href").map {
                String(String.UnicodeScalarView($0.unicodeScalars.filter { $0 != "\u{FEFF}" }))
            }
            if let href { addLink(href) }
            if let redirect = value("data-saferedirecturl") { addLink(redirect) }
            // SpamAssassin also keys an anchor's text by its href as written (empty without
            // one), and that key becomes a link of its own: relative, unresolved.
            if tag == "a" {
                let written = canonical(href ?? "")
                if seenURIs.insert(written).inserted { uris.append(written) }
            }
        case "img", "frame", "iframe", "embed", "script", "bgsound":
            if let source = aliased("src") { addLink(source) }
        case "form":
            if let action = value("action") { addLink(action) }
        case "base":
            guard let href = value("href"), !href.isEmpty, href != "0" else { return }
            let uri = canonical(href)
            addLink(uri)
            if let base = Self.baseDirectory(uri) { baseHref = base }
        case "meta":
            guard let equiv = value("http-equiv"), let content = value("content"),
                equiv.lowercased().contains("refresh"),
                let uri = Self.refreshURL(content)
            else { return }
            addLink(uri)
        default:
            break
        }
    }

    /// Whitespace (and no-break spaces) trimmed, cut to the longest URI kept.
    private func canonical(_ uri: String) -> String {
        var scalars = Substring(uri).unicodeScalars.drop { $0.properties.isWhitespace || $0 == "\u{A0}" }
        while let last = scalars.last, last.properties.isWhitespace || last == "\u{A0}" { scalars.removeLast() }
        let trimmed = String(scalars)
        return trimmed.unicodeScalars.count > maximumURILength
            ? String(String.UnicodeScalarView(trimmed.unicodeScalars.prefix(maximumURILength))) : trimmed
    }

    private mutating func addLink(_ raw: String) {
        let uri = canonical(raw)
        guard !uri.isEmpty else { return }
        let target: String
        let lowered = uri.utf8.prefix(7).map(MIMEContentType.asciiLowercase)
        if ["data:", "mailto:", "file:", "cid:", "tel:"].contains(where: { lowered.starts(with: $0.utf8) }) {
            target = uri
        } else {
            target = MIMEURIResolver.resolve(uri, against: baseHref ?? "")
        }
        if !target.isEmpty, seenURIs.insert(target).inserted { uris.append(target) }
    }

    // MARK: Element sets (HTML.pm)

    private static let elements: Set<String> = [
        "a", "abbr", "acronym", "address", "area", "b", "base", "bdo", "big", "blockquote", "body", "br", "button",
        "caption", "cite", "code", "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "fieldset", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "html", "i", "img", "input", "ins", "kbd", "label", "legend",
        "li", "link", "map", "meta", "noscript", "object", "ol", "optgroup", "option", "p", "param", "pre", "q", "samp",
        "script", "select", "small", "span", "strong", "style", "sub", "sup", "table", "tbody", "td", "textarea",
        "tfoot", "th", "thead", "title", "tr", "tt", "ul", "var", "applet", "basefont", "center", "dir", "font",
        "frame", "frameset", "iframe", "isindex", "menu", "noframes", "s", "strike", "u", "nobr", "x-sigsep", "x-tab",
    ]

    private static let tricks: Set<String> = ["bgsound", "embed", "listing", "plaintext", "xmp"]

    private static let whitespace: [String: String] = [
        "br": "\n", "div": "\n", "li": " ", "th": " ", "td": " ", "dt": " ", "dd": " ", "embed": " ", "h1": " ",
        "h2": " ", "h3": " ", "h4": " ", "h5": " ", "h6": " ", "p": "\n\n", "hr": "\n\n", "blockquote": "\n\n",
        "pre": "\n\n", "listing": "\n\n", "plaintext": "\n\n", "xmp": "\n\n", "title": "\n\n",
    ]

    private static let linkElements: Set<String> = [
        "body", "table", "tr", "td", "a", "area", "link", "img", "frame", "iframe", "embed", "script", "form", "base",
        "bgsound", "meta",
    ]

    /// The URL of a `meta` refresh: after the last `url=` (any case, at a word start) of the
    /// first line, up to a `;` (as `s/^.*\burl\s*=\s*//i; s/\s*;.*//`).
    private static func refreshURL(_ content: String) -> String? {
        let bytes = Array(content.utf8)
        let lowered = bytes.map(MIMEContentType.asciiLowercase)
        func urlEquals(at index: Int) -> Int? {
            guard index + 3 <= bytes.count, lowered[index..<(index + 3)].elementsEqual("url".utf8),
                index == 0 || !MIMEContentType.isWordByte(bytes[index - 1])
            else { return nil }
            var end = index + 3
            while end < bytes.count, MIMEContentType.isSpace(bytes[end]) { end += 1 }
            return end < bytes.count && bytes[end] == UInt8(ascii: "=") ? end + 1 : nil
        }
        guard bytes.indices.contains(where: { urlEquals(at: $0) != nil }) else { return nil }
        var text = bytes
        let firstLine = bytes.firstIndex(of: 0x0A) ?? bytes.count
        if let last = (0..<firstLine).reversed().lazy.compactMap({ urlEquals(at: $0) }).first {
            var start = last
            while start < bytes.count, MIMEContentType.isSpace(bytes[start]) { start += 1 }
            text = Array(bytes[start...])
        }
        if let semicolon = text.firstIndex(of: UInt8(ascii: ";")) {
            var start = semicolon
            while start > 0, MIMEContentType.isSpace(text[start - 1]) { start -= 1 }
            let lineEnd = text[semicolon...].firstIndex(of: 0x0A) ?? text.count
            text.removeSubrange(start..<lineEnd)
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// For `<base href>` with an `http`, `https` or `ftp` URL: the URL without a trailing file
    /// name (`^([a-z]+:/{0,2}[^/]+/.*?)[^/.]+\.[^/.]{2,4}$`), ending in "/".
    private static func baseDirectory(_ uri: String) -> String? {
        var bytes = Array(uri.utf8)
        let lowered = bytes.map(MIMEContentType.asciiLowercase)
        guard ["http:", "https:", "ftp:"].contains(where: { lowered.starts(with: $0.utf8) }) else { return nil }
        // The file name: [^/.]+ "." [^/.]{2,4} at the end, after the "/" that ends the host.
        let colon = lowered.firstIndex(of: UInt8(ascii: ":"))!
        var hostStart = colon + 1
        while hostStart < bytes.count, hostStart < colon + 3, bytes[hostStart] == UInt8(ascii: "/") { hostStart += 1 }
        if let hostSlash = bytes[hostStart...].firstIndex(of: UInt8(ascii: "/")), hostSlash > hostStart,
            let lastDot = bytes.lastIndex(of: UInt8(ascii: ".")), (2...4).contains(bytes.count - lastDot - 1),
            !bytes[(lastDot + 1)...].contains(UInt8(ascii: "/"))
        {
            var nameStart = lastDot
            while nameStart > 0, bytes[nameStart - 1] != UInt8(ascii: "/"), bytes[nameStart - 1] != UInt8(ascii: ".") {
                nameStart -= 1
            }
            let cut = max(nameStart, hostSlash + 1)
            if cut < lastDot { bytes.removeSubrange(cut...) }
        }
        if bytes.last != UInt8(ascii: "/") { bytes.append(UInt8(ascii: "/")) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether an attribute name contains `word/name`, as `\w{1,8}\/href` finds it.
    private static func isAlias(_ attribute: String, of name: String) -> Bool {
        let bytes = Array(attribute.utf8)
        let needle = Array(("/" + name).utf8)
        guard bytes.count > needle.count else { return false }
        for start in 1...(bytes.count - needle.count) where MIMEContentType.isWordByte(bytes[start - 1]) {
            if bytes[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    /// Office namespace tags (`o:p`, `st1:place`), counted but otherwise ignored.
    private static func isNamespaced(_ tag: String) -> Bool {
        var bytes = Array(tag.utf8)
        if bytes.starts(with: "o:".utf8) {
            bytes.removeFirst(2)
        } else if bytes.count > 3, bytes.starts(with: "st".utf8), bytes[2] >= 0x30, bytes[2] <= 0x39,
            bytes[3] == UInt8(ascii: ":")
        {
            bytes.removeFirst(4)
        } else {
            return false
        }
        if bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        return !bytes.isEmpty
            && bytes.allSatisfy { MIMEContentType.isWordByte($0) || $0 == UInt8(ascii: "-") || $0 >= 0x80 }
    }
}
