/// The forms of a link that `uri` rules test, as SpamAssassin's `Util::uri_list_canonicalize`
/// makes them: the link as found plus every cleaned-up variant, so a rule written for the plain
/// form also catches the obfuscated one ([RFC 3986](https://www.rfc-editor.org/rfc/rfc3986)
/// syntax, read leniently):
///
///     http://%77%77%77.example.com/        + http://www.example.com/
///     www.example.com?id=3                 + http://www.example.com/?id=3
///     http:\\example.com\a                 + http://example.com/a
///     http://user@example.com.:80/         + http://example.com:80/, http://example.com./
///     http://0x7f.1.2.3/  http://2130706433/    + http://127.1.2.3/, http://127.0.0.1/
///     http://redir.example/?u=http://x.y   + http://x.y (and its variants)
///     http://foo/                          + http://www.foo.com/
///
/// SpamAssassin's configured `redirector_pattern`s are not applied; only its built-in rule that
/// an `http:` URL inside another one is a link of its own.
enum MIMEURICanonicalizer {
    /// The link and its variants, in the order they were made, without duplicates. Links from
    /// HTML are `Character`s to SpamAssassin and links from text UTF-8 bytes, which matters only
    /// to how a non-ASCII character is %-encoded (`%e9` or `%c3%a9` for "é").
    static func variants(of uri: String, maximumLength: Int, isFromHTML: Bool = false) -> [String] {
        var uris = [uri]
        var made: [String] = []
        var index = 0
        while index < uris.count, index < 64 {
            var current = uris[index]
            var redirects: [String] = []
            made.append(contentsOf: clean(&current, redirects: &redirects, isFromHTML: isFromHTML))
            uris[index] = current
            uris.append(contentsOf: redirects)
            index += 1
        }
        var seen = Set<String>()
        var result: [String] = []
        for var variant in uris + made {
            if variant.unicodeScalars.count > maximumLength {
                variant = String(String.UnicodeScalarView(variant.unicodeScalars.prefix(maximumLength)))
            }
            if seen.insert(variant).inserted { result.append(variant) }
        }
        return result
    }

