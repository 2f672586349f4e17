/// Host names to ASCII as SpamAssassin's `Util::idn_to_ascii` does with libidn2: ASCII is only
/// lowercased; a host with other characters has its alternative full stops (`。．｡`) made dots,
/// is lowercased, and each non-ASCII label becomes `xn--` Punycode
/// ([RFC 3492](https://www.rfc-editor.org/rfc/rfc3492)):
///
///     "Пример.РФ" -> "xn--e1afmkfd.xn--p1ai"     "münchen.de" -> "xn--mnchen-3ya.de"
///
/// A label that is not made of letters, marks, digits and hyphens (a symbol, a space, a joiner)
/// fails, as in IDNA2008, and the host is then returned with only its full stops changed.
/// Unlike libidn2 this does not apply Unicode normalisation (NFC) first.
enum MIMEPunycode {
    static func hostToASCII(_ host: String) -> String {
        if host.utf8.allSatisfy({ $0 < 0x80 }) { return host.lowercased() }
        let dotted = String(
            String.UnicodeScalarView(
                host.unicodeScalars.map { ["\u{3002}", "\u{FF0E}", "\u{FF61}"].contains($0) ? "." : $0 }))
        // UTS #46 maps invisible characters (soft hyphen, zero-width space, ...) to nothing: an
        // old trick to hide a domain from filters.
        let visible = String(String.UnicodeScalarView(dotted.unicodeScalars.filter { !isIgnored($0) }))
        if visible.utf8.allSatisfy({ $0 < 0x80 }) { return visible.lowercased() }
        var labels: [String] = []
        for label in visible.lowercased().split(separator: ".", omittingEmptySubsequences: false) {
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                // libidn2 checks the other labels too: hyphens, and the A-labels already there.
                if label.hasPrefix("-") || label.hasSuffix("-") { return visible }
                if label.hasPrefix("xn--") {
                    guard let decoded = decode(Array(label.utf8.dropFirst(4))),
                        isValidLabel(Substring(String(String.UnicodeScalarView(decoded))))
                    else { return visible }
                }
                labels.append(String(label))
                continue
            }
            guard isValidLabel(label), let encoded = encode(Array(label.unicodeScalars)) else { return dotted }
            labels.append("xn--" + encoded)
        }
        return labels.joined(separator: ".")
    }

    /// UTS #46 "ignored" code points.
    private static func isIgnored(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0xAD, 0x34F, 0x180B...0x180D, 0x180F, 0x200B, 0x2060, 0x2064, 0xFE00...0xFE0F, 0xFEFF, 0x1BCA0...0x1BCA3,
            0xE0100...0xE01EF:
            true
        default:
            false
        }
    }

    private static func isValidLabel(_ label: Substring) -> Bool {
        guard label.first != "-", label.last != "-" else { return false }
        return label.unicodeScalars.allSatisfy { scalar in
            if scalar.isASCII {
                return (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") || scalar == "-"
            }
            switch scalar.properties.generalCategory {
            case .lowercaseLetter, .otherLetter, .modifierLetter, .nonspacingMark, .spacingMark, .decimalNumber:
                return true
            default: return false
            }
        }
    }

    // MARK: RFC 3492 §6.3

    private static let base = 36
    private static let tMin = 1
    private static let tMax = 26

    static func encode(_ input: [Unicode.Scalar]) -> String? {
        var output: [UInt8] = input.filter(\.isASCII).map { UInt8($0.value) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append(UInt8(ascii: "-")) }
        var n = 128
        var delta = 0
        var bias = 72
        while handled < input.count {
            guard let next = input.map({ Int($0.value) }).filter({ $0 >= n }).min() else { return nil }
            let (product, overflow) = (next - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow, delta <= Int.max - product else { return nil }
            delta += product
            n = next
            for scalar in input {
                let value = Int(scalar.value)
                if value < n { delta += 1 }
                guard value == n else { continue }
                var q = delta
                var k = base
                while true {
                    let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                    if q < t { break }
                    output.append(digit(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digit(q))
                bias = adapt(delta, handled + 1, isFirst: handled == basicCount)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// RFC 3492 §6.2; nil when malformed.
    static func decode(_ input: [UInt8]) -> [Unicode.Scalar]? {
        var output: [Unicode.Scalar] = []
        var position = 0
        if let delimiter = input.lastIndex(of: UInt8(ascii: "-")) {
            for byte in input[..<delimiter] {
                guard byte < 0x80 else { return nil }
                output.append(Unicode.Scalar(byte))
            }
            position = delimiter + 1
        }
        var n = 128
        var i = 0
        var bias = 72
        while position < input.count {
            let oldI = i
            var weight = 1
            var k = base
            while true {
                guard position < input.count, let value = digitValue(input[position]) else { return nil }
                position += 1
                let (step, overflow) = value.multipliedReportingOverflow(by: weight)
                guard !overflow, i <= Int(Int32.max) - step else { return nil }
                i += step
                let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                if value < t { break }
                weight *= base - t
                guard weight < Int(Int32.max) else { return nil }
                k += base
            }
            bias = adapt(i - oldI, output.count + 1, isFirst: oldI == 0)
            n += i / (output.count + 1)
            i %= output.count + 1
            guard let scalar = Unicode.Scalar(UInt32(clamping: n)), n >= 0x80 else { return nil }
            output.insert(scalar, at: i)
            i += 1
        }
        return output
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): Int(byte - UInt8(ascii: "a"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): Int(byte - UInt8(ascii: "A"))
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0")) + 26
        default: nil
        }
    }

    private static func digit(_ value: Int) -> UInt8 {
        value < 26 ? UInt8(ascii: "a") + UInt8(value) : UInt8(ascii: "0") + UInt8(value - 26)
    }

    private static func adapt(_ delta: Int, _ count: Int, isFirst: Bool) -> Int {
        var delta = isFirst ? delta / 700 : delta / 2
        delta += delta / count
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + 38)
    }
}
