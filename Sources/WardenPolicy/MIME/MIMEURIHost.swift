/// Whether a link names a host that could exist, and hosts written as numbers, as SpamAssassin's
/// `RegistryBoundaries` and `Util` judge them
/// ([RFC 1123 §2.1](https://www.rfc-editor.org/rfc/rfc1123#section-2.1) names, under a top-level
/// domain of `MIMETopLevelDomains`).
///
///     hasValidHost("http://www.example.com:80/x")  -> true
///     hasValidHost("http://intranet/")             -> false
///     dottedQuad(numeric: "0x7f.1.2.3")            -> "127.1.2.3"
///     dottedQuad(numeric: "2130706433")            -> "127.0.0.1"
///     dottedQuad(numeric: "0x7f.0.0.1")            -> "127...1" (SpamAssassin drops a zero octet)
enum MIMEURIHost {
    /// `RegistryBoundaries::uri_to_domain`: whether the link names a host that could exist (a
    /// valid name under a known top-level domain, or an IP address). Text links without one are
    /// not links.
    static func hasValidHost(_ uri: String) -> Bool {
        var text = Array(uri.lowercased().utf8)
        for scheme in ["javascript:", "cid:", "file:"] where text.starts(with: scheme.utf8) { return false }
        if text.starts(with: "mailto:".utf8) {
            text.removeFirst(7)
            if let query = text.firstIndex(of: UInt8(ascii: "?")) { text.removeSubrange(query...) }
            guard let at = text.lastIndex(of: UInt8(ascii: "@")), text.firstIndex(of: UInt8(ascii: "@")) == at else {
                return false
            }
            text.removeSubrange(...at)
        } else {
            // ^[a-z]+:/{0,2}
            let letters = text.prefix { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }.count
            if letters > 0, letters < text.count, text[letters] == UInt8(ascii: ":") {
                var end = letters + 1
                while end < text.count, end < letters + 3, text[end] == UInt8(ascii: "/") { end += 1 }
                text.removeSubrange(..<end)
            }
            if let cut = text.firstIndex(where: {
                $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#")
            }) {
                text.removeSubrange(cut...)
            }
            if let at = text.lastIndex(of: UInt8(ascii: "@")) { text.removeSubrange(...at) }
            // :\d*$
            let digits = text.reversed().prefix { $0 >= 0x30 && $0 <= 0x39 }.count
            if text.count > digits, text[text.count - digits - 1] == UInt8(ascii: ":") { text.removeLast(digits + 1) }
        }
        // %-escapes of printable characters: %21-%7E
        var index = 0
        while let percent = text[index...].firstIndex(of: UInt8(ascii: "%")), percent + 2 < text.count {
            if let high = MIMETransferEncoding.hexValue(text[percent + 1]),
                let low = MIMETransferEncoding.hexValue(text[percent + 2]),
                (0x21...0x7E).contains(high << 4 | low)
            {
                return false
            }
            index = percent + 1
        }
        let host = MIMEPunycode.hostToASCII(String(decoding: text, as: UTF8.self))
        if isIPAddress(host) { return true }
        return isValidHostName(host) && hasKnownTopLevelDomain(host)
    }

