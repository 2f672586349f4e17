/// Reads the domain of a mailbox or source route,
/// [RFC 5321 section 4.1.2](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.2) with the
/// U-labels of [RFC 6531 section 3.3](https://www.rfc-editor.org/rfc/rfc6531#section-3.3):
///
///     Domain         = sub-domain *("." sub-domain)
///     sub-domain     = Let-dig [Ldh-str]
///     sub-domain     =/ U-label
///     Let-dig        = ALPHA / DIGIT
///     Ldh-str        = *( ALPHA / DIGIT / "-" ) Let-dig
///     address-literal  = "[" ( IPv4-address-literal /
///                        IPv6-address-literal /
///                        General-address-literal ) "]"
///
/// A U-label is taken as a label whose non-ASCII bytes count as letters; the whole domain must
/// be valid UTF-8. A trailing dot is a syntax error.
enum DomainParser {
    /// Reads a Domain; returns its text, nil on a syntax error.
    static func parseDomain(_ cursor: inout ByteCursor) -> String? {
        let start = cursor.index
        repeat {
            guard parseSubDomain(&cursor) else { return nil }
        } while cursor.consume(UInt8(ascii: "."))
        return ASCII.string(cursor.bytes[start..<cursor.index])
    }

    /// Reads "[...]"; returns it with its brackets, nil on a syntax error.
    static func parseAddressLiteral(_ cursor: inout ByteCursor) -> String? {
        let start = cursor.index
        guard cursor.consume(UInt8(ascii: "[")) else { return nil }
        let content = cursor.consume { byte in
            (33...126).contains(byte) && byte != UInt8(ascii: "[") && byte != UInt8(ascii: "]")
                && byte != UInt8(ascii: "\\")
        }
        guard cursor.consume(UInt8(ascii: "]")), AddressLiteral.isValid(cursor.bytes[content])
        else { return nil }
        return ASCII.string(cursor.bytes[start..<cursor.index])
    }

    /// Reads "Domain / address-literal", as after the "@" of a mailbox.
    static func parseDomainOrAddressLiteral(_ cursor: inout ByteCursor) -> String? {
        cursor.peek == UInt8(ascii: "[") ? parseAddressLiteral(&cursor) : parseDomain(&cursor)
    }

    private static func parseSubDomain(_ cursor: inout ByteCursor) -> Bool {
        guard let first = cursor.peek, ASCII.isLetDig(first) || ASCII.isNonASCII(first) else {
            return false
        }
        let label = cursor.consume { byte in
            ASCII.isLetDig(byte) || ASCII.isNonASCII(byte) || byte == UInt8(ascii: "-")
        }
        return cursor.bytes[label.upperBound - 1] != UInt8(ascii: "-")
    }
}
