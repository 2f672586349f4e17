/// What the tokenizer reports to the renderer.
protocol MIMEHTMLSink {
    /// A start tag: its name lowercased, attributes (names lowercased, first one of a name
    /// wins, values unquoted and entity-decoded; a value-less attribute has its name as value).
    mutating func startTag(_ name: String, attributes: [(name: String, value: String)])
    mutating func endTag(_ name: String)
    /// A run of text, entity-decoded unless inside `script`, `style`, `xmp`, `iframe`,
    /// `plaintext` or a CDATA section.
    mutating func text(_ bytes: [UInt8])
}

/// An HTML tokenizer that cuts text where Perl's HTML::Parser (3.81, `hparser.c`) cuts it, as
/// SpamAssassin configures it (`marked_sections`, no `unbroken_text`). The rendering depends on
/// where text runs break, so the port keeps HTML::Parser's quirks:
///
///     <b>bold</b> <br>      start "b", text "bold", end "b", text " ", start "br"
///     5 < 6 <3              text "5 ", text "< 6 ", text "<3" ("<" not before a name is text)
///     <!-- a -- b -->       one comment (ends at "--" then ">")
///     </ b>  <!foo>  <?pi>  comments and a processing instruction, not reported
///     <script>a<b</script>  "a<b" is script text (also style, xmp, iframe, plaintext, title,
///                           textarea)
///
/// At the end of a chunk the last word is held back, so it may come as a text run of its own;
/// an unterminated tag or comment at the end of the document is dropped. Works on UTF-8 bytes,
/// where 0xA0 counts as a space as it does in HTML::Parser's byte tables. Each byte is looked at
/// a bounded number of times: unterminated markup ends the pass instead of being rescanned.
struct MIMEHTMLTokenizer {
    private var buffer: [UInt8] = []
    private var literalMode: [UInt8]?
    private var isCDATA = false
    private var markedSections: [[String]] = []
    private var markedSection = MarkedSection.none
    private var commentEndsAtGreaterThan = false
    private var pendingEndTag: String?

    private enum MarkedSection: Int, Comparable {
        case none, include, rcdata, cdata, ignore
        static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private static let literalElements: [(name: String, isCDATA: Bool)] = [
        ("script", true), ("style", true), ("xmp", true), ("iframe", true), ("plaintext", true), ("title", false),
        ("textarea", false),
    ]

    /// Parses a chunk; whatever cannot be decided yet waits for the next chunk or `finish`.
    mutating func parse<Sink: MIMEHTMLSink>(_ chunk: [UInt8], into sink: inout Sink) {
        buffer.append(contentsOf: chunk)
        let consumed = parseBuffer(from: 0, to: buffer.count, into: &sink)
        buffer.removeFirst(min(consumed, buffer.count))
    }

    /// The end of the document: held-back text is reported, unterminated markup dropped.
    mutating func finish<Sink: MIMEHTMLSink>(into sink: inout Sink) {
        let end = buffer.count
        var position = 0
        while position < end {
            if let literal = literalMode {
                let name = String(decoding: literal, as: UTF8.self)
                if ["plaintext", "xmp", "iframe", "textarea"].contains(name) { break }
                if name == "script" || name == "style" {
                    emitEnd(name, into: &sink)
                } else {
                    pendingEndTag = name
                }
                literalMode = nil
                position = parseBuffer(from: position, to: end, into: &sink)
                continue
            }
            if !commentEndsAtGreaterThan, buffer[position] == UInt8(ascii: "<") {
                commentEndsAtGreaterThan = true
                position = parseBuffer(from: position, to: end, into: &sink)
                continue
            }
            if buffer[position] == UInt8(ascii: "<") {
                let next = position + 1
                if next == end || Self.isNameFirst(buffer[next])
                    || [UInt8(ascii: "/"), UInt8(ascii: "!"), UInt8(ascii: "?")].contains(buffer[next])
                {
                    position = end  // unterminated markup: a comment
                }
            }
            break
        }
        if position < end { emitText(position..<end, into: &sink) }
        buffer = []
        flushPendingEndTag(into: &sink)
        literalMode = nil
        isCDATA = false
        commentEndsAtGreaterThan = false
    }