    /// One round of `uri_list_canonicalize` on `uri` (trimmed in place): the variants it makes;
    /// links found inside it are appended to `redirects`.
    private static func clean(_ uri: inout String, redirects: inout [String], isFromHTML: Bool) -> [String] {
        var bytes = Array(uri.utf8).filter { $0 != 0x0A && $0 != 0x0D }
        while let first = bytes.first, MIMEContentType.isSpace(first) { bytes.removeFirst() }
        while let last = bytes.last, MIMEContentType.isSpace(last) { bytes.removeLast() }
        uri = String(decoding: bytes, as: UTF8.self)
        // Fragments, queries and paths of the page itself are no links.
        if bytes.count <= 1 { return [] }
        if [UInt8(ascii: "#"), UInt8(ascii: "?"), UInt8(ascii: "&")].contains(bytes[0]) { return [] }
        if bytes[0] == UInt8(ascii: "/"), bytes.count < 2 || bytes[1] != UInt8(ascii: "/") { return [] }
        var made: [String] = []
        // mailto:, or an "@" with no ":" before it: an address.
        let at = bytes.firstIndex(of: UInt8(ascii: "@"))
        if uri.lowercased().hasPrefix("mailto:") || at.map({ !bytes[..<$0].contains(UInt8(ascii: ":")) }) == true {
            return mailVariants(uri)
        }
        var text = bytes.map { $0 == UInt8(ascii: "\\") ? UInt8(ascii: "/") : $0 }
        // http:www.foo.biz -> http://www.foo.biz
        if let scheme = httpSchemeLength(text) {
            var slashes = 0
            while slashes < 2, scheme + slashes < text.count, text[scheme + slashes] == UInt8(ascii: "/") {
                slashes += 1
            }
            text.replaceSubrange(scheme..<(scheme + slashes), with: [UInt8(ascii: "/"), UInt8(ascii: "/")])
        }
        if containsPercentEscape(text[...]) {
            text = Array(urlEncode(String(decoding: text, as: UTF8.self), byCharacter: isFromHTML).utf8)
        }
        if !hasSchemePrefix(text) {
            text.insert(contentsOf: (text.starts(with: "ftp.".utf8) ? "ftp://" : "http://").utf8, at: 0)
        }
        // http://www.foo.biz?id=3 -> http://www.foo.biz/?id=3
        if let scheme = httpSchemeLength(text), text[scheme...].starts(with: "//".utf8) {
            let authority = scheme + 2
            let end = text[authority...].firstIndex {
                $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#")
            }
            if let end, end > authority, text[end] != UInt8(ascii: "/") { text.insert(UInt8(ascii: "/"), at: end) }
        }
        var cleaned = String(decoding: text, as: UTF8.self)
        if text.contains(UInt8(ascii: "&")) { cleaned = decodeCharacterReferences(cleaned) }
        if cleaned != uri { made.append(cleaned) }

        // ^(https?://)([^@/?#]*@)?([^/?#:]+)((?::(\d*))?.*)$
        text = Array(cleaned.utf8)
        guard let schemeLength = httpSchemeLength(text), text[schemeLength...].starts(with: "//".utf8) else {
            return made
        }
        let scheme = String(decoding: text[..<(schemeLength + 2)], as: UTF8.self)
        let afterScheme = schemeLength + 2
        let isHostDelimiter = { (byte: UInt8) in
            byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")
                || byte == UInt8(ascii: ":")
        }
        var hostStart = afterScheme
        if let stop = text[afterScheme...].firstIndex(where: { [0x40, 0x2F, 0x3F, 0x23].contains($0) }),
            text[stop] == 0x40,
            stop + 1 < text.count, !isHostDelimiter(text[stop + 1])
        {
            hostStart = stop + 1
        }
        let hostEnd = text[hostStart...].firstIndex(where: isHostDelimiter) ?? text.count
        guard hostEnd > hostStart else { return made }
        let userInfo = String(decoding: text[afterScheme..<hostStart], as: UTF8.self)
        var host = String(decoding: text[hostStart..<hostEnd], as: UTF8.self)
        let rest = String(decoding: text[hostEnd...], as: UTF8.self)
        var port = ""
        var hasPort = false
        if hostEnd < text.count, text[hostEnd] == UInt8(ascii: ":") {
            hasPort = true
            port = String(decoding: text[(hostEnd + 1)...].prefix { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self)
        }
        var restWithoutPort: String?
        if !hasPort || port.isEmpty {
            port = scheme == "http://" ? "80" : "443"
        } else {
            var trimmed = rest
            let defaultPort = scheme == "http://" ? ":80" : ":443"
            if trimmed.hasPrefix(defaultPort),
                !MIMEContentType.isWordByte(trimmed.utf8.dropFirst(defaultPort.utf8.count).first)
            {
                trimmed.removeFirst(defaultPort.count)
                made.append(scheme + host + trimmed)
            }
            restWithoutPort = trimmed
        }
        let asciiHost = MIMEPunycode.hostToASCII(host)
        if asciiHost != host.lowercased() {
            made.append(scheme + asciiHost + rest)
            if let restWithoutPort, !restWithoutPort.isEmpty, restWithoutPort != "0" {
                made.append(scheme + asciiHost + restWithoutPort)
            }
            host = asciiHost
        }
        if host.utf8.contains(where: { $0 <= 0x20 }) {
            host = String(decoding: host.utf8.filter { $0 > 0x20 }, as: UTF8.self)
            made.append(scheme + host + rest)
        }
        // Bug 3308: a URL inside this one (redirectors need only one slash).
        if let inner = embeddedHTTP(Array(rest.utf8)), inner.contains(UInt8(ascii: ".")) {
            redirects.append(String(decoding: inner, as: UTF8.self))
        }
        if let at = host.firstIndex(of: "@"), at > host.startIndex {
            host = String(host[host.index(after: at)...])
            made.append(scheme + host + rest)
        }
        var hostBytes = Array(host.utf8)
        if let last = hostBytes.last, !isAlphanumeric(last) {
            while let last = hostBytes.last, !isAlphanumeric(last) { hostBytes.removeLast() }
            host = String(decoding: hostBytes, as: UTF8.self)
            made.append(scheme + host + rest)
        }
        if let dotted = MIMEURIHost.dottedQuad(numeric: host) {
            made.append(scheme + dotted + rest)
        } else if scheme == "http://", userInfo.isEmpty, asciiHost != "localhost", port == "80",
            !MIMEURIHost.hasKnownTopLevelDomain(asciiHost)
        {
            // Bug 6596: browsers complete http://foobar to http://www.foobar.com (but bug 7891:
            // not www.xyz, itself a valid name).
            let label = asciiHost.hasPrefix("www.") ? asciiHost.dropFirst(4) : Substring(asciiHost)
            if !label.isEmpty, !label.contains(".") { made.append(scheme + "www." + label + ".com" + rest) }
        }
        return made
    }

    // MARK: Byte patterns

    /// The length of a leading `https?:` (any case).
    private static func httpSchemeLength(_ text: [UInt8]) -> Int? {
        guard text.count >= 5, MIMEContentType.equalsIgnoringCase(text[0..<4], Array("http".utf8)) else { return nil }
        if text[4] == UInt8(ascii: ":") { return 5 }
        if text[4] | 0x20 == UInt8(ascii: "s"), text.count > 5, text[5] == UInt8(ascii: ":") { return 6 }
        return nil
    }

    /// `^[-_a-z0-9]+:` (any case).
    private static func hasSchemePrefix(_ text: [UInt8]) -> Bool {
        let name = text.prefix { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        return !name.isEmpty && name.count < text.count && text[name.count] == UInt8(ascii: ":")
    }

    /// `%[0-9a-fA-F]{2}` anywhere.
    static func containsPercentEscape(_ text: ArraySlice<UInt8>) -> Bool {
        var index = text.startIndex
        while let percent = text[index...].firstIndex(of: UInt8(ascii: "%")) {
            if percent + 2 < text.endIndex, MIMETransferEncoding.hexValue(text[percent + 1]) != nil,
                MIMETransferEncoding.hexValue(text[percent + 2]) != nil
            {
                return true
            }
            index = percent + 1
        }
        return false
    }

    /// The first `https?:/{0,2}[^&#]+` in `text` (any case): `https?:` and what follows up to
    /// the next `&` or `#`.
    private static func embeddedHTTP(_ text: [UInt8]) -> ArraySlice<UInt8>? {
        var index = 0
        while index + 5 <= text.count {
            if text[index] | 0x20 == UInt8(ascii: "h"),
                let length = httpSchemeLength(Array(text[index..<min(text.count, index + 6)]))
            {
                let start = index + length
                let end = text[start...].firstIndex { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "#") } ?? text.count
                if end > start { return text[index..<end] }
            }
            index += 1
        }
        return nil
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
    }

    /// `mailto:` links and bare addresses: without `?subject=`, obfuscation and `%20` padding.
    private static func mailVariants(_ uri: String) -> [String] {
        let text = Array(uri.utf8)
        var made: [String] = []
        let string = { (range: Range<Int>) in String(decoding: text[range], as: UTF8.self) }
        if let at = text.firstIndex(of: UInt8(ascii: "@")), at > 0 {
            // ^([^@]+@[^?]+)\?   and   ^([^@]+@[^?&]+)&
            if let question = text[(at + 1)...].firstIndex(of: UInt8(ascii: "?")), question > at + 1 {
                made.append(string(0..<question))
            }
            if let stop = text[(at + 1)...].firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "&") }),
                text[stop] == UInt8(ascii: "&"), stop > at + 1
            {
                made.append(string(0..<stop))
            }
        }
        // ^(?:mailto:)?(?:%20)*([^@]+@[^?&%]+)
        if uri.contains("%20") {
            prefixes: for prefix in (text.starts(with: "mailto:".utf8) ? [7, 0] : [0]) {
                var padding = 0
                while text[(prefix + 3 * padding)...].starts(with: "%20".utf8) { padding += 1 }
                for count in stride(from: padding, through: 0, by: -1) {
                    let start = prefix + 3 * count
                    guard let at = text[start...].firstIndex(of: UInt8(ascii: "@")), at > start else { continue }
                    let end =
                        text[(at + 1)...].firstIndex {
                            $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "%")
                        } ?? text.count
                    guard end > at + 1 else { continue }
                    made.append("mailto:" + string(start..<end))
                    break prefixes
                }
            }
        }
        // ^[^?&]*<([^@>]+@[^>]+)>
        let limit = text.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "&") } ?? text.count
        for open in text[..<limit].indices.reversed() where text[open] == UInt8(ascii: "<") {
            let start = open + 1
            guard let at = text[start...].firstIndex(where: { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: ">") }),
                text[at] == UInt8(ascii: "@"), at > start,
                let close = text[(at + 1)...].firstIndex(of: UInt8(ascii: ">")), close > at + 1
            else { continue }
            made.append("mailto:" + string(start..<close))
            break
        }
        return made
    }

    /// `&#NN;` and `&#xNN;` of printable ASCII, and the Unicode full stops, written as
    /// characters, in SpamAssassin's three passes.
    private static func decodeCharacterReferences(_ text: String) -> String {
        var bytes = Array(text.utf8)
        guard bytes.indices.dropLast().contains(where: { bytes[$0] == 0x26 && bytes[$0 + 1] == 0x23 }) else {
            return text
        }
        // &#0*(3[3-9]|[4-9]\d|1[01]\d|12[0-6]);
        bytes = replacingReferences(bytes, hex: false) { digits in
            guard (2...3).contains(digits.count), let value = Int(String(decoding: digits, as: UTF8.self)),
                (33...126).contains(value)
            else { return nil }
            return [UInt8(value)]
        }
        // &#x0*(2[1-9]|[3-6][a-fA-F0-9]|7[0-9a-eA-E]);
        bytes = replacingReferences(bytes, hex: true) { digits in
            guard digits.count == 2, let value = UInt8(String(decoding: digits, as: UTF8.self), radix: 16),
                (0x21...0x29).contains(value) || (0x30...0x7E).contains(value)
            else { return nil }
            return [value]
        }
        // &#(?:x2e|12290|x3002|65294|xff0e|65377|xff61);  (any case)
        let dots = ["x2e", "12290", "x3002", "65294", "xff0e", "65377", "xff61"].map { Array(("&#" + $0 + ";").utf8) }
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x26,
                let dot = dots.first(where: { dot in
                    index + dot.count <= bytes.count
                        && bytes[index..<(index + dot.count)].map(MIMEContentType.asciiLowercase).elementsEqual(dot)
                })
            {
                output.append(UInt8(ascii: "."))
                index += dot.count
                continue
            }
            output.append(bytes[index])
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// One pass of `s/&#x?0*(digits);/.../g`; `replacement` gets the digits after the zeros.
    private static func replacingReferences(_ bytes: [UInt8], hex: Bool, replacement: ([UInt8]) -> [UInt8]?) -> [UInt8]
    {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        let prefix: [UInt8] = hex ? Array("&#x".utf8) : Array("&#".utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x26, bytes[index...].starts(with: prefix) {
                var digitsStart = index + prefix.count
                while digitsStart < bytes.count, bytes[digitsStart] == UInt8(ascii: "0") { digitsStart += 1 }
                var end = digitsStart
                while end < bytes.count,
                    hex ? MIMETransferEncoding.hexValue(bytes[end]) != nil : (0x30...0x39).contains(bytes[end])
                {
                    end += 1
                }
                if end < bytes.count, bytes[end] == UInt8(ascii: ";"),
                    let value = replacement(Array(bytes[digitsStart..<end]))
                {
                    output.append(contentsOf: value)
                    index = end + 1
                    continue
                }
            }
            output.append(bytes[index])
            index += 1
        }
        return output
    }

    /// `Util::url_encode`: `%XX` of printable ASCII other than space and DEL is decoded (the
    /// ones for control and 8-bit bytes stay), and bare control and 8-bit bytes, `"`, `%`, `<`,
    /// `>` are encoded. `byCharacter` reads the text as characters, as Perl does a decoded
    /// string: U+0080–U+00FF are encoded as one byte and characters beyond are left alone.
    static func urlEncode(_ text: String, byCharacter: Bool = false) -> String {
        var units: [UInt32] = byCharacter ? text.unicodeScalars.map(\.value) : text.utf8.map(UInt32.init)
        var output: [UInt32] = []
        output.reserveCapacity(units.count)
        var index = 0
        while index < units.count {
            let unit = units[index]
            if unit == 0x25, index + 2 < units.count, units[index + 1] < 0x80, units[index + 2] < 0x80,
                let high = MIMETransferEncoding.hexValue(UInt8(units[index + 1])),
                let low = MIMETransferEncoding.hexValue(UInt8(units[index + 2]))
            {
                let value = high << 4 | low
                if value == 0x20 || value == 0x7F || !(2...7).contains(high) {
                    output.append(contentsOf: units[index..<(index + 3)])
                } else {
                    output.append(UInt32(value))
                }
                index += 3
                continue
            }
            if unit <= 0x20 || (0x7F...0xFF).contains(unit) || unit == 0x22 || unit == 0x25 || unit == 0x3C
                || unit == 0x3E
            {
                let hex = String(unit, radix: 16)
                output.append(contentsOf: ("%" + (hex.count < 2 ? "0" + hex : hex)).unicodeScalars.map(\.value))
            } else {
                output.append(unit)
            }
            index += 1
        }
        units = output
        if byCharacter {
            return String(String.UnicodeScalarView(units.compactMap(Unicode.Scalar.init)))
        }
        return String(decoding: units.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self)
    }
}
