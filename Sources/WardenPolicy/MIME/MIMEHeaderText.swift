/// The text of a header field value, unfolded
/// ([RFC 5322 §2.2.3](https://www.rfc-editor.org/rfc/rfc5322#section-2.2.3)) and with its
/// encoded words decoded ([RFC 2047 §2](https://www.rfc-editor.org/rfc/rfc2047#section-2)), as
/// SpamAssassin's `Message::Node::header` and `_decode_header` produce it:
///
///     encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
///
///     Subject: =?utf-8?q?caf=C3=A9?= =?utf-8?b?IMOgIGxh?= carte
///     -> "café à la carte"
///
/// Whitespace between two encoded words is dropped and adjacent words in one charset are joined
/// before decoding, so a character split across words survives. Encoded words are found anywhere
/// in the value (not only between spaces); a malformed one stays as written. Fields whose values
/// are not text (`Received`, `Date`, `Message-ID`, `References`, `List-*`, ...) are not decoded.
enum MIMEHeaderText {
    /// The value as header rules see it: folds replaced by one space, trimmed, bytes read as
    /// UTF-8 (windows-1252 if invalid), encoded words decoded.
    static func decoded(_ raw: [UInt8], name: String) -> String {
        var problems: [MIMEProblem] = []
        return decoded(raw, name: name, problems: &problems)
    }

    /// `decoded(_:name:)`, noting an encoded word in an unknown charset.
    static func decoded(_ raw: [UInt8], name: String, problems: inout [MIMEProblem]) -> String {
        // A line break and the whitespace after it become one space.
        var unfolded: [UInt8] = []
        unfolded.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            if byte == 0x0A, index + 1 < raw.count, raw[index + 1] == 0x20 || raw[index + 1] == 0x09 {
                index += 1
                while index < raw.count, raw[index] == 0x20 || raw[index] == 0x09 { index += 1 }
                unfolded.append(0x20)
                continue
            }
            if byte != 0x0A { unfolded.append(byte) }
            index += 1
        }
        let bytes = Array(trimSpace(unfolded[...]))
        guard !bytes.isEmpty else { return "" }
        let text = MIMECharset.decode(bytes, declared: "UTF-8", mode: .body).text
        guard !isStructured(name), text.utf8.contains(UInt8(ascii: "=")) else { return text }
        return decodeEncodedWords(Array(text.utf8), problems: &problems)
    }

    /// The value with line breaks removed and the folding whitespace kept, trimmed.
    static func unfoldedRaw(_ raw: [UInt8]) -> String {
        let kept = raw.filter { $0 != 0x0A && $0 != 0x0D }
        return MIMECharset.decode(Array(trimSpace(kept[...])), declared: "UTF-8", mode: .body).text
    }

    private static func trimSpace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, MIMEContentType.isSpace(first) { slice.removeFirst() }
        while let last = slice.last, MIMEContentType.isSpace(last) { slice.removeLast() }
        return slice
    }

    /// Fields SpamAssassin never decodes.
    private static func isStructured(_ name: String) -> Bool {
        let name = name.lowercased()
        return structuredNames.contains(name) || name.hasPrefix("list-")
    }

    private static let structuredNames: Set<String> = [
        "received", "message-id", "resent-message-id", "date", "resent-date", "mime-version", "references",
        "in-reply-to",
    ]

    // MARK: Encoded words

    private static func decodeEncodedWords(_ input: [UInt8], problems: inout [MIMEProblem]) -> String {
        // Whitespace between two encoded words goes.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            if let word = encodedWord(in: input, at: index) {
                bytes.append(contentsOf: input[index..<word.end])
                var next = word.end
                while next < input.count, MIMEContentType.isSpace(input[next]) { next += 1 }
                if next > word.end, encodedWord(in: input, at: next) != nil {
                    index = next
                } else {
                    bytes.append(contentsOf: input[word.end..<next])
                    index = next
                }
                continue
            }
            bytes.append(input[index])
            index += 1
        }
        // Sections of one charset (or of plain text) are joined, then each decoded.
        var sections: [(bytes: [UInt8], charset: String)] = []
        index = 0
        while index < bytes.count {
            var piece: ArraySlice<UInt8>
            var charset = ""
            var decodedPiece: [UInt8]?
            if let word = encodedWord(in: bytes, at: index) {
                charset = word.charset.lowercased()
                let text = bytes[word.text]
                if word.isBase64 {
                    decodedPiece = MIMETransferEncoding.decodeBase64(text).bytes
                } else {
                    var expanded: [UInt8] = []
                    for byte in text {
                        if byte == UInt8(ascii: "_") {
                            expanded.append(contentsOf: Array("=20".utf8))
                        } else {
                            expanded.append(byte)
                        }
                    }
                    decodedPiece = MIMETransferEncoding.decodeQuotedPrintable(expanded).bytes
                }
                piece = []
                index = word.end
            } else if bytes[index] != UInt8(ascii: "=") {
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "=") { index += 1 }
                piece = bytes[start..<index]
            } else {
                piece = bytes[index..<(index + 1)]
                index += 1
            }
            let content = decodedPiece ?? Array(piece)
            if let last = sections.last, last.charset == charset {
                sections[sections.count - 1].bytes.append(contentsOf: content)
            } else {
                sections.append((content, charset))
            }
        }
        var result = ""
        for section in sections {
            let charset =
                section.charset.split(separator: "*", maxSplits: 1, omittingEmptySubsequences: false).first.map(
                    String.init) ?? ""
            if section.charset.isEmpty {
                result += String(decoding: section.bytes, as: UTF8.self)
            } else {
                let (text, problem) = MIMECharset.decode(section.bytes, declared: charset, mode: .insistOnDeclared)
                if problem == .unknownCharset { problems.append(.unknownCharset) }
                result += text
            }
        }
        return result
    }

    /// `=\?([A-Za-z0-9*_-]+)\?([bqBQ])\?([^?]*)\?=` at `start`.
    private static func encodedWord(in bytes: [UInt8], at start: Int) -> (
        charset: String, isBase64: Bool, text: Range<Int>, end: Int
    )? {
        guard start + 1 < bytes.count, bytes[start] == UInt8(ascii: "="), bytes[start + 1] == UInt8(ascii: "?") else {
            return nil
        }
        var index = start + 2
        let charsetStart = index
        while index < bytes.count, isCharsetByte(bytes[index]) { index += 1 }
        guard index > charsetStart, index + 2 < bytes.count, bytes[index] == UInt8(ascii: "?"),
            bytes[index + 2] == UInt8(ascii: "?")
        else { return nil }
        let charset = String(decoding: bytes[charsetStart..<index], as: UTF8.self)
        let encoding = bytes[index + 1] | 0x20
        guard encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q") else { return nil }
        index += 3
        let textStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "?") { index += 1 }
        guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "=") else { return nil }
        return (charset, encoding == UInt8(ascii: "b"), textStart..<index, index + 2)
    }

    private static func isCharsetByte(_ byte: UInt8) -> Bool {
        MIMEContentType.isWordByte(byte) || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "-")
    }
}