    // MARK: Events

    private mutating func flushPendingEndTag<Sink: MIMEHTMLSink>(into sink: inout Sink) {
        guard let tag = pendingEndTag else { return }
        pendingEndTag = nil
        emitEnd(tag, into: &sink)
    }

    private mutating func emitText<Sink: MIMEHTMLSink>(_ range: Range<Int>, into sink: inout Sink) {
        guard markedSection != .ignore else { return }
        let bytes = buffer[range]
        sink.text(isCDATA ? Array(bytes) : MIMEHTMLEntities.decode(bytes, expandingPrefixes: true))
    }

    private mutating func emitEnd<Sink: MIMEHTMLSink>(_ name: String, into sink: inout Sink) {
        flushPendingEndTag(into: &sink)
        guard markedSection != .ignore else { return }
        sink.endTag(name)
    }

    /// Any other event (comment excepted): a pending end tag goes first.
    private mutating func emitOther<Sink: MIMEHTMLSink>(into sink: inout Sink) {
        flushPendingEndTag(into: &sink)
    }

    // MARK: The main loop

    private func at(_ index: Int, _ end: Int) -> UInt8 { index < end ? buffer[index] : 0 }

    /// `parse_buf`: returns where unconsumed input starts.
    private mutating func parseBuffer<Sink: MIMEHTMLSink>(from start: Int, to end: Int, into sink: inout Sink) -> Int {
        var s = start
        var t = start
        while true {
            while let literal = literalMode {
                while s < end, buffer[s] != UInt8(ascii: "<") { s += 1 }
                if s >= end { return t }
                let textEnd = s
                s += 1
                guard at(s, end) == UInt8(ascii: "/") else { continue }
                s += 1
                var matched = 0
                while matched < literal.count, MIMEContentType.asciiLowercase(at(s, end)) == literal[matched] {
                    s += 1
                    matched += 1
                }
                guard matched == literal.count, String(decoding: literal, as: UTF8.self) != "plaintext" else {
                    continue
                }
                let nameEnd = s
                while Self.isSpace(at(s, end)) { s += 1 }
                guard at(s, end) == UInt8(ascii: ">") else { continue }
                s += 1
                if t != textEnd { emitText(t..<textEnd, into: &sink) }
                emitEnd(
                    String(
                        decoding: buffer[(textEnd + 2)..<nameEnd].map(MIMEContentType.asciiLowercase), as: UTF8.self),
                    into: &sink)
                literalMode = nil
                isCDATA = false
                t = s
            }
            while markedSection == .cdata || markedSection == .rcdata {
                while s < end, buffer[s] != UInt8(ascii: "]") { s += 1 }
                if s < end {
                    let textEnd = s
                    s += 1
                    if at(s, end) == UInt8(ascii: "]"), at(s + 1, end) == UInt8(ascii: ">") {
                        s += 2
                        if t != textEnd { emitText(t..<textEnd, into: &sink) }
                        emitOther(into: &sink)
                        t = s
                        popMarkedSection()
                        continue
                    }
                }
                if s >= end { return t }
            }
            // Text up to the next "<".
            while s < end, buffer[s] != UInt8(ascii: "<") {
                if markedSection != .none, buffer[s] == UInt8(ascii: "]") {
                    let textEnd = s
                    s += 1
                    if at(s, end) == UInt8(ascii: "]") {
                        s += 1
                        if at(s, end) == UInt8(ascii: ">") {
                            s += 1
                            emitText(t..<textEnd, into: &sink)
                            emitOther(into: &sink)
                            t = s
                            popMarkedSection()
                            continue
                        }
                    }
                }
                s += 1
            }
            s = min(s, end)
            if s != t {
                if s < end {
                    emitText(t..<s, into: &sink)
                    t = s
                } else {
                    // Hold back trailing whitespace, or the last word (maybe a cut entity).
                    s -= 1
                    if Self.isSpace(buffer[s]) {
                        while s >= t, Self.isSpace(buffer[s]) { s -= 1 }
                    } else {
                        while s >= t, !Self.isSpace(buffer[s]) { s -= 1 }
                        while s >= t, Self.isSpace(buffer[s]) { s -= 1 }
                    }
                    s += 1
                    if s != t { emitText(t..<s, into: &sink) }
                    return s
                }
            }
            if end - s < 3 { return s }
            s += 1
            let next = buffer[s]
            let position: Int?
            if Self.isNameFirst(next) {
                position = parseStartTag(t, end, into: &sink)
            } else if next == UInt8(ascii: "/") {
                position = parseEndTag(t, end, into: &sink)
            } else if next == UInt8(ascii: "!") {
                position = parseDeclaration(t, end, into: &sink)
            } else if next == UInt8(ascii: "?") {
                position = parseProcessingInstruction(t, end, into: &sink)
            } else {
                position = nil
            }
            if let position {
                if position == t { return t }
                t = position
                s = position
            }
            // Otherwise the "<" was text: carry on from after it, with the run starting at it.
        }
    }

