/// A Perl regex literal as SpamAssassin rules write it, split into pattern and flags.
///
/// ```
/// literal    = [ "m" ] open pattern close flags    ; "m" is required unless open is "/"
/// open/close = "/" ... "/" | "(" ... ")" | "[" ... "]" | "{" ... "}" | "<" ... ">"
///            | any other ASCII punctuation except "\" and "_", used on both sides
/// flags      = *( "i" / "m" / "s" / "x" / "g" / "o" )   ; g and o mean nothing for a rule
/// ```
/// A backslash escapes the next character, so `\/` does not end `/a\/b/`; the escape stays in
/// the pattern (as in Perl, which hands `a\/b` to the regex engine). Bracketing delimiters nest:
/// `m{a{2}}` is the pattern `a{2}`.
public struct PerlRegexLiteral: Hashable, Sendable {
    public var pattern: String
    public var options: RegexOptions

    public init(parsing literal: String) throws(RegexError) {
        let bytes = Array(literal.utf8)
        func failure(_ offset: Int?, _ message: String) -> RegexError {
            RegexError(pattern: literal, offset: offset, message: message)
        }
        var start = 0
        var end = bytes.count
        while start < end, Self.isSpace(bytes[start]) { start += 1 }
        while end > start, Self.isSpace(bytes[end - 1]) { end -= 1 }
        guard start < end else { throw failure(nil, "empty regex literal") }

        var index = start
        if bytes[index] == UInt8(ascii: "m"), index + 1 < end, Self.isDelimiter(bytes[index + 1]) {
            index += 1
        } else if bytes[index] != UInt8(ascii: "/") {
            throw failure(start, "a regex literal starts with / or with m and a delimiter")
        }
        let open = bytes[index]
        let close = Self.closing(open)
        let openOffset = index
        index += 1
        let patternStart = index
        var depth = 0
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if byte == close {
                if depth == 0 { break }
                depth -= 1
            } else if byte == open, open != close {
                depth += 1
            }
            index += 1
        }
        guard index < end else {
            throw failure(openOffset, "unterminated regex literal: no closing \(Self.show(close))")
        }
        let patternBytes = bytes[patternStart..<index]
        guard !patternBytes.isEmpty else {
            // Perl would reuse the last successful pattern, which a rule cannot mean.
            throw failure(patternStart, "empty pattern")
        }

        var options: RegexOptions = []
        var unsupported: [String] = []
        var firstUnsupported: Int?
        for offset in (index + 1)..<end {
            switch bytes[offset] {
            case UInt8(ascii: "i"): options.insert(.caseless)
            case UInt8(ascii: "m"): options.insert(.multiline)
            case UInt8(ascii: "s"): options.insert(.dotAll)
            case UInt8(ascii: "x") where !options.contains(.extended): options.insert(.extended)
            case UInt8(ascii: "g"), UInt8(ascii: "o"): break
            default:
                // A second x is Perl's /xx, which PCRE2 would need another option for.
                let name = bytes[offset] == UInt8(ascii: "x") ? "xx" : Self.show(bytes[offset])
                if !unsupported.contains(name) { unsupported.append(name) }
                firstUnsupported = firstUnsupported ?? offset
            }
        }
        guard unsupported.isEmpty else {
            let names = unsupported.map { "'\($0)'" }.joined(separator: ", ")
            let noun = unsupported.count == 1 ? "flag" : "flags"
            throw failure(firstUnsupported, "unsupported regex \(noun) \(names) (supported: i m s x, ignored: g o)")
        }
        self.pattern = String(decoding: patternBytes, as: UTF8.self)
        self.options = options
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    static func isDelimiter(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) && !isAlphanumeric(byte) && byte != UInt8(ascii: "\\")
            && byte != UInt8(ascii: "_")
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    static func closing(_ open: UInt8) -> UInt8 {
        switch open {
        case UInt8(ascii: "("): UInt8(ascii: ")")
        case UInt8(ascii: "["): UInt8(ascii: "]")
        case UInt8(ascii: "{"): UInt8(ascii: "}")
        case UInt8(ascii: "<"): UInt8(ascii: ">")
        default: open
        }
    }

    static func show(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte)
            ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16, uppercase: true)
    }
}
