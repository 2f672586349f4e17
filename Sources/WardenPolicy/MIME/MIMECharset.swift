#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns text in a declared charset ([RFC 2046 §4.1.2](https://www.rfc-editor.org/rfc/rfc2046#section-4.1.2))
/// into a Swift string the way SpamAssassin's `Message::Node::_normalize` does, with iconv in place
/// of Perl's Encode:
///
/// 1. Plain ASCII declared as ASCII or an ASCII superset is taken as it is.
/// 2. Body text with 8-bit bytes that is valid UTF-8 is UTF-8, whatever was declared (mislabelled
///    UTF-8 is common). Encoded words skip this step: their charset is believed.
/// 3. Otherwise the declared charset decodes it: `iso-8859-1` and `cp1252` as windows-1252,
///    `utf-16` by its byte order, anything else through iconv. Body text must decode cleanly;
///    encoded words get U+FFFD for bad bytes.
/// 4. Failing that, windows-1252, with U+FFFD for its five unassigned bytes.
enum MIMECharset {
    enum Mode {
        /// Body text: UTF-8 first, the declared charset only if it decodes cleanly.
        case body
        /// Encoded words: the declared charset, bad bytes replaced.
        case insistOnDeclared
    }

    static func decode(_ bytes: [UInt8], declared: String, mode: Mode) -> (text: String, problem: MIMEProblem?) {
        let hasEightBit = bytes.contains { $0 >= 0x80 }
        if !hasEightBit, isASCIICompatible(declared) {
            return (String(decoding: bytes, as: UTF8.self), nil)
        }
        if hasEightBit, mode == .body, let text = String(validating: bytes, as: UTF8.self) {
            return (text, nil)
        }
        var problem: MIMEProblem?
        let lowered = declared.lowercased()
        if mode == .body, lowered == "us-ascii" || lowered == "ascii" {
            // Declared ASCII but 8-bit: straight to the fallback.
        } else if lowered.hasPrefix("utf-16") || lowered.hasPrefix("utf 16") || lowered.hasPrefix("utf16") {
            if let text = decodeUTF16(bytes) { return (text, nil) }
            problem = .badCharset
        } else if ["iso-8859-1", "iso8859-1", "windows-1252", "cp1252"].contains(lowered) {
            return (windows1252(bytes), nil)
        } else if lowered == "utf-8" || lowered == "utf8" {
            if mode == .insistOnDeclared { return (String(decoding: bytes, as: UTF8.self), nil) }
            problem = .badCharset
        } else {
            switch convert(bytes, from: iconvName(lowered), replacingInvalid: mode == .insistOnDeclared) {
            case .converted(let text): return (text, nil)
            case .unknownCharset: problem = .unknownCharset
            case .invalid: problem = .badCharset
            }
        }
        if !hasEightBit { return (String(decoding: bytes, as: UTF8.self), problem) }
        return (windows1252(bytes), problem)
    }

