/// The visible text of an HTML part, as a reader sees it: tags, comments and the contents of
/// `head`, `style`, `script` and `title` removed, character references decoded, source line
/// breaks folded to spaces and block elements (`p`, `br`, `div`, `tr`, `li`, headings …) made line
/// breaks. Inline tags vanish without a space, as they do on screen, so `Fr<b></b>ee` and an HTML
/// comment inside a word (a classic hash-buster) read as one word. Linear in the input: each
/// hidden element's end is searched once, and an element never closed is not searched again.
enum HTMLVisibleText {
    static let hiddenElements: Set<[UInt8]> = Set(
        ["head", "style", "script", "title", "template"].map { Array($0.utf8) })
    static let blockElements: Set<[UInt8]> = Set(
        [
            "address", "article", "aside", "blockquote", "body", "br", "center", "dd", "div", "dl", "dt", "footer",
            "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "ol", "p", "pre", "section", "table",
            "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
        ].map { Array($0.utf8) })
    /// Named character references decoded; any other name is dropped (it does not split a word).
    static let namedReferences: [String: Unicode.Scalar] = [
        "nbsp": " ", "ensp": " ", "emsp": " ", "thinsp": " ", "amp": "&", "lt": "<", "gt": ">", "quot": "\"",
        "apos": "'", "rsquo": "'", "lsquo": "'", "ldquo": "\"", "rdquo": "\"", "ndash": "-", "mdash": "-",
        "hellip": ".", "euro": "\u{20AC}", "pound": "\u{A3}", "copy": "\u{A9}", "reg": "\u{AE}",
        "agrave": "\u{E0}", "aacute": "\u{E1}", "acirc": "\u{E2}", "auml": "\u{E4}", "ccedil": "\u{E7}",
        "egrave": "\u{E8}", "eacute": "\u{E9}", "ecirc": "\u{EA}", "euml": "\u{EB}", "iacute": "\u{ED}",
        "icirc": "\u{EE}", "iuml": "\u{EF}", "ntilde": "\u{F1}", "oacute": "\u{F3}", "ocirc": "\u{F4}",
        "ouml": "\u{F6}", "uacute": "\u{FA}", "ugrave": "\u{F9}", "ucirc": "\u{FB}", "uuml": "\u{FC}",
        "szlig": "\u{DF}", "Auml": "\u{C4}", "Ouml": "\u{D6}", "Uuml": "\u{DC}", "Eacute": "\u{C9}",
    ]

