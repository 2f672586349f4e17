/// Validates the inside of an address literal (between "[" and "]"),
/// [RFC 5321 section 4.1.3](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.3):
///
///     IPv4-address-literal  = Snum 3("."  Snum)
///     IPv6-address-literal  = "IPv6:" IPv6-addr
///     General-address-literal  = Standardized-tag ":" 1*dcontent
///     Standardized-tag  = Ldh-str
///     dcontent       = %d33-90 / %d94-126
///     Snum           = 1*3DIGIT     ; a decimal integer 0 through 255
///     IPv6-addr      = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp
///     IPv6-hex       = 1*4HEXDIG
///     IPv6-full      = IPv6-hex 7(":" IPv6-hex)
///     IPv6-comp      = [IPv6-hex *5(":" IPv6-hex)] "::" [IPv6-hex *5(":" IPv6-hex)]
///                      ; no more than 6 groups in addition to the "::"
///     IPv6v4-full    = IPv6-hex 5(":" IPv6-hex) ":" IPv4-address-literal
///     IPv6v4-comp    = [IPv6-hex *3(":" IPv6-hex)] "::" [IPv6-hex *3(":" IPv6-hex ":")]
///                      IPv4-address-literal
///                      ; no more than 4 groups in addition to the "::" and the IPv4 address
///
/// The "IPv6" tag is matched in any case and always means IPv6-address-literal: "IPv6:junk" is
/// not accepted as a general address literal.
enum AddressLiteral {
    static func isValid(_ content: ArraySlice<UInt8>) -> Bool {
        guard let colon = content.firstIndex(of: UInt8(ascii: ":")) else {
            return isIPv4(content)
        }
        let tag = content[..<colon]
        let rest = content[(colon + 1)...]
        if ASCII.equalsIgnoringCase(tag, "IPv6") {
            return isIPv6(rest)
        }
        return isLdhString(tag) && !rest.isEmpty && rest.allSatisfy(isDcontent)
    }

    static func isIPv4(_ text: ArraySlice<UInt8>) -> Bool {
        let parts = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { snum in
                (1...3).contains(snum.count) && snum.allSatisfy(ASCII.isDigit)
                    && snum.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } <= 255
            }
    }

    static func isIPv6(_ text: ArraySlice<UInt8>) -> Bool {
        let bytes = Array(text)
        guard let compression = firstDoubleColon(bytes) else {
            // IPv6-full (8 groups) or IPv6v4-full (6 groups and IPv4).
            guard let (groups, hasIPv4) = groupCount(bytes[...], mayEndWithIPv4: true) else {
                return false
            }
            return groups == (hasIPv4 ? 6 : 8)
        }
        let left = bytes[..<compression]
        let right = bytes[(compression + 2)...]
        guard firstDoubleColon(Array(right)) == nil,
            let (leftGroups, _) = groupCount(left, mayEndWithIPv4: false),
            let (rightGroups, hasIPv4) = groupCount(right, mayEndWithIPv4: true)
        else { return false }
        return leftGroups + rightGroups <= (hasIPv4 ? 4 : 6)
    }

    /// RFC 5321 4.1.2: Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
    static func isLdhString(_ text: ArraySlice<UInt8>) -> Bool {
        guard let last = text.last, ASCII.isLetDig(last) else { return false }
        return text.allSatisfy { ASCII.isLetDig($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isDcontent(_ byte: UInt8) -> Bool {
        (33...90).contains(byte) || (94...126).contains(byte)
    }

    private static func firstDoubleColon(_ bytes: [UInt8]) -> Int? {
        zip(bytes.indices, bytes.indices.dropFirst()).first { first, second in
            bytes[first] == UInt8(ascii: ":") && bytes[second] == UInt8(ascii: ":")
        }?.0
    }

    /// Counts the hex groups of "h:h:...:h" (empty text: none); the last element may be an
    /// IPv4 address when allowed, which is not counted. Nil when an element is malformed.
    private static func groupCount(
        _ text: ArraySlice<UInt8>, mayEndWithIPv4: Bool
    ) -> (groups: Int, hasIPv4: Bool)? {
        guard !text.isEmpty else { return (0, false) }
        var elements = text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var hasIPv4 = false
        if let last = elements.last, last.contains(UInt8(ascii: ".")) {
            guard mayEndWithIPv4, isIPv4(last) else { return nil }
            hasIPv4 = true
            elements.removeLast()
        }
        let hexGroups = elements.allSatisfy { group in
            (1...4).contains(group.count) && group.allSatisfy(ASCII.isHexDigit)
        }
        return hexGroups ? (elements.count, hasIPv4) : nil
    }
}
