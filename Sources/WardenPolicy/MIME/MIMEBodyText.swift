/// Builds SpamAssassin's body rule inputs from the leaves of a message
/// (`Message::get_rendered_body_text_array` and `get_decoded_body_text_array`).
struct MIMEBodyText {
    /// `body`: the Subject line, then each part's rendered text, whitespace collapsed.
    var body = ""
    /// `rawbody`: each text part decoded, markup kept.
    var rawBody = ""
    /// Each `rawBody` part as decoded bytes in its own charset, as SpamAssassin matches them.
    var rawBodyParts: [[UInt8]] = []
    var textParts: [(contentType: String, charset: String?, text: String)] = []
    /// Links of the HTML parts, in document order.
    var htmlURIs: [String] = []
    var problems: [MIMEProblem] = []

    init(leaves: [MIMELeaf], subject: String?, limits: MIMELimits) {
        var rendered: [UInt8] = []
        var raw = ""
        for leaf in leaves {
            if !rendered.isEmpty { rendered.append(0x0A) }
            let effectiveType = leaf.effectiveType
            let isRendered = effectiveType == "text/plain" || effectiveType == "text/html"
            let isRaw =
                (Self.isWord("text", startOf: effectiveType) || Self.isWord("message", startOf: effectiveType))
                && leaf.type != "text/calendar"
            guard isRendered || isRaw else { continue }
            let (decoded, transferProblem) = MIMELeaf.decode(
                leaf.body, transferEncoding: leaf.transferEncoding, type: leaf.type)
            if let transferProblem { problems.append(transferProblem) }
            let (text, charsetProblem) = MIMECharset.decode(decoded, declared: leaf.charset ?? "us-ascii", mode: .body)
            if let charsetProblem { problems.append(charsetProblem) }
            if isRendered {
                textParts.append((effectiveType, leaf.charset, text))
                var partText = text
                if effectiveType == "text/html", !decoded.isEmpty {
                    let html = MIMEHTMLRenderer.render(text, maximumURILength: limits.maximumURILength)
                    partText = html.text
                    htmlURIs.append(contentsOf: html.uris)
                }
                Self.append(partText, to: &rendered, limit: limits.bodyPartScanSize)
            }
            if isRaw {
                let cut = Self.truncated(
                    decoded, at: limits.rawBodyPartScanSize, breaks: [0x0A, UInt8(ascii: ">"), 0x20])
                let partText =
                    cut.count == decoded.count
                    ? text : MIMECharset.decode(cut, declared: leaf.charset ?? "us-ascii", mode: .body).text
                rawBodyParts.append(cut)
                if !raw.isEmpty, !raw.hasSuffix("\n") { raw += "\n" }
                raw += partText
            }
        }
        rawBody = raw
        // Without any part SpamAssassin has no body at all, not even the Subject.
        guard !leaves.isEmpty else { return }
        body = ((subject ?? "") + "\n") + String(decoding: Self.collapsingWhitespace(rendered), as: UTF8.self)
    }

    /// `text` as UTF-8 after `bytes`, cut as `truncated` cuts it at `limit` characters.
    private static func append(_ text: String, to bytes: inout [UInt8], limit: Int) {
        // Fewer bytes than the limit: fewer characters too, nothing to cut.
        if limit <= 0 || text.utf8.count <= limit {
            bytes.append(contentsOf: text.utf8)
            return
        }
        let cut = truncated(Array(text.unicodeScalars), at: limit, breaks: ["\n", " "])
        bytes.append(contentsOf: String(String.UnicodeScalarView(cut)).utf8)
    }

    /// `^word\b`.
    private static func isWord(_ word: String, startOf text: String) -> Bool {
        text.hasPrefix(word) && !MIMEContentType.isWordByte(text.utf8.dropFirst(word.utf8.count).first)
    }

    /// SpamAssassin's cut of a long part: at the first of `breaks` (in order of preference)
    /// within 1,024 elements after `limit`, kept; else at `limit`.
    static func truncated<Element: Equatable>(_ text: [Element], at limit: Int, breaks: [Element]) -> [Element] {
        guard limit > 0, text.count > limit else { return text }
        for mark in breaks {
            if let index = text[limit...].firstIndex(of: mark), index - limit <= 1024 { return Array(text[...index]) }
        }
        return Array(text[..<limit])
    }