    /// `Util::is_fqdn_valid`: at least two labels of letters, digits, `_` and inner `-`, up to
    /// 63 characters each and 253 in all; no `_` in the last two.
    static func isValidHostName(_ name: String) -> Bool {
        var host = Array(name.lowercased().utf8)
        while host.last == UInt8(ascii: ".") { host.removeLast() }
        guard host.count <= 253 else { return false }
        let labels = host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count > 1 else { return false }
        for (index, label) in labels.enumerated() {
            guard (1...63).contains(label.count) else { return false }
            let isLabelByte = { (byte: UInt8) in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "_")
            }
            guard isLabelByte(label.first!), isLabelByte(label.last!),
                label.allSatisfy({ isLabelByte($0) || $0 == UInt8(ascii: "-") })
            else { return false }
            if index >= labels.count - 2, label.contains(UInt8(ascii: "_")) { return false }
        }
        return true
    }

    /// `RegistryBoundaries::is_domain_valid`: the last label is a known top-level domain.
    static func hasKnownTopLevelDomain(_ name: String) -> Bool {
        let host = MIMEPunycode.hostToASCII(name)
        guard !host.utf8.contains(where: MIMEContentType.isSpace), let dot = host.lastIndex(of: ".") else {
            return false
        }
        let tld = host[host.index(after: dot)...]
        return !tld.isEmpty && MIMETopLevelDomains.contains(tld)
    }

    /// SpamAssassin's `IS_IP_ADDRESS`: a dotted quad without leading zeros, or an IPv6 address
    /// (`IPv6:` allowed before it).
    static func isIPAddress(_ host: String) -> Bool {
        if host.contains(":") { return IPAddress(host) != nil }
        let isOctet = { (octet: Substring) in
            (1...3).contains(octet.count) && octet.utf8.allSatisfy { (0x30...0x39).contains($0) }
                && (octet.count == 1 || octet.first != "0") && (Int(octet) ?? 256) <= 255
        }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy(isOctet)
    }

    // MARK: Numeric hosts

    /// Hosts written as numbers (`0x7f.1.2.3`, `0x7f000001`, `2130706433`) as dotted quads, as
    /// `uri_list_canonicalize` writes them (a leading zero is octal in an octet, not in a whole
    /// number).
    static func dottedQuad(numeric host: String) -> String? {
        let lowered = Array(host.lowercased().utf8)
        let isHexNumber = { (part: ArraySlice<UInt8>) in
            part.count > 2 && part.starts(with: "0x".utf8)
                && part.dropFirst(2).allSatisfy { MIMETransferEncoding.hexValue($0) != nil }
        }
        let isDecimal = { (part: ArraySlice<UInt8>) in !part.isEmpty && part.allSatisfy { (0x30...0x39).contains($0) } }
        let parts = lowered.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ isHexNumber($0) || isDecimal($0) }) {
            // Each octet with the dot after it.
            var pieces: [String] = []
            var start = host.utf8.startIndex
            for (index, part) in parts.enumerated() {
                let end = host.utf8.index(start, offsetBy: part.count + (index < 3 ? 1 : 0))
                pieces.append(String(host[start..<end]))
                start = end
            }
            return pieces.map(octet).joined()
        }
        if isHexNumber(lowered[...]) {
            return dottedQuad(UInt64(String(decoding: lowered.dropFirst(2).suffix(8), as: UTF8.self), radix: 16) ?? 0)
        }
        if isDecimal(lowered[...]) { return dottedQuad(UInt64(host) ?? UInt64.max) }
        return nil
    }

    /// One octet (with its dot) as SpamAssassin rewrites it: hex to decimal, short octal to
    /// decimal, leading zeros dropped.
    private static func octet(_ piece: String) -> String {
        var piece = piece
        let lowered = piece.lowercased()
        if lowered.hasPrefix("0x") {
            let digits = lowered.dropFirst(2).prefix { $0.isHexDigit && $0.isASCII }
            if !digits.isEmpty {
                let value = UInt64(digits.suffix(16), radix: 16) ?? UInt64.max
                piece = String(value) + lowered.dropFirst(2 + digits.count)
            }
        }
        // s/^0+([1-3][0-7]{0,2}|[4-7][0-7]?)\b/oct($1)/: the octal digits must end the octet.
        let zeros = piece.prefix { $0 == "0" }
        let digits = piece.dropFirst(zeros.count).prefix { ("0"..."9").contains($0) }
        if !zeros.isEmpty, let first = digits.first, digits.allSatisfy({ $0 < "8" }),
            ("1"..."3").contains(first) ? digits.count <= 3 : (("4"..."7").contains(first) && digits.count <= 2),
            !MIMEContentType.isWordByte(piece.dropFirst(zeros.count + digits.count).utf8.first)
        {
            piece = String(UInt64(digits, radix: 8) ?? 0) + piece.dropFirst(zeros.count + digits.count)
        }
        return String(piece.drop { $0 == "0" })
    }

    /// Perl's `unpack("CCCC", pack("H*", sprintf("%08lx", n)))`: the first four bytes of the hex.
    private static func dottedQuad(_ value: UInt64) -> String {
        var hex = String(value, radix: 16)
        if hex.count < 8 { hex = String(repeating: "0", count: 8 - hex.count) + hex }
        let digits = Array(hex.utf8.prefix(8))
        return stride(from: 0, to: 8, by: 2).map { index in
            String(UInt8(String(decoding: digits[index..<(index + 2)], as: UTF8.self), radix: 16) ?? 0)
        }.joined(separator: ".")
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
    }
}
