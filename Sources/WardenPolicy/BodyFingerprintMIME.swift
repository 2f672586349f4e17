/// One readable leaf of a message, decoded from its transfer encoding into UTF-8 (latin-1
/// family charsets are transcoded; other charsets pass through as bytes).
struct BodyTextPart: Sendable, Hashable {
    var bytes: [UInt8]
    var isHTML: Bool
}

/// Finds the readable text of an RFC 5322 message for `BodyFingerprint`: the `text/plain` and
/// `text/html` leaves of its MIME tree ([RFC 2045](https://www.rfc-editor.org/rfc/rfc2045),
/// [RFC 2046 §5.1](https://www.rfc-editor.org/rfc/rfc2046#section-5.1)), decoded from base64 or
/// quoted-printable. The header block, part headers, preambles, epilogues and boundary lines are
/// never part of the text, so per-message boundaries and header fields do not change it.
///
///     multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF body-part
///                       *encapsulation close-delimiter transport-padding [CRLF epilogue]
///     dash-boundary  := "--" boundary
///     close-delimiter := delimiter "--"
///
/// The walk is lenient the way mail readers are: bare LF ends lines, a part without headers is
/// text, a multipart whose boundary never appears is read as text, an unterminated multipart
/// ends at the end of the message. Work is linear in the message (times the nesting depth, at
/// most `maximumDepth`); decoded text stops at `limit` bytes, and non-text parts are skipped
/// without being decoded.
struct BodyTextExtractor {
    /// Deepest MIME nesting followed; deeper entities are skipped. Real mail nests 3 or 4 deep.
    static let maximumDepth = 8
    /// Longest unfolded `Content-Type` or `Content-Transfer-Encoding` value kept (RFC 5322
    /// §2.1.1 has no limit on folded fields); a longer one is cut, so a huge header costs no memory.
    static let maximumHeaderValue = 4096

    private let bytes: UnsafeBufferPointer<UInt8>
    private var budget: Int
    private(set) var parts: [BodyTextPart] = []

    /// The text parts of `message`, in message order, at most `limit` decoded bytes in all.
    static func textParts(of message: UnsafeBufferPointer<UInt8>, limit: Int) -> [BodyTextPart] {
        var extractor = BodyTextExtractor(bytes: message, budget: max(0, limit))
        extractor.walk(0..<message.count, depth: 0, defaultType: "text/plain")
        return extractor.parts
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, budget: Int) {
        self.bytes = bytes
        self.budget = budget
    }

    // MARK: Entities

    private mutating func walk(_ range: Range<Int>, depth: Int, defaultType: String) {
        guard budget > 0, depth <= Self.maximumDepth else { return }
        let (headers, bodyStart) = parseHeaders(range)
        let body = bodyStart..<range.upperBound
        let mediaType = headers.mediaType.isEmpty ? defaultType : headers.mediaType
        if mediaType.hasPrefix("multipart/") {
            let parts = headers.boundary.map { splitMultipart(body, boundary: $0) } ?? []
            guard !parts.isEmpty else {
                // No boundary found: mail readers show such a body as text, and so do we.
                appendLeaf(body, encoding: headers.transferEncoding, charset: headers.charset, isHTML: false)
                return
            }
            if mediaType == "multipart/alternative" {
                // The same content in several forms, the preferred last (RFC 2046 §5.1.4): read
                // the one a reader is shown, the last that has text, so that a harmless text/plain
                // beside a spam text/html (or the reverse) does not hide what is displayed.
                let before = self.parts.count
                for part in parts.reversed() {
                    walk(part, depth: depth + 1, defaultType: "text/plain")
                    if self.parts.count > before { break }
                }
                return
            }
            let childDefault = mediaType == "multipart/digest" ? "message/rfc822" : "text/plain"
            for part in parts { walk(part, depth: depth + 1, defaultType: childDefault) }
        } else if mediaType == "message/rfc822" || mediaType == "message/global" {
            walk(body, depth: depth + 1, defaultType: "text/plain")
        } else if mediaType == "text/plain" || mediaType == "text/html" {
            appendLeaf(
                body, encoding: headers.transferEncoding, charset: headers.charset,
                isHTML: mediaType == "text/html")
        }
    }

    private mutating func appendLeaf(_ body: Range<Int>, encoding: String, charset: String, isHTML: Bool) {
        guard budget > 0, !body.isEmpty else { return }
        var decoded: [UInt8]
        switch encoding {
        case "base64": decoded = decodeBase64(body, limit: budget)
        case "quoted-printable": decoded = decodeQuotedPrintable(body, limit: budget)
        default: decoded = Array(bytes[body.lowerBound..<min(body.upperBound, body.lowerBound + budget)])
        }
        if Self.latin1Charsets.contains(charset) { decoded = Self.transcodeLatin1(decoded) }
        if decoded.count > budget { decoded.removeLast(decoded.count - budget) }
        budget -= decoded.count
        parts.append(BodyTextPart(bytes: decoded, isHTML: isHTML))
    }

