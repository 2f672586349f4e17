/// Byte classes of the RFC 5321 / RFC 5322 grammars. Bytes >= 0x80 are never ASCII here;
/// callers that accept UTF-8 (RFC 6531) test for them separately and validate the whole token.
enum ASCII {
    static let space = UInt8(ascii: " ")

    /// Control bytes may not appear anywhere in a command line.
    static func isControl(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7F
    }

    static func isAlpha(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// RFC 5321 4.1.2: Let-dig = ALPHA / DIGIT
    static func isLetDig(_ byte: UInt8) -> Bool {
        isAlpha(byte) || isDigit(byte)
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    static func isNonASCII(_ byte: UInt8) -> Bool {
        byte >= 0x80
    }

    /// RFC 5322 3.2.3:
    ///   atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "/" /
    ///           "=" / "?" / "^" / "_" / "`" / "{" / "|" / "}" / "~"
    static func isAtext(_ byte: UInt8) -> Bool {
        if isLetDig(byte) { return true }
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"),
            UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "="), UInt8(ascii: "?"),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "{"),
            UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    static func uppercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) ? byte - 0x20 : byte
    }

    /// Case-insensitive ASCII comparison of `bytes` with `word`.
    static func equalsIgnoringCase(_ bytes: some Collection<UInt8>, _ word: String) -> Bool {
        bytes.count == word.utf8.count
            && zip(bytes, word.utf8).allSatisfy { uppercased($0) == uppercased($1) }
    }

    /// The bytes as a `String`, or nil when they are not valid UTF-8 (RFC 3629).
    static func string(_ bytes: some Collection<UInt8>) -> String? {
        String(validating: bytes, as: UTF8.self)
    }
}
