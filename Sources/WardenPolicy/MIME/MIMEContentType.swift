/// A `Content-Type` field value ([RFC 2045 §5.1](https://www.rfc-editor.org/rfc/rfc2045#section-5.1))
/// read the way SpamAssassin's `Util::parse_content_type` reads it, leniently:
///
///     content   := "Content-Type" ":" type "/" subtype *(";" parameter)
///     parameter := attribute "=" value
///     value     := token / quoted-string
///
/// A missing or empty field is `text/plain`, as is any `text/*` type other than `text/html`,
/// `text/calendar` and `text/x-vcard`. A boundary needs only its opening quote; a charset or name
/// runs to the next `;` with one quote stripped at either end.
///
///     Content-Type: multipart/alternative; boundary="b1"   -> multipart/alternative, b1
///     Content-Type: TEXT/ENRICHED; charset=iso-8859-1      -> text/plain, iso-8859-1
struct MIMEContentType: Sendable, Hashable {
    /// `type/subtype`, lowercased, with characters that cannot appear in a token removed.
    var type: String
    var boundary: String?
    var charset: String?
    /// The `name` or `filename` parameter (RFC 2231 continuations joined).
    var name: String?
    /// The field was absent or empty; `type` is then `text/plain`.
    var isMissing: Bool

    init(_ value: String?) {
        let value = value ?? ""
        isMissing = value.isEmpty || value == "0"
        let bytes = isMissing ? Array("text/plain; charset=us-ascii".utf8) : Array(value.utf8)
        boundary = Self.boundary(bytes)
        charset = Self.parameter(bytes, keyword: "charset", allowingFilePrefix: false)
        name = Self.parameter(bytes, keyword: "name", allowingFilePrefix: true)
        if name?.isEmpty ?? true, let continued = Self.continuedName(bytes) { name = continued }
        var type = Self.mediaType(bytes)
        if type.isEmpty { isMissing = true }
        if type.isEmpty
            || (type.hasPrefix("text") && !Self.isWordByte(type.utf8.dropFirst(4).first)
                && !["text/x-vcard", "text/calendar", "text/html"].contains(type))
        {
            type = "text/plain"
        }
        self.type = String(decoding: type.utf8.filter(Self.isTypeByte), as: UTF8.self)
    }

    // MARK: Pieces

    /// `^\s*` then up to the first `;`, then `[^/]+(/[^/\s]*)?`, lowercased.
    private static func mediaType(_ bytes: [UInt8]) -> String {
        var start = 0
        while start < bytes.count, isSpace(bytes[start]) { start += 1 }
        let end = bytes[start...].firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
        let field = bytes[start..<end]
        guard let first = field.first, first != UInt8(ascii: "/") else {
            return String(decoding: field.map(asciiLowercase), as: UTF8.self)
        }
        var index = field.startIndex
        while index < field.endIndex, field[index] != UInt8(ascii: "/") { index += 1 }
        if index < field.endIndex {
            index += 1
            while index < field.endIndex, field[index] != UInt8(ascii: "/"), !isSpace(field[index]) { index += 1 }
        }
        return String(decoding: field[field.startIndex..<index].map(asciiLowercase), as: UTF8.self)
    }

