/// The xtext encoding of DSN and XCLIENT values,
/// [RFC 3461 section 4](https://www.rfc-editor.org/rfc/rfc3461#section-4):
///
///     xtext   = *( xchar / hexchar )
///     xchar   = any ASCII CHAR between "!" (33) and "~" (126) inclusive,
///               except for "+" and "="
///     hexchar = ASCII "+" immediately followed by two upper case hexadecimal digits
///
///     C: RCPT TO:<b@example.org> ORCPT=rfc822;b+2Bdsn@example.org
///
/// `encode("a b+c")` is "a+20b+2Bc". Non-ASCII characters are encoded byte by byte of their UTF-8.
public enum XText {
    public static func encode(_ s: String) -> String {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(s.utf8.count)
        for byte in s.utf8 {
            if (33...126).contains(byte), byte != UInt8(ascii: "+"), byte != UInt8(ascii: "=") {
                encoded.append(byte)
            } else {
                encoded.append(UInt8(ascii: "+"))
                encoded.append(hexDigits[Int(byte >> 4)])
                encoded.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// Nil when `s` is not xtext (a raw space, "=", a "+" without two hex digits) or when the
    /// decoded bytes are not valid UTF-8. Lower-case hex digits are accepted, as Postfix does.
    public static func decode(_ s: String) -> String? {
        var decoded: [UInt8] = []
        var iterator = s.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                guard let high = iterator.next().flatMap(hexValue),
                    let low = iterator.next().flatMap(hexValue)
                else { return nil }
                decoded.append(high << 4 | low)
            } else if (33...126).contains(byte), byte != UInt8(ascii: "=") {
                decoded.append(byte)
            } else {
                return nil
            }
        }
        return ASCII.string(decoded)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