    static func text(of html: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(html.count / 2)
        var neverClosed: Set<[UInt8]> = []
        var quotesBalanced = true
        var index = 0
        while index < html.count {
            let byte = html[index]
            switch byte {
            case UInt8(ascii: "<"):
                if starts(html, at: index, with: "<!--") {
                    index = find(html, "-->", from: index + 4).map { $0 + 3 } ?? html.count
                    continue
                }
                guard index + 1 < html.count, isTagStart(html[index + 1]) else {
                    output.append(byte)
                    index += 1
                    continue
                }
                let closing = html[index + 1] == UInt8(ascii: "/")
                var nameEnd = index + (closing ? 2 : 1)
                var name: [UInt8] = []
                while nameEnd < html.count, isNameByte(html[nameEnd]) {
                    if name.count < 16 { name.append(BodyTextExtractor.asciiLowercase(html[nameEnd])) }
                    nameEnd += 1
                }
                var tagEnd = quotesBalanced ? tagEnd(html, from: nameEnd) : nil
                if tagEnd == nil {
                    // An unbalanced quote: stop honouring quotes, so no later tag scans to the end again.
                    quotesBalanced = false
                    tagEnd = html[nameEnd...].firstIndex(of: UInt8(ascii: ">"))
                }
                guard let end = tagEnd else {
                    index = html.count
                    continue
                }
                index = end + 1
                if !closing, hiddenElements.contains(name), html[end - 1] != UInt8(ascii: "/"),
                    !neverClosed.contains(name)
                {
                    if let close = find(
                        html, "</" + String(decoding: name, as: UTF8.self), from: index, ignoringCase: true)
                    {
                        index = html[close...].firstIndex(of: UInt8(ascii: ">")).map { $0 + 1 } ?? html.count
                    } else {
                        neverClosed.insert(name)
                    }
                }
                if blockElements.contains(name) || hiddenElements.contains(name) { output.append(0x0A) }
            case UInt8(ascii: "&"):
                index = appendReference(html, at: index, to: &output)
            case 0x0D, 0x0A, 0x09:
                output.append(0x20)
                index += 1
            default:
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    private static func isTagStart(_ byte: UInt8) -> Bool {
        isASCIILetter(byte) || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "!") || byte == UInt8(ascii: "?")
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        isASCIILetter(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// The `>` ending a tag, skipping quoted attribute values; nil when a quote never closes.
    private static func tagEnd(_ html: [UInt8], from start: Int) -> Int? {
        var quote: UInt8?
        var index = start
        while index < html.count {
            let byte = html[index]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: ">") {
                return index
            } else if (byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")) && html[index - 1] == UInt8(ascii: "=")
            {
                quote = byte
            }
            index += 1
        }
        return nil
    }

    /// Decodes `&name;`, `&#NNN;` or `&#xHH;` at `start`; a lone `&` is kept. Returns where to go on.
    private static func appendReference(_ html: [UInt8], at start: Int, to output: inout [UInt8]) -> Int {
        var index = start + 1
        if index < html.count, html[index] == UInt8(ascii: "#") {
            index += 1
            let hex = index < html.count && (html[index] | 0x20) == UInt8(ascii: "x")
            if hex { index += 1 }
            var value: UInt32 = 0
            let digitsStart = index
            while index < html.count, index - digitsStart < 8,
                let digit = hex ? BodyTextExtractor.hexValue(html[index]) : decimalValue(html[index])
            {
                value = value * (hex ? 16 : 10) + UInt32(digit)
                index += 1
            }
            guard index > digitsStart else {
                output.append(UInt8(ascii: "&"))
                return start + 1
            }
            if index < html.count, html[index] == UInt8(ascii: ";") { index += 1 }
            if let scalar = Unicode.Scalar(value) { output.append(contentsOf: scalar.utf8) }
            return index
        }
        while index < html.count, index - start <= 10, isNameByte(html[index]) { index += 1 }
        guard index > start + 1, index < html.count, html[index] == UInt8(ascii: ";") else {
            output.append(UInt8(ascii: "&"))
            return start + 1
        }
        let name = String(decoding: html[(start + 1)..<index], as: UTF8.self)
        if let scalar = namedReferences[name] ?? namedReferences[name.lowercased()] {
            output.append(contentsOf: scalar.utf8)
        }
        return index + 1
    }

    private static func decimalValue(_ byte: UInt8) -> UInt8? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : nil
    }

    private static func starts(_ html: [UInt8], at index: Int, with text: String) -> Bool {
        var position = index
        for byte in text.utf8 {
            guard position < html.count, html[position] == byte else { return false }
            position += 1
        }
        return true
    }

    private static func find(_ html: [UInt8], _ text: String, from start: Int, ignoringCase: Bool = false) -> Int? {
        let needle = Array(text.utf8)
        guard let first = needle.first, html.count >= needle.count else { return nil }
        var index = start
        while index <= html.count - needle.count {
            let byte = ignoringCase ? BodyTextExtractor.asciiLowercase(html[index]) : html[index]
            if byte == first {
                var matched = true
                for offset in 1..<needle.count {
                    let other = html[index + offset]
                    if (ignoringCase ? BodyTextExtractor.asciiLowercase(other) : other) != needle[offset] {
                        matched = false
                        break
                    }
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}

/// Turns readable text into the normalised word stream that `BodyFingerprint` shingles, as
/// 64-bit FNV-1a hashes of the lowercased words:
///
/// - words are runs of Unicode letters, marks and digits; everything else separates them, except
///   format characters (zero-width spaces and joiners, soft hyphens) and apostrophes, which are
///   dropped without splitting the word (`don't` is `dont`, `Fr\u{200B}ee` is `free`);
/// - each CJK ideograph or kana is a word of its own, since those scripts do not space words;
/// - a run of words joined by `. , : / - _` that contains a digit (a number, amount, date, time,
///   order id, tracking code) becomes one placeholder, and consecutive placeholders merge, so
///   `12/03/2024`, `March 12, 2024` and `$1,234.56` differ from their neighbours by nothing;
/// - a URL (`http://`, `https://`, `www.`) becomes its registrable domain, and an e-mail address
///   its domain, since paths, query strings, subdomains and mailboxes carry per-recipient ids;
/// - the greeting is dropped: at the start of each part, lines of at most `greetingWords` words
///   (`Dear Alice`, a heading) are dropped, up to `greetingLines` lines, until a line whose
///   opening `greetingWords` words end at `,` `:` `!` `;` loses those words (`Dear Alice,` /
///   `Hi Bob, great news` / `Hello Mr. Carl Smith:`) or a longer line starts the text;
/// - the greeting's name (its words after the first) is a placeholder wherever the text repeats
///   it. Other names stay; shingling absorbs them (each changes at most `shingleLength` shingles).
struct BodyTokenizer {
    /// Lines with words, at the start of each part, searched for a greeting.
    static let greetingLines = 3
    /// Most words a greeting has (`Hello Mr. Carl Smith,`).
    static let greetingWords = 4

    static let placeholder = fnv1a("\u{0}#".utf8)
    static let namePlaceholder = fnv1a("\u{0}name".utf8)

    private(set) var tokens: [UInt64] = []
    private var line: [(hash: UInt64, pause: Bool)] = []
    private var linesWithWords = 0
    private var lookingForGreeting = true
    /// The words of the greeting's name, replaced by `namePlaceholder` in the rest of the message
    /// (a few words: searched in order, without hashing them again as a set would).
    private var names: [UInt64] = []
    // The compound being read: its finished words, the word in progress, whether a digit was seen.
    private var words: [UInt64] = []
    private var word = fnvOffset
    private var wordLength = 0
    private var hasDigit = false
    private var lastConnector: UInt8?

    mutating func addPart(_ text: [UInt8]) {
        linesWithWords = 0
        lookingForGreeting = true
        var index = 0
        var chunkStart = true
        while index < text.count {
            if chunkStart, let (token, end) = Self.addressToken(text, at: index) {
                endCompound()
                line.append((token, false))
                index = end
                chunkStart = false
                continue
            }
            chunkStart = false
            // ASCII letters, most of any text: the `.wordCharacter` case below, without decoding.
            let byte = text[index]
            if byte == UInt8(ascii: " ") {  // the `.space` case below, without decoding
                endCompound()
                chunkStart = true
                index += 1
                continue
            }
            if byte | 0x20 >= UInt8(ascii: "a"), byte | 0x20 <= UInt8(ascii: "z") {
                if wordLength == 0, !words.isEmpty, lastConnector == nil { endCompound() }
                word = (word ^ UInt64(byte | 0x20)) &* Self.fnvPrime
                wordLength += 1
                lastConnector = nil
                index += 1
                continue
            }
            let (value, length) = Self.decodeScalar(text, at: index)
            index += length
            switch Self.classify(value) {
            case .wordCharacter(let isDigit):
                if wordLength == 0, !words.isEmpty, lastConnector == nil { endCompound() }
                appendToWord(value)
                hasDigit = hasDigit || isDigit
                lastConnector = nil
            case .mark:
                if wordLength > 0 { appendToWord(value) }
            case .standalone:
                endCompound()
                var hash = Self.fnvOffset
                Self.hashLowercased(value, into: &hash)
                line.append((hash, false))
            case .connector:
                if wordLength > 0 {
                    finishWord()
                    lastConnector = UInt8(truncatingIfNeeded: value)
                } else {
                    endCompound(pause: Self.isPause(value))
                }
            case .ignored:
                break
            case .punctuation:
                endCompound(pause: Self.isPause(value))
            case .space:
                endCompound()
                chunkStart = true
            case .lineBreak:
                endCompound()
                endLine()
                chunkStart = true
            }
        }
        endCompound()
        endLine()
    }

    private mutating func appendToWord(_ value: UInt32) {
        Self.hashLowercased(value, into: &word)
        wordLength += 1
    }

    private mutating func finishWord() {
        guard wordLength > 0 else { return }
        words.append(word)
        word = Self.fnvOffset
        wordLength = 0
    }

    private mutating func endCompound(pause: Bool = false) {
        finishWord()
        let paused = pause || lastConnector.map { Self.isPause(UInt32($0)) } ?? false
        if hasDigit {
            line.append((Self.placeholder, false))
        } else {
            for word in words { line.append((word, false)) }
        }
        if paused, !line.isEmpty { line[line.count - 1].pause = true }
        words.removeAll(keepingCapacity: true)
        hasDigit = false
        lastConnector = nil
    }

    private mutating func endLine() {
        guard !line.isEmpty else { return }
        var start = 0
        if lookingForGreeting, linesWithWords < Self.greetingLines {
            if let pause = line.prefix(Self.greetingWords).firstIndex(where: \.pause) {
                start = pause + 1
                lookingForGreeting = false
                // `Dear Alice Smith,`: the words after the first are the name, which the
                // personalised text repeats ("… reserved for Alice"): from here on it reads as
                // one placeholder, the same for every recipient.
                for (hash, _) in line[(start > 1 ? 1 : 0)..<start] where hash != Self.placeholder && !names.contains(hash) {
                    names.append(hash)
                }
            } else if line.count <= Self.greetingWords {
                // A short line (`Dear Alice`, or a heading before the greeting): dropped, and the
                // greeting may still follow.
                start = line.count
            } else {
                lookingForGreeting = false  // the text has started
            }
        }
        linesWithWords += 1
        for (hash, _) in line[start...] {
            let word = names.contains(hash) ? Self.namePlaceholder : hash
            if word == Self.placeholder && tokens.last == Self.placeholder { continue }
            tokens.append(word)
        }
        line.removeAll(keepingCapacity: true)
    }

    // MARK: Characters

    enum CharacterClass: Equatable {
        case wordCharacter(isDigit: Bool)
        case mark, standalone, connector, ignored, punctuation, space, lineBreak
    }

    /// An invalid UTF-8 byte `b` decodes to U+F0000 + b (a private-use letter), so text in an
    /// undeclared legacy charset still has stable words.
    static let opaqueByteBase: UInt32 = 0xF0000

    static func classify(_ value: UInt32) -> CharacterClass {
        if value < 0x80 {
            switch UInt8(value) {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                return .wordCharacter(isDigit: false)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return .wordCharacter(isDigit: true)
            case 0x0A: return .lineBreak
            case 0x20, 0x09, 0x0B, 0x0C, 0x0D: return .space
            case UInt8(ascii: "'"): return .ignored
            case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "-"),
                UInt8(ascii: "_"):
                return .connector
            default: return value < 0x20 || value == 0x7F ? .space : .punctuation
            }
        }
        if value >= opaqueByteBase && value <= opaqueByteBase + 0xFF { return .wordCharacter(isDigit: false) }
        guard let scalar = Unicode.Scalar(value) else { return .punctuation }
        if value == 0x2019 || value == 0x02BC { return .ignored }
        if (0x3040...0x30FF).contains(value) { return .standalone }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return properties.isIdeographic ? .standalone : .wordCharacter(isDigit: false)
        case .nonspacingMark, .spacingMark, .enclosingMark: return .mark
        case .decimalNumber, .letterNumber, .otherNumber: return .wordCharacter(isDigit: true)
        case .spaceSeparator, .control: return .space
        case .lineSeparator, .paragraphSeparator: return .lineBreak
        case .format: return .ignored
        default: return .punctuation
        }
    }

    /// Punctuation that can end a greeting: `,` `:` `;` `!` and their full-width forms.
    static func isPause(_ value: UInt32) -> Bool {
        switch value {
        case 0x2C, 0x3A, 0x3B, 0x21, 0xFF0C, 0xFF1A, 0xFF1B, 0xFF01, 0x3001: true
        default: false
        }
    }

    /// The scalar at `index` and its length in bytes; an invalid sequence is one opaque byte.
    static func decodeScalar(_ text: [UInt8], at index: Int) -> (UInt32, Int) {
        let lead = text[index]
        if lead < 0x80 { return (UInt32(lead), 1) }
        let length: Int
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: (length, value) = (2, UInt32(lead & 0x1F))
        case 0xE0...0xEF: (length, value) = (3, UInt32(lead & 0x0F))
        case 0xF0...0xF4: (length, value) = (4, UInt32(lead & 0x07))
        default: return (opaqueByteBase + UInt32(lead), 1)
        }
        guard index + length <= text.count else { return (opaqueByteBase + UInt32(lead), 1) }
        for offset in 1..<length {
            let byte = text[index + offset]
            guard byte & 0xC0 == 0x80 else { return (opaqueByteBase + UInt32(lead), 1) }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        let smallest: UInt32 = length == 3 ? 0x800 : length == 4 ? 0x10000 : 0x80
        guard value >= smallest, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else {
            return (opaqueByteBase + UInt32(lead), 1)
        }
        return (value, length)
    }

    // MARK: Hashing

    static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01B3

    static func fnv1a(_ bytes: some Sequence<UInt8>, into hash: UInt64 = fnvOffset) -> UInt64 {
        var hash = hash
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* fnvPrime }
        return hash
    }

    /// Adds the lowercase form of the scalar (Unicode's full lowercase mapping) as UTF-8.
    static func hashLowercased(_ value: UInt32, into hash: inout UInt64) {
        if value < 0x80 {
            hash = (hash ^ UInt64(BodyTextExtractor.asciiLowercase(UInt8(value)))) &* fnvPrime
            return
        }
        guard let scalar = Unicode.Scalar(value), !(value >= opaqueByteBase && value <= opaqueByteBase + 0xFF) else {
            // Opaque bytes hash as a marker and the byte, apart from any real character.
            hash = fnv1a([0xFF, UInt8(truncatingIfNeeded: value)], into: hash)
            return
        }
        if scalar.properties.changesWhenLowercased {
            hash = fnv1a(scalar.properties.lowercaseMapping.utf8, into: hash)
        } else {
            hash = fnv1a(scalar.utf8, into: hash)
        }
    }

    // MARK: URLs and addresses

    /// A URL or e-mail address starting the whitespace-delimited chunk at `start` (after opening
    /// brackets or quotes): its token and where it ends.
    static func addressToken(_ text: [UInt8], at start: Int) -> (UInt64, Int)? {
        var index = start
        while index < text.count, Self.isOpening(text[index]) { index += 1 }
        guard index < text.count, isAddressByte(text[index]) else { return nil }
        var end = index
        var hasAt = false
        while end < text.count, isURLByte(text[end]) {
            hasAt = hasAt || text[end] == UInt8(ascii: "@")
            end += 1
        }
        let first = text[index] | 0x20
        guard hasAt || first == UInt8(ascii: "h") || first == UInt8(ascii: "w") else { return nil }
        let chunk = text[index..<end].map(BodyTextExtractor.asciiLowercase)
        var host: ArraySlice<UInt8>
        var marker: UInt8
        if let schemeEnd = urlHostStart(chunk) {
            host = chunk[schemeEnd...].prefix {
                ![UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#")].contains($0)
            }
            if let at = host.lastIndex(of: UInt8(ascii: "@")) { host = host[(at + 1)...] }
            if let colon = host.firstIndex(of: UInt8(ascii: ":")) { host = host[..<colon] }
            marker = 1
        } else {
            var local = chunk.starts(with: "mailto:".utf8) ? 7 : 0
            let localStart = local
            while local < chunk.count,
                isAddressByte(chunk[local]) || chunk[local] == UInt8(ascii: "+") || chunk[local] == UInt8(ascii: "%")
            {
                local += 1
            }
            guard local > localStart, local < chunk.count, chunk[local] == UInt8(ascii: "@") else { return nil }
            host = chunk[(local + 1)...].prefix(while: isAddressByte)
            end = index + local + 1 + host.count
            marker = 2
        }
        while let last = host.last, last == UInt8(ascii: ".") || last == UInt8(ascii: "-") { host = host.dropLast() }
        guard host.contains(UInt8(ascii: ".")) || marker == 1, !host.isEmpty else { return nil }
        return (fnv1a(registrableDomain(host), into: fnv1a([0, marker])), end)
    }

    /// `(<["'`: what may come before a URL or an address in its chunk.
    private static func isOpening(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: "<"), UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "'"): true
        default: false
        }
    }

    private static func urlHostStart(_ chunk: [UInt8]) -> Int? {
        for prefix in ["http://", "https://"] where chunk.starts(with: prefix.utf8) { return prefix.utf8.count }
        return chunk.starts(with: "www.".utf8) ? 0 : nil
    }

    /// Letters, digits, `.`, `-` and `_`: what a host name or the plain part of a mailbox holds.
    static func isAddressByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    /// Printable ASCII but quotes, angle brackets and backslash: the characters of a URL
    /// ([RFC 3986 §2](https://www.rfc-editor.org/rfc/rfc3986#section-2)) and then some.
    static func isURLByte(_ byte: UInt8) -> Bool {
        byte < 0x80 && (byte < 0x40 ? urlBytesLow >> byte : urlBytesHigh >> (byte & 0x3F)) & 1 == 1
    }

    /// `isURLByte` as bit sets of the bytes 0x00-0x3F and 0x40-0x7F: 0x21-0x7E without `"` `'`
    /// `<` `>` and `\` (checked against the plain definition in BodyFingerprintTests).
    static let urlBytesLow: UInt64 = 0xAFFF_FF7A_0000_0000
    static let urlBytesHigh: UInt64 = 0x7FFF_FFFF_EFFF_FFFF

    /// The last two labels of `host` (three under a two-letter country code with a short second
    /// level, as in `example.co.uk`): a public-suffix list would be exact, this is close enough to
    /// fold per-recipient subdomains (`u4711.track.example.com`) into one token.
    static func registrableDomain(_ host: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let labels = host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count > 2 else { return host }
        if labels.allSatisfy({ $0.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }) { return host }
        let keep = labels[labels.count - 1].count == 2 && labels[labels.count - 2].count <= 3 ? 3 : 2
        return host[labels[labels.count - keep].startIndex...]
    }
}
