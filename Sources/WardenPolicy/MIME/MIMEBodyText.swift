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
        var rendered: [Unicode.Scalar] = []
        var raw = ""
        for leaf in leaves {
            if !rendered.isEmpty { rendered.append("\n") }
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
                rendered.append(
                    contentsOf: Self.truncated(
                        Array(partText.unicodeScalars), at: limits.bodyPartScanSize, breaks: ["\n", " "]))
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
        body = ((subject ?? "") + "\n") + String(String.UnicodeScalarView(Self.collapsingWhitespace(rendered)))
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

    /// `s/\n+\s*\n+/\0/gs; s/\s+/ /gs; tr/\0/\n/`: a run of whitespace holding two or more line
    /// feeds becomes a paragraph break (with a space for the whitespace before its first and
    /// after its last line feed), any other run one space.
    static func collapsingWhitespace(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let scalar = text[index]
            guard scalar.properties.isWhitespace else {
                output.append(scalar == "\u{0}" ? "\n" : scalar)
                index += 1
                continue
            }
            var end = index
            var firstNewline: Int?
            var lastNewline = 0
            var newlines = 0
            while end < text.count, text[end].properties.isWhitespace {
                if text[end] == "\n" {
                    newlines += 1
                    if firstNewline == nil { firstNewline = end }
                    lastNewline = end
                }
                end += 1
            }
            if newlines >= 2, let first = firstNewline {
                if first > index { output.append(" ") }
                output.append("\n")
                if end > lastNewline + 1 { output.append(" ") }
            } else {
                output.append(" ")
            }
            index = end
        }
        return output
    }

    /// `split_into_array_of_short_lines`: the lines of `text` (line feeds kept), lines longer
    /// than `maximum` bytes cut after the last space at or before that length.
    static func shortLines(_ text: String, maximum: Int) -> [[UInt8]] {
        let bytes = Array(text.utf8)
        var lines: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
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