    private mutating func popMarkedSection() {
        if !markedSections.isEmpty { markedSections.removeLast() }
        updateMarkedSection()
    }

    private mutating func updateMarkedSection() {
        var state = MarkedSection.none
        for tokens in markedSections {
            for token in tokens {
                let section: MarkedSection =
                    switch token {
                    case "include": .include
                    case "rcdata": .rcdata
                    case "cdata": .cdata
                    case "ignore": .ignore
                    default: .none
                    }
                state = max(state, section)
            }
        }
        markedSection = state
        isCDATA = state == .cdata
    }

    // MARK: Character classes (HTML::Parser's `hctype`)

    static func isSpace(_ byte: UInt8) -> Bool { MIMEContentType.isSpace(byte) || byte == 0xA0 }

    static func isNameFirst(_ byte: UInt8) -> Bool {
        (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: ":")
    }

    static func isNameCharacter(_ byte: UInt8) -> Bool {
        isNameFirst(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "-")
    }

    static func isNotSpaceOrGreaterThan(_ byte: UInt8) -> Bool { !isSpace(byte) && byte != UInt8(ascii: ">") }

    // MARK: Markup

    /// `<name attr=value ...>`; nil when not a tag, `start` when it is cut off.
    private mutating func parseStartTag<Sink: MIMEHTMLSink>(_ start: Int, _ end: Int, into sink: inout Sink) -> Int? {
        var s = start + 2
        while s < end, Self.isNotSpaceOrGreaterThan(buffer[s]) { s += 1 }
        let nameRange = (start + 1)..<s
        while Self.isSpace(at(s, end)) { s += 1 }
        if s >= end { return start }
        var attributes: [(name: Range<Int>, value: Range<Int>?)] = []
        while Self.isNotSpaceOrGreaterThan(at(s, end)) {
            let nameStart = s
            s += 1
            while s < end, Self.isNotSpaceOrGreaterThan(buffer[s]), buffer[s] != UInt8(ascii: "=") { s += 1 }
            if s >= end { return start }
            let attributeName = nameStart..<s
            while Self.isSpace(at(s, end)) { s += 1 }
            if s >= end { return start }
            guard buffer[s] == UInt8(ascii: "=") else {
                attributes.append((attributeName, nil))
                continue
            }
            s += 1
            while Self.isSpace(at(s, end)) { s += 1 }
            if s >= end { return start }
            if buffer[s] == UInt8(ascii: ">") {
                attributes.append((attributeName, s..<s))
                break
            }
            let valueStart = s
            let quote = buffer[s]
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                s += 1
                while s < end, buffer[s] != quote { s += 1 }
                if s >= end { return start }
                s += 1
            } else {
                while s < end, Self.isNotSpaceOrGreaterThan(buffer[s]) { s += 1 }
                if s >= end { return start }
            }
            attributes.append((attributeName, valueStart..<s))
            while Self.isSpace(at(s, end)) { s += 1 }
            if s >= end { return start }
        }
        guard at(s, end) == UInt8(ascii: ">") else { return nil }
        s += 1
        let name = String(decoding: buffer[nameRange].map(MIMEContentType.asciiLowercase), as: UTF8.self)
        emitOther(into: &sink)
        if markedSection != .ignore {
            var decoded: [(name: String, value: String)] = []
            for attribute in attributes {
                let attributeName = String(
                    decoding: buffer[attribute.name].map(MIMEContentType.asciiLowercase), as: UTF8.self)
                guard !decoded.contains(where: { $0.name == attributeName }) else { continue }
                var value: String
                if var range = attribute.value {
                    if let first = range.first,
                        buffer[first] == UInt8(ascii: "\"") || buffer[first] == UInt8(ascii: "'")
                    {
                        range = (range.lowerBound + 1)..<(range.upperBound - 1)
                    }
                    value = String(
                        decoding: MIMEHTMLEntities.decode(buffer[range], expandingPrefixes: false), as: UTF8.self)
                } else {
                    value = String(decoding: buffer[attribute.name], as: UTF8.self)
                }
                decoded.append((attributeName, value))
            }
            sink.startTag(name, attributes: decoded)
        }
        if let literal = Self.literalElements.first(where: { $0.name == name }) {
            literalMode = Array(literal.name.utf8)
            isCDATA = literal.isCDATA
        }
        return s
    }

