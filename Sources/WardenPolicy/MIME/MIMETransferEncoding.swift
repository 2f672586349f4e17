/// The `Content-Transfer-Encoding` decoders of
/// [RFC 2045 §6](https://www.rfc-editor.org/rfc/rfc2045#section-6), as lenient as SpamAssassin's
/// `Util::base64_decode` and `Util::qp_decode`: nothing is rejected, and `isMalformed` says
/// whether anything had to be forgiven.
enum MIMETransferEncoding {
    // MARK: Base64

    /// Base64 ([RFC 2045 §6.8](https://www.rfc-editor.org/rfc/rfc2045#section-6.8)):
    ///
    ///     base64-text := *(4base64-char) [2base64-char "==" / 3base64-char "="]
    ///
    /// Whitespace is skipped. A well-formed text decodes as usual, padding inside it read as
    /// `A`. Otherwise characters outside the alphabet are dropped, trailing `=` removed, an `=`
    /// left inside reads as `/` (SpamAssassin's uudecode trick), a lone last character is
    /// ignored and leftover bits are dropped.
    static func decodeBase64(_ input: some Collection<UInt8>) -> (bytes: [UInt8], isMalformed: Bool) {
        var text: [UInt8] = []
        text.reserveCapacity(input.count)
        var isClean = true
        for byte in input where !MIMEContentType.isSpace(byte) {
            if byte != UInt8(ascii: "=") && values[Int(byte)] > 63 { isClean = false }
            text.append(byte)
        }
        if isClean, text.count % 4 == 0, text.count >= 2 {
            // Perl's MIME::Base64 path: inner padding becomes 'A', decoding stops at the first '='.
            var end = text.count
            while end > 0, text[end - 1] == UInt8(ascii: "=") { end -= 1 }
            let innerPadding = text[..<end].contains(UInt8(ascii: "="))
            let decoded = decodeGroups(text[..<end]) { $0 == UInt8(ascii: "=") ? 0 : values[Int($0)] }
            return (decoded, innerPadding || text.count - end > 2)
        }
        var kept = text.filter { $0 == UInt8(ascii: "=") || values[Int($0)] < 64 }
        while kept.last == UInt8(ascii: "=") { kept.removeLast() }
        if kept.count % 4 == 1 { kept.removeLast() }
        let decoded = decodeGroups(kept[...]) { $0 == UInt8(ascii: "=") ? 63 : values[Int($0)] }
        return (decoded, true)
    }

    /// Packs 6-bit values into bytes; bits left over at the end are dropped.
    private static func decodeGroups(_ text: ArraySlice<UInt8>, value: (UInt8) -> UInt8) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text {
            accumulator = (accumulator << 6) | UInt32(value(byte))
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return output
    }

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()

    // MARK: Quoted-printable

    /// Quoted-printable ([RFC 2045 §6.7](https://www.rfc-editor.org/rfc/rfc2045#section-6.7)):
    ///
    ///     quoted-printable := qp-line *(CRLF qp-line)
    ///     qp-segment := qp-section *(SPACE / TAB) "="      ; soft line break
    ///     hex-octet := "=" 2(DIGIT / "A" / "B" / "C" / "D" / "E" / "F")
    ///
    /// In SpamAssassin's order: whitespace before a line break is deleted, then soft line breaks
    /// (`=` before CRLF or LF), then `=XX` (either case) becomes a byte; any other `=` stays.
    static func decodeQuotedPrintable(_ input: some Collection<UInt8>) -> (bytes: [UInt8], isMalformed: Bool) {
        let text = Array(input)
        // 1. Trailing whitespace on each line.
        var trimmed: [UInt8] = []
        trimmed.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == 0x20 || byte == 0x09 {
                var end = index
                while end < text.count, text[end] == 0x20 || text[end] == 0x09 { end += 1 }
                let atLineEnd =
                    end < text.count
                    && (text[end] == 0x0A || (text[end] == 0x0D && end + 1 < text.count && text[end + 1] == 0x0A))
                if !atLineEnd { trimmed.append(contentsOf: text[index..<end]) }
                index = end
                continue
            }
            trimmed.append(byte)
            index += 1
        }
        // 2. Soft line breaks; 3. escapes, one pass left to right each.
        var joined: [UInt8] = []
        joined.reserveCapacity(trimmed.count)
        index = 0
        while index < trimmed.count {
            if trimmed[index] == UInt8(ascii: "=") {
                if index + 1 < trimmed.count, trimmed[index + 1] == 0x0A {
                    index += 2
                    continue
                }
                if index + 2 < trimmed.count, trimmed[index + 1] == 0x0D, trimmed[index + 2] == 0x0A {
                    index += 3
                    continue
                }
            }
            joined.append(trimmed[index])
            index += 1
        }
        var output: [UInt8] = []
        output.reserveCapacity(joined.count)
        var isMalformed = false
        index = 0
        while index < joined.count {
            let byte = joined[index]
            if byte == UInt8(ascii: "=") {
                if index + 2 < joined.count, let high = hexValue(joined[index + 1]),
                    let low = hexValue(joined[index + 2])
                {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
                isMalformed = true
            }
            output.append(byte)
            index += 1
        }
        return (output, isMalformed)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// CRLF to LF, as SpamAssassin does to decoded text.
    static func unixLineEndings(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0x0D) else { return bytes }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A {
                index += 1
                continue
            }
            output.append(bytes[index])
            index += 1
        }
        return output
    }
}