    /// `s/\n+\s*\n+/\0/gs; s/\s+/ /gs; tr/\0/\n/` on UTF-8 text: a run of whitespace holding
    /// two or more line feeds becomes a paragraph break (with a space for the whitespace before its
    /// first and after its last line feed), any other run one space.
    static func collapsingWhitespace(_ text: [UInt8]) -> [UInt8] {
        // The output is never longer: a run becomes one byte, or three (` \n `) for a run of
        // at least four holding two line feeds.
        text.withUnsafeBufferPointer { text in
            [UInt8](unsafeUninitializedCapacity: text.count) { output, written in
                var count = 0
                var index = 0
                while index < text.count {
                    let byte = text[index]
                    // Most bytes: printable ASCII, or UTF-8 that cannot start a whitespace character.
                    if byte > 0x20 ? byte < 0x80 || !(byte == 0xC2 || byte == 0xE1 || byte == 0xE2 || byte == 0xE3) : false {
                        output[count] = byte
                        count += 1
                        index += 1
                        continue
                    }
                    // One space between words, most of the rest: kept as it is.
                    if byte == 0x20, index + 1 < text.count, text[index + 1] > 0x20, text[index + 1] < 0x80 {
                        output[count] = 0x20
                        count += 1
                        index += 1
                        continue
                    }
                    let first = whitespaceLength(text, at: index)
                    guard first > 0 else {
                        output[count] = byte == 0 ? 0x0A : byte
                        count += 1
                        index += 1
                        continue
                    }
                    var end = index
                    var firstNewline: Int?
                    var lastNewline = 0
                    var newlines = 0
                    var length = first
                    while length > 0 {
                        if text[end] == 0x0A {
                            newlines += 1
                            if firstNewline == nil { firstNewline = end }
                            lastNewline = end
                        }
                        end += length
                        length = end < text.count ? whitespaceLength(text, at: end) : 0
                    }
                    if newlines >= 2, let firstNewline {
                        if firstNewline > index {
                            output[count] = 0x20
                            count += 1
                        }
                        output[count] = 0x0A
                        count += 1
                        if end > lastNewline + 1 {
                            output[count] = 0x20
                            count += 1
                        }
                    } else {
                        output[count] = 0x20
                        count += 1
                    }
                    index = end
                }
                written = count
            }
        }
    }

    /// The length in bytes of the Unicode whitespace character (Perl's `\s`, Unicode's
    /// White_Space) starting at `index` of valid UTF-8, or 0 when there is none there.
    static func whitespaceLength(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = text[index]
        if lead < 0x80 { return (lead >= 0x09 && lead <= 0x0D) || lead == 0x20 ? 1 : 0 }
        guard lead == 0xC2 || lead == 0xE1 || lead == 0xE2 || lead == 0xE3 else { return 0 }
        let second = index + 1 < text.count ? text[index + 1] : 0
        if lead == 0xC2 { return second == 0x85 || second == 0xA0 ? 2 : 0 }
        guard index + 2 < text.count else { return 0 }
        let third = text[index + 2]
        switch (lead, second) {
        case (0xE1, 0x9A): return third == 0x80 ? 3 : 0  // U+1680
        case (0xE2, 0x80):  // U+2000...U+200A, U+2028, U+2029, U+202F
            return third <= 0x8A || third == 0xA8 || third == 0xA9 || third == 0xAF ? 3 : 0
        case (0xE2, 0x81): return third == 0x9F ? 3 : 0  // U+205F
        case (0xE3, 0x80): return third == 0x80 ? 3 : 0  // U+3000
        default: return 0
        }
    }

    /// `split_into_array_of_short_lines`: the lines of `text` (line feeds kept), lines longer
    /// than `maximum` bytes cut after the last space at or before that length.
    static func shortLines(_ text: String, maximum: Int) -> [[UInt8]] {
        let bytes = Array(text.utf8)
        var lines: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let end = MIMELine.firstLineFeed(in: bytes, from: start).map { $0 + 1 } ?? bytes.count
            var line = bytes[start..<end]
            while line.count > maximum {
                let window = line[line.startIndex...(line.startIndex + maximum)]
                let length = window.lastIndex(of: 0x20).map { $0 + 1 - line.startIndex } ?? maximum
                lines.append(Array(line.prefix(length)))
                line = line.dropFirst(length)
            }
            lines.append(Array(line))
            start = end
        }
        return lines
    }
}