    /// `</name ...>`, or a comment when no name follows `</`.
    private mutating func parseEndTag<Sink: MIMEHTMLSink>(_ start: Int, _ end: Int, into sink: inout Sink) -> Int? {
        var s = start + 2
        if Self.isNotSpaceOrGreaterThan(at(s, end)) {
            let nameStart = s
            s += 1
            while s < end, Self.isNotSpaceOrGreaterThan(buffer[s]) { s += 1 }
            let name = String(decoding: buffer[nameStart..<s].map(MIMEContentType.asciiLowercase), as: UTF8.self)
            s = skipUntilGreaterThan(s, end)
            guard s < end else { return start }
            emitEnd(name, into: &sink)
            return s + 1
        }
        s = skipUntilGreaterThan(s, end)
        return s < end ? s + 1 : start
    }

    /// The next `>` outside quotes, quotes opening only after a space or `=` (as MSIE did).
    private func skipUntilGreaterThan(_ start: Int, _ end: Int) -> Int {
        var s = start
        var quote: UInt8 = 0
        var previous = UInt8(ascii: " ")
        while s < end {
            let byte = buffer[s]
            if quote == 0, byte == UInt8(ascii: ">") { return s }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                if byte == quote {
                    quote = 0
                } else if quote == 0, previous == UInt8(ascii: " ") || previous == UInt8(ascii: "=") {
                    quote = byte
                }
            }
            previous = byte
            s += 1
        }
        return end
    }

    /// `<!...>`: a comment, a marked section, a `DOCTYPE`/`ENTITY` declaration, or else a
    /// comment running to the next `>`.
    private mutating func parseDeclaration<Sink: MIMEHTMLSink>(_ start: Int, _ end: Int, into sink: inout Sink) -> Int?
    {
        var s = start + 2
        if at(s, end) == UInt8(ascii: "-") {
            s += 1
            if s >= end { return start }
            if buffer[s] == UInt8(ascii: "-") {
                s += 1
                let found = parseComment(s, end)
                return found == s ? start : found
            }
            return declarationFallback(start, s, end)
        }
        if at(s, end) == UInt8(ascii: "[") {
            guard let position = parseMarkedSection(start, end, into: &sink) else {
                return declarationFallback(start, s, end)
            }
            return position
        }
        if at(s, end) == UInt8(ascii: ">") { return s + 1 }
        let first = at(s, end)
        guard (first | 0x20) >= UInt8(ascii: "a"), (first | 0x20) <= UInt8(ascii: "z") else {
            return declarationFallback(start, s, end)
        }
        let identifierStart = s
        s += 1
        while s < end, Self.isNameCharacter(buffer[s]) { s += 1 }
        if s >= end { return start }
        let identifier = String(
            decoding: buffer[identifierStart..<s].map(MIMEContentType.asciiLowercase), as: UTF8.self)
        guard identifier == "doctype" || identifier == "entity" else { return declarationFallback(start, s, end) }
        while true {
            while s < end, Self.isSpace(buffer[s]) { s += 1 }
            if s >= end { return start }
            let byte = buffer[s]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                s += 1
                while s < end, buffer[s] != byte { s += 1 }
                if s >= end { return start }
                s += 1
            } else if byte == UInt8(ascii: "-") {
                s += 1
                if s >= end { return start }
                guard buffer[s] == UInt8(ascii: "-") else { return declarationFallback(start, s, end) }
                s += 1
                while true {
                    while s < end, buffer[s] != UInt8(ascii: "-") { s += 1 }
                    if s >= end { return start }
                    s += 1
                    if s >= end { return start }
                    if buffer[s] == UInt8(ascii: "-") {
                        s += 1
                        break
                    }
                }
            } else if byte != UInt8(ascii: ">") {
                s += 1
                while s < end, Self.isNotSpaceOrGreaterThan(buffer[s]) { s += 1 }
                if s >= end { return start }
            } else {
                break
            }
        }
        emitOther(into: &sink)
        return s + 1
    }

    /// Not a declaration after all: everything up to the next `>` is a comment.
    private func declarationFallback(_ start: Int, _ from: Int, _ end: Int) -> Int {
        var s = from
        while s < end, buffer[s] != UInt8(ascii: ">") { s += 1 }
        return s < end ? s + 1 : start
    }

    /// After `<!--`: the end is `--` and optional whitespace then `>` (only `>` once the
    /// document has ended without one). Returns `start` when there is no end yet.
    private func parseComment(_ start: Int, _ end: Int) -> Int {
        var s = start
        if commentEndsAtGreaterThan {
            while s < end, buffer[s] != UInt8(ascii: ">") { s += 1 }
            return s < end ? s + 1 : start
        }
        while true {
            while s < end, buffer[s] != UInt8(ascii: "-") { s += 1 }
            guard s < end else { return start }
            let dash = s
            s += 1
            if at(s, end) == UInt8(ascii: "-") {
                s += 1
                while Self.isSpace(at(s, end)) { s += 1 }
                if at(s, end) == UInt8(ascii: ">") { return s + 1 }
            }
            guard s < end else { return start }
            s = dash + 1
        }
    }

    /// `<![ keywords [`: opens a marked section; nil when malformed, `start` when cut off.
    private mutating func parseMarkedSection<Sink: MIMEHTMLSink>(_ start: Int, _ end: Int, into sink: inout Sink)
        -> Int?
    {
        var s = start + 3
        var keywords: [String] = []
        findNames: while true {
            while Self.isSpace(at(s, end)) { s += 1 }
            while Self.isNameFirst(at(s, end)) {
                let nameStart = s
                s += 1
                while Self.isNameCharacter(at(s, end)) { s += 1 }
                let nameEnd = s
                while Self.isSpace(at(s, end)) { s += 1 }
                if s >= end { return start }
                keywords.append(
                    String(decoding: buffer[nameStart..<nameEnd].map(MIMEContentType.asciiLowercase), as: UTF8.self))
            }
            guard at(s, end) == UInt8(ascii: "-") else { break }
            s += 1
            guard at(s, end) == UInt8(ascii: "-") else { return nil }
            s += 1
            while true {
                while s < end, buffer[s] != UInt8(ascii: "-") { s += 1 }
                if s >= end { return start }
                s += 1
                if at(s, end) == UInt8(ascii: "-") {
                    s += 1
                    continue findNames
                }
            }
        }
        guard at(s, end) == UInt8(ascii: "[") else { return nil }
        s += 1
        markedSections.append(keywords.isEmpty ? ["include"] : keywords)
        updateMarkedSection()
        emitOther(into: &sink)
        return s
    }

    /// `<?...>`, not reported.
    private mutating func parseProcessingInstruction<Sink: MIMEHTMLSink>(
        _ start: Int, _ end: Int, into sink: inout Sink
    ) -> Int? {
        var s = start + 2
        while s < end {
            if buffer[s] == UInt8(ascii: ">") {
                emitOther(into: &sink)
                return s + 1
            }
            s += 1
        }
        return start
    }
}