    /// Charsets whose 7-bit text is ASCII, so ASCII-only text needs no decoding.
    private static func isASCIICompatible(_ charset: String) -> Bool {
        let name = charset.lowercased()
        if [
            "us-ascii", "ascii", "ansi_x3.4-1986", "ansi_x3.4-1968", "ansi x3.4-1986", "ansi x3.4-1968",
            "ansix3.4-1986", "ansix3.4-1968", "iso646-us", "utf-8", "utf8", "big5", "gbk",
        ].contains(name) {
            return true
        }
        for prefix in ["iso-8859", "iso 8859", "iso8859"] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            if rest.isEmpty { return true }
            if rest.first == "-", (1...2).contains(rest.count - 1), rest.dropFirst().allSatisfy(\.isNumber) {
                return true
            }
        }
        if name.hasPrefix("windows-"), name.count == 12, name.dropFirst(8).allSatisfy(\.isNumber) { return true }
        for prefix in ["koi8-", "euc-"] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            if (1...2).contains(rest.count), rest.allSatisfy({ $0 >= "a" && $0 <= "z" }) { return true }
        }
        if name.hasPrefix("gb18030") || name.hasPrefix("gb 18030") || name.hasPrefix("gb-18030") { return true }
        return false
    }

    /// Encode's names that glibc spells differently.
    private static func iconvName(_ lowered: String) -> String {
        switch lowered {
        case "ks_c_5601-1987", "ks_c_5601", "ksc5601", "ksc_5601", "ks_c_5601-1989": "CP949"
        case "x-sjis", "shift-jis", "x-shift_jis", "ms_kanji", "csshiftjis": "SHIFT_JIS"
        case "x-euc-jp", "x-euc": "EUC-JP"
        case "gb_2312-80", "hz-gb-2312", "x-euc-cn", "euc-cn": "GB2312"
        case "x-mac-cyrillic", "maccyrillic": "MAC-CYRILLIC"
        case "macintosh", "macroman", "x-mac-roman": "MACINTOSH"
        default: lowered
        }
    }

    // MARK: Decoders

    /// Windows-1252 ([WHATWG](https://encoding.spec.whatwg.org/index-windows-1252.txt)); the five
    /// unassigned bytes become U+FFFD, as Encode's `cp1252` leaves them.
    static func windows1252(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(bytes.count)
        for byte in bytes {
            if byte >= 0x80, byte <= 0x9F {
                let value = windows1252High[Int(byte) - 0x80]
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            } else {
                scalars.append(Unicode.Scalar(byte))
            }
        }
        return String(scalars)
    }

    private static let windows1252High: [UInt32] = [
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD,
        0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, 0xFFFD, 0x017E, 0x0178,
    ]

    /// UTF-16 without a declared byte order: a byte order mark decides, else SpamAssassin's
    /// `detect_utf16` guess (spaces as `20 00` or `00 20`, and where the high bits sit).
    private static func decodeUTF16(_ bytes: [UInt8]) -> String? {
        if bytes.count >= 2, (bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF) {
            if case .converted(let text) = convert(bytes, from: "UTF-16", replacingInvalid: false) { return text }
            return nil
        }
        var littleClues = 0
        var bigClues = 0
        var evenSum = 0
        var oddSum = 0
        var index = 0
        while index < bytes.count {
            let even = bytes[index]
            let odd = index + 1 < bytes.count ? bytes[index + 1] : 0
            evenSum += Int(even >> 4) + Int(even & 15)
            oddSum += Int(odd >> 4) + Int(odd & 15)
            if even == 0x20 && odd == 0 { littleClues += 1 }
            if even == 0 && odd == 0x20 { bigClues += 1 }
            index += 2
        }
        if evenSum > oddSum * 4 { littleClues += 1 }
        if oddSum * 4 > evenSum { bigClues += 1 }
        guard littleClues != bigClues else { return nil }
        let name = littleClues > bigClues ? "UTF-16LE" : "UTF-16BE"
        if case .converted(let text) = convert(bytes, from: name, replacingInvalid: false) { return text }
        return nil
    }

    enum Conversion {
        case converted(String)
        case unknownCharset
        case invalid
    }

    /// Converts through iconv. Unless `replacingInvalid`, any invalid or incomplete sequence fails
    /// the whole text; otherwise each bad byte becomes U+FFFD.
    static func convert(_ bytes: [UInt8], from charset: String, replacingInvalid: Bool) -> Conversion {
        let descriptor = iconv_open("UTF-8", charset)
        guard let descriptor, Int(bitPattern: descriptor) != -1 else { return .unknownCharset }
        defer { iconv_close(descriptor) }
        // UTF-8 takes at most four bytes per input byte (three for U+FFFD), plus room for the
        // shift sequences a stateful encoding emits when flushed.
        var output = [UInt8](repeating: 0, count: bytes.count * 4 + 16)
        var input = bytes
        let produced: Int? = input.withUnsafeMutableBytes { inBuffer in
            output.withUnsafeMutableBytes { outBuffer in
                var inPointer = inBuffer.baseAddress?.assumingMemoryBound(to: CChar.self)
                var inLeft = inBuffer.count
                var outPointer = outBuffer.baseAddress?.assumingMemoryBound(to: CChar.self)
                var outLeft = outBuffer.count
                while inLeft > 0 {
                    if iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft) != -1 { break }
                    let failure = errno
                    guard failure == EILSEQ || failure == EINVAL, replacingInvalid, outLeft >= 3 else { return nil }
                    for byte: UInt8 in [0xEF, 0xBF, 0xBD] {
                        outPointer?.pointee = CChar(bitPattern: byte)
                        outPointer = outPointer?.successor()
                    }
                    outLeft -= 3
                    inPointer = inPointer?.successor()
                    inLeft -= 1
                    // Reset the shift state so a stateful encoding resynchronises.
                    _ = iconv(descriptor, nil, nil, nil, nil)
                }
                if iconv(descriptor, nil, nil, &outPointer, &outLeft) == -1, !replacingInvalid { return nil }
                return outBuffer.count - outLeft
            }
        }
        guard let produced else { return .invalid }
        return .converted(String(decoding: output[..<produced], as: UTF8.self))
    }
}