    /// Charsets whose bytes 0x80–0xFF are read as U+0080–U+00FF. For windows-1252 that loses
    /// the punctuation in 0x80–0x9F, which only separates words anyway.
    static let latin1Charsets: Set<String> = [
        "iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso-8859-15", "iso8859-15", "windows-1252", "cp1252",
    ]

    static func transcodeLatin1(_ input: [UInt8]) -> [UInt8] {
        guard input.contains(where: { $0 >= 0x80 }) else { return input }
        var output: [UInt8] = []
        output.reserveCapacity(input.count + input.count / 4)
        for byte in input {
            if byte < 0x80 {
                output.append(byte)
            } else {
                output.append(0xC0 | (byte >> 6))
                output.append(0x80 | (byte & 0x3F))
            }
        }
        return output
    }

    // MARK: Header fields

    struct Headers {
        /// `type/subtype`, lowercased; empty when the entity has no `Content-Type`.
        var mediaType = ""
        var boundary: [UInt8]?
        var charset = ""
        var transferEncoding = ""
    }

    private enum Field { case contentType, transferEncoding, other }

    /// The fields of the header block at the start of `range` and where the body starts: after
    /// the first empty line. When the first line is not a field (`name:`), there is no header
    /// block: a bare body, or a part written without headers, is all text. A malformed line
    /// further down is skipped, so that per-recipient header fields never become text.
    private func parseHeaders(_ range: Range<Int>) -> (Headers, Int) {
        var headers = Headers()
        var index = range.lowerBound
        var field = Field.other
        var value: [UInt8] = []
        func finish() {
            switch field {
            case .contentType: Self.parseContentType(value, into: &headers)
            case .transferEncoding: headers.transferEncoding = Self.lowercasedToken(value)
            case .other: break
            }
            value.removeAll(keepingCapacity: true)
        }
        while index < range.upperBound {
            let (contentEnd, next) = line(from: index, before: range.upperBound)
            if contentEnd == index {
                finish()
                return (headers, next)
            }
            let byte = bytes[index]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                // An indented first line continues nothing: the body starts at once.
                if index == range.lowerBound { return (headers, index) }
                if field != .other, value.count < Self.maximumHeaderValue {
                    let room = Self.maximumHeaderValue - value.count
                    value.append(UInt8(ascii: " "))
                    value.append(contentsOf: bytes[index..<min(contentEnd, index + room)])
                }
            } else {
                finish()
                guard let colon = fieldNameEnd(index..<contentEnd) else {
                    if index == range.lowerBound { return (headers, index) }
                    field = .other
                    index = next
                    continue
                }
                field = Self.classify(bytes[index..<colon])
                if field != .other {
                    value.append(contentsOf: bytes[(colon + 1)..<min(contentEnd, colon + 1 + Self.maximumHeaderValue)])
                }
            }
            index = next
        }
        finish()
        return (headers, range.upperBound)
    }

    /// The colon ending a field name (printable ASCII but `:`; RFC 5322 §2.2), or nil.
    private func fieldNameEnd(_ line: Range<Int>) -> Int? {
        for index in line {
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") { return index > line.lowerBound ? index : nil }
            if byte <= 0x20 || byte >= 0x7F { return nil }
        }
        return nil
    }

    private static func classify(_ name: UnsafeBufferPointer<UInt8>.SubSequence) -> Field {
        if equalsIgnoringCase(name, "content-type") { return .contentType }
        if equalsIgnoringCase(name, "content-transfer-encoding") { return .transferEncoding }
        return .other
    }

    private static func equalsIgnoringCase(_ bytes: some Collection<UInt8>, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        var index = 0
        for byte in bytes {
            if asciiLowercase(byte) != text.utf8Start[index] { return false }
            index += 1
        }
        return true
    }

    static func asciiLowercase(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    private static func lowercasedToken(_ value: [UInt8]) -> String {
        let trimmed = value.drop { $0 == 0x20 || $0 == 0x09 }.prefix {
            $0 != 0x20 && $0 != 0x09 && $0 != UInt8(ascii: ";")
        }
        return String(decoding: trimmed.map(asciiLowercase), as: UTF8.self)
    }

    /// `Content-Type` per [RFC 2045 §5.1](https://www.rfc-editor.org/rfc/rfc2045#section-5.1):
    ///
    ///     content := "Content-Type" ":" type "/" subtype *(";" parameter)
    ///     parameter := attribute "=" value
    ///     value := token / quoted-string
    static func parseContentType(_ value: [UInt8], into headers: inout Headers) {
        var pieces: [[UInt8]] = [[]]
        var quoted = false
        var escaped = false
        for byte in value {
            if escaped {
                escaped = false
            } else if quoted && byte == UInt8(ascii: "\\") {
                escaped = true
                continue
            } else if byte == UInt8(ascii: "\"") {
                quoted.toggle()
                continue
            } else if !quoted && byte == UInt8(ascii: ";") {
                pieces.append([])
                continue
            }
            pieces[pieces.count - 1].append(byte)
        }
        headers.mediaType = lowercasedToken(pieces[0])
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = lowercasedToken(Array(piece[..<equals]))
            let raw = piece[(equals + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
            var end = raw.endIndex
            while end > raw.startIndex, raw[end - 1] == 0x20 || raw[end - 1] == 0x09 { end -= 1 }
            let parameter = Array(raw[raw.startIndex..<end])
            switch name {
            case "boundary" where !parameter.isEmpty: headers.boundary = parameter
            case "charset": headers.charset = String(decoding: parameter.map(asciiLowercase), as: UTF8.self)
            default: break
            }
        }
    }

    // MARK: Multipart

    /// The body parts between the delimiter lines of `boundary`; empty when no delimiter appears.
    private func splitMultipart(_ body: Range<Int>, boundary: [UInt8]) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var partStart: Int?
        var index = body.lowerBound
        while index < body.upperBound {
            let (contentEnd, next) = line(from: index, before: body.upperBound)
            if let isClose = delimiter(index..<contentEnd, boundary: boundary) {
                if let start = partStart { parts.append(start..<max(start, index)) }
                if isClose { return parts }
                partStart = next
            }
            index = next
        }
        if let start = partStart, start < body.upperBound { parts.append(start..<body.upperBound) }
        return parts
    }

    /// Whether the line is `--boundary` (false) or `--boundary--` (true), with optional trailing
    /// whitespace; nil when it is neither. Exact, not a prefix match: nested boundaries may share
    /// a prefix with their parent's.
    private func delimiter(_ line: Range<Int>, boundary: [UInt8]) -> Bool? {
        let dash = UInt8(ascii: "-")
        guard line.count >= boundary.count + 2, bytes[line.lowerBound] == dash, bytes[line.lowerBound + 1] == dash
        else { return nil }
        var index = line.lowerBound + 2
        for byte in boundary {
            guard bytes[index] == byte else { return nil }
            index += 1
        }
        var isClose = false
        if index + 1 < line.upperBound, bytes[index] == dash, bytes[index + 1] == dash {
            isClose = true
            index += 2
        }
        while index < line.upperBound {
            guard bytes[index] == 0x20 || bytes[index] == 0x09 else { return nil }
            index += 1
        }
        return isClose
    }

    /// The line starting at `start`: where its content ends (before CRLF or bare LF) and where
    /// the next line starts.
    private func line(from start: Int, before end: Int) -> (contentEnd: Int, next: Int) {
        var index = start
        while index < end, bytes[index] != 0x0A { index += 1 }
        guard index < end else { return (end, end) }
        let contentEnd = index > start && bytes[index - 1] == 0x0D ? index - 1 : index
        return (contentEnd, index + 1)
    }

    // MARK: Transfer encodings

    /// Base64 ([RFC 2045 §6.8](https://www.rfc-editor.org/rfc/rfc2045#section-6.8)); characters
    /// outside the alphabet (line breaks, padding, garbage) are skipped.
    private func decodeBase64(_ range: Range<Int>, limit: Int) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, range.count * 3 / 4 + 3))
        var accumulator: UInt32 = 0
        var bits = 0
        for index in range {
            let value = Self.base64Values[Int(bytes[index])]
            guard value < 64 else { continue }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                if output.count >= limit { break }
            }
        }
        return output
    }

    private static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()

    /// Quoted-printable ([RFC 2045 §6.7](https://www.rfc-editor.org/rfc/rfc2045#section-6.7)):
    /// `=XX` is a byte, `=` at the end of a line (trailing whitespace allowed) is a soft break; a
    /// malformed `=` stays as it is.
    private func decodeQuotedPrintable(_ range: Range<Int>, limit: Int) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, range.count))
        var index = range.lowerBound
        while index < range.upperBound, output.count < limit {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "=") else {
                output.append(byte)
                index += 1
                continue
            }
            if index + 2 < range.upperBound, let high = Self.hexValue(bytes[index + 1]),
                let low = Self.hexValue(bytes[index + 2])
            {
                output.append(high << 4 | low)
                index += 3
                continue
            }
            var after = index + 1
            while after < range.upperBound, bytes[after] == 0x20 || bytes[after] == 0x09 { after += 1 }
            if after < range.upperBound, bytes[after] == 0x0D { after += 1 }
            if after >= range.upperBound || bytes[after] == 0x0A {
                index = after + 1
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
