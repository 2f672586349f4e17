extension SMTPCommandParser {
    /// RFC 3030 2:
    ///
    ///     bdat-cmd   = "BDAT" SP chunk-size [ SP end-marker ] CR LF
    ///     chunk-size = 1*DIGIT
    ///     end-marker = "LAST"
    ///
    /// At most 18 digits, so the size fits an `Int` on every platform Warden runs on.
    static func parseBdat(_ argument: ArraySlice<UInt8>) throws(SMTPCommandError) -> SMTPCommand {
        let words = argument.split(separator: ASCII.space)
        guard (1...2).contains(words.count), (1...18).contains(words[0].count),
            words[0].allSatisfy(ASCII.isDigit),
            words.count == 1 || ASCII.equalsIgnoringCase(words[1], "LAST")
        else { throw .syntax("Syntax: BDAT size [LAST]") }
        let size = words[0].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return .bdat(size: size, last: words.count == 2)
    }

    /// RFC 4954 4 and RFC 4422 3.1:
    ///
    ///     auth-command     = "AUTH" SP sasl-mech [SP initial-response]
    ///     sasl-mech        = 1*20mech-char
    ///     mech-char        = UPPER-ALPHA / DIGIT / HYPHEN / UNDERSCORE
    ///     initial-response = base64 / "="
    ///     base64           = base64-terminal / ( 1*(4base64-char) [base64-terminal] )
    ///     base64-char      = ALPHA / DIGIT / "+" / "/"
    ///     base64-terminal  = (2base64-char "==") / (3base64-char "=")
    ///
    /// The mechanism is taken in any case and uppercased.
    static func parseAuth(_ argument: ArraySlice<UInt8>) throws(SMTPCommandError) -> SMTPCommand {
        let words = argument.split(separator: ASCII.space)
        guard (1...2).contains(words.count), (1...20).contains(words[0].count),
            words[0].allSatisfy(isMechanismChar),
            words.count == 1 || words[1].elementsEqual("=".utf8) || isBase64(words[1])
        else { throw .syntax("Syntax: AUTH mechanism [initial-response]") }
        let mechanism = String(decoding: words[0].map(ASCII.uppercased), as: UTF8.self)
        let initialResponse = words.count == 2 ? String(decoding: words[1], as: UTF8.self) : nil
        return .auth(mechanism: mechanism, initialResponse: initialResponse)
    }

    private static func isMechanismChar(_ byte: UInt8) -> Bool {
        ASCII.isLetDig(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    private static func isBase64(_ text: ArraySlice<UInt8>) -> Bool {
        guard !text.isEmpty, text.count % 4 == 0 else { return false }
        let data = text.prefix { $0 != UInt8(ascii: "=") }
        let padding = text[data.endIndex...]
        return padding.count <= 2 && padding.allSatisfy { $0 == UInt8(ascii: "=") }
            && data.allSatisfy { byte in
                ASCII.isLetDig(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
            }
    }
}