    /// `\bboundary\s*=\s*("[^"]+|[^\s";]+(?=[\s;]|$))`, quotes removed.
    private static func boundary(_ bytes: [UInt8]) -> String? {
        var from = 0
        while let keyword = find(bytes, "boundary", from: from) {
            from = keyword + 1
            guard var index = afterEquals(bytes, keyword + 8) else { continue }
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                let start = index + 1
                index = start
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") { index += 1 }
                if index > start { return String(decoding: bytes[start..<index], as: UTF8.self) }
                continue
            }
            let start = index
            while index < bytes.count, !isSpace(bytes[index]), bytes[index] != UInt8(ascii: "\""),
                bytes[index] != UInt8(ascii: ";")
            {
                index += 1
            }
            let followedWell =
                index == bytes.count || isSpace(bytes[index]) || bytes[index] == UInt8(ascii: ";")
            if index > start, followedWell { return String(decoding: bytes[start..<index], as: UTF8.self) }
        }
        return nil
    }

    /// `\b(file)?keyword\s*=\s*["']?(.*?)["']?(?:;|$)`.
    private static func parameter(_ bytes: [UInt8], keyword word: String, allowingFilePrefix: Bool) -> String? {
        var from = 0
        while let found = find(bytes, word, from: from, wordStartOnly: !allowingFilePrefix) {
            from = found + 1
            // With `(?:file)?`, "filename" also counts, and so does "name" after a word boundary.
            if allowingFilePrefix {
                let atBoundary = found == 0 || !isWordByte(bytes[found - 1])
                let afterFile =
                    found >= 4 && equalsIgnoringCase(bytes[(found - 4)..<found], "file")
                    && (found == 4 || !isWordByte(bytes[found - 5]))
                guard atBoundary || afterFile else { continue }
            }
            guard var index = afterEquals(bytes, found + word.utf8.count) else { continue }
            if index < bytes.count, isQuote(bytes[index]) { index += 1 }
            let start = index
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: ";") { break }
                if isQuote(bytes[index]), index + 1 == bytes.count || bytes[index + 1] == UInt8(ascii: ";") { break }
                index += 1
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
        return nil
    }

    /// RFC 2231 §3 continuations: `name*0=...; name*1=...`.
    private static func continuedName(_ bytes: [UInt8]) -> String? {
        var pieces: [Int: String] = [:]
        var from = 0
        while let found = find(bytes, "name*", from: from, wordStartOnly: false) {
            from = found + 1
            var index = found + 5
            let digits = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                index += 1
            }
            guard index > digits, let number = Int(String(decoding: bytes[digits..<index], as: UTF8.self)),
                let valueStart = afterEquals(bytes, index)
            else { continue }
            var start = valueStart
            if start < bytes.count, isQuote(bytes[start]) { start += 1 }
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: ";") { end += 1 }
            var stop = end
            if stop > start, isQuote(bytes[stop - 1]) { stop -= 1 }
            pieces[number] = String(decoding: bytes[start..<stop], as: UTF8.self)
        }
        guard pieces[0] != nil else { return nil }
        return pieces.keys.sorted().map { pieces[$0]! }.joined()
    }

    // MARK: Scanning

    /// The index after `\s*=\s*` at `index`, or nil when there is no `=`.
    private static func afterEquals(_ bytes: [UInt8], _ index: Int) -> Int? {
        var index = index
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { return nil }
        index += 1
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        return index
    }

    /// The next case-insensitive occurrence of `word` at or after `from`, at a word boundary
    /// when `wordStartOnly`.
    private static func find(_ bytes: [UInt8], _ word: String, from: Int, wordStartOnly: Bool = true) -> Int? {
        let needle = Array(word.utf8)
        guard needle.count <= bytes.count else { return nil }
        var index = from
        while index + needle.count <= bytes.count {
            if equalsIgnoringCase(bytes[index..<(index + needle.count)], needle),
                !wordStartOnly || index == 0 || !isWordByte(bytes[index - 1])
            {
                return index
            }
            index += 1
        }
        return nil
    }

    static func equalsIgnoringCase(_ slice: ArraySlice<UInt8>, _ word: some Collection<UInt8>) -> Bool {
        slice.count == word.count && zip(slice, word).allSatisfy { asciiLowercase($0) == asciiLowercase($1) }
    }

    private static func equalsIgnoringCase(_ slice: ArraySlice<UInt8>, _ word: String) -> Bool {
        equalsIgnoringCase(slice, Array(word.utf8))
    }

    static func asciiLowercase(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// Perl's `\s` on bytes: space, tab, LF, VT, FF, CR.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    /// Perl's `\w` on bytes.
    static func isWordByte(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }

    private static func isQuote(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }

    /// Characters SpamAssassin keeps in a type: not controls, space, 8-bit, `"(),:;<=>?@[\]`.
    private static func isTypeByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x00...0x20, 0x7F...0xFF, 0x22, 0x28, 0x29, 0x2C, 0x3A...0x3F, 0x40, 0x5B...0x5D: false
        default: true
        }
    }
}
