/// Finds links in rendered body text as SpamAssassin's `_process_text_uri_list` does with its
/// Thunderbird-like pattern (`_tbirdurire`), which it applies to each body line as UTF-8 bytes.
/// At each place a word may start, in this order:
///
/// 1. a known scheme or prefix (`http://`, `https://`, `ftp://`, `www.`, `www1.`, `ftp.`) and
///    what follows up to a delimiter (whitespace, `<>"{}[]|` and backquote; at most 2,048 bytes):
///    `see www.example.com/x!` finds `www.example.com/x!`, trimmed to `www.example.com/x`;
/// 2. `mailto:...` or `local@domain` (local part up to 251 bytes of neither a delimiter nor
///    `,('@` nor 8-bit, domain likewise): `mail bob@example.com,` finds `bob@example.com`;
/// 3. after punctuation or whitespace, a host name under a known top-level domain with an
///    optional port and path, ending at a delimiter: `(example.com/a)` finds `example.com/a`.
///
/// Trailing punctuation and an unmatched `)` are dropped, schemeless hosts must be valid names,
/// and then a scheme is added: `http://` (or `ftp://`), or `mailto:` for addresses.
enum MIMETextURIScanner {
    /// The links in `line`, schemes added, skipping any already in `seen` (raw form).
    static func scan(_ line: [UInt8], seen: inout Set<[UInt8]>) -> [String] {
        mayHoldLink(line) ? scanEveryPosition(line, seen: &seen) : []
    }

    /// `scan` without the `mayHoldLink` shortcut.
    static func scanEveryPosition(_ line: [UInt8], seen: inout Set<[UInt8]>) -> [String] {
        var found: [String] = []
        let nextEnd = nextIndex(line, where: isEndDelimiter)
        let nextMailEnd = nextIndex(line, where: isMailEndDelimiter)
        let nextLocalEnd = nextIndex(line) { isMailEndDelimiter($0) || $0 == UInt8(ascii: "@") }
        var position = 0
        while position < line.count {
            guard canStart(line, at: position),
                let match = match(line, at: position, nextEnd, nextMailEnd, nextLocalEnd)
            else {
                position += 1
                continue
            }
            position = match.range.upperBound
            if let uri = accept(
                Array(line[match.range]), kind: match.kind, host: match.host.map { Array(line[$0]) }, seen: &seen)
            {
                found.append(uri)
            }
        }
        return found
    }

    enum Kind { case scheme, mail, schemeless }

    /// Whether `line` can hold a match at all: a scheme and `mailto:` need a `:`, an address an
    /// `@`, and `www.`, `ftp.` and a host under a top-level domain a `.` followed by a byte that is
    /// not an end delimiter. Most lines of prose have none of these and are not scanned further.
    static func mayHoldLink(_ line: [UInt8]) -> Bool {
        line.withUnsafeBufferPointer { bytes in
            var index = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: ":"), UInt8(ascii: "@"):
                    return true
                case UInt8(ascii: "."):
                    if index + 1 < bytes.count, !isEndDelimiter(bytes[index + 1]) { return true }
                default:
                    break
                }
                index += 1
            }
            return false
        }
    }

    // MARK: Matching

    private static func match(
        _ line: [UInt8], at p: Int, _ nextEnd: [Int], _ nextMailEnd: [Int], _ nextLocalEnd: [Int]
    ) -> (range: Range<Int>, kind: Kind, host: Range<Int>?)? {
        // 1. (?:(?:https?|ftp):\/\/|(?:www\d{0,2}|ftp)\.)[^E]{1,2048}
        if let prefix = schemePrefixLength(line, at: p) {
            let end = nextEnd[min(p + prefix, line.count)]
            if (1...2048).contains(end - (p + prefix)) { return (p..<end, .scheme, nil) }
        }
        // 2. mailto:[^EE]{1,2048} | [^EE@]{1,251}\@[^EE]{1,251}
        if line[p] | 0x20 == UInt8(ascii: "m"), hasPrefix(line, at: p, mailtoPrefix) {
            let end = nextMailEnd[min(p + 7, line.count)]
            if (1...2048).contains(end - (p + 7)) { return (p..<end, .mail, nil) }
        }
        let at = nextLocalEnd[p]
        if (1...251).contains(at - p), at < line.count, line[at] == UInt8(ascii: "@") {
            let end = nextMailEnd[at + 1]
            if (1...251).contains(end - (at + 1)) { return (p..<end, .mail, nil) }
        }
        // 3. (?:^|(?<=SC))[a-z\d][a-z\d._-]{0,251}\.TLD\.?(?::\d{1,5})?(?:\/[^E]{1,2048})?
        guard p == 0 || isSchemelessStart(line[p - 1]), isAlphanumeric(line[p]) else { return nil }
        var runEnd = p
        while runEnd < line.count, isHostByte(line[runEnd]) { runEnd += 1 }
        var dot = min(runEnd - 1, p + 252)
        while dot > p {
            defer { dot -= 1 }
            guard line[dot] == UInt8(ascii: ".") else { continue }
            var tldEnd = dot + 1
            while tldEnd < line.count, isAlphanumeric(line[tldEnd]) || line[tldEnd] == UInt8(ascii: "-") { tldEnd += 1 }
            guard tldEnd > dot + 1,
                MIMETopLevelDomains.contains(String(decoding: line[(dot + 1)..<tldEnd], as: UTF8.self)),
                !(tldEnd + 1 < line.count && line[tldEnd] == UInt8(ascii: ".") && isAlphanumeric(line[tldEnd + 1]))
            else { continue }
            if let end = suffixEnd(line, after: tldEnd, nextEnd) { return (p..<end, .schemeless, p..<tldEnd) }
        }
        return nil
    }

    /// `\.?(?::\d{1,5})?(?:\/[^E]{1,2048})?(?=E|\z)` after a top-level domain, with Perl's
    /// backtracking order; the end of the match or nil.
    private static func suffixEnd(_ line: [UInt8], after start: Int, _ nextEnd: [Int]) -> Int? {
        var afterDot = [start]
        if start < line.count, line[start] == UInt8(ascii: ".") { afterDot.insert(start + 1, at: 0) }
        for f in afterDot {
            var portEnds: [Int] = []
            if f < line.count, line[f] == UInt8(ascii: ":") {
                var digits = 0
                while f + 1 + digits < line.count, isDigit(line[f + 1 + digits]) { digits += 1 }
                for count in stride(from: min(digits, 5), through: 1, by: -1) { portEnds.append(f + 1 + count) }
            }
            portEnds.append(f)
            for g in portEnds {
                if g < line.count, line[g] == UInt8(ascii: "/") {
                    let end = nextEnd[g + 1]
                    if (1...2048).contains(end - (g + 1)) { return end }
                }
                if g == line.count || isEndDelimiter(line[g]) { return g }
            }
        }
        return nil
    }

    /// `(?:\b|(?<=\x1b\(.)|(?<=[startdelim]))`.
    private static func canStart(_ line: [UInt8], at p: Int) -> Bool {
        let before = p > 0 ? line[p - 1] : nil
        if MIMEContentType.isWordByte(before) != MIMEContentType.isWordByte(line[p]) { return true }
        if p >= 3, line[p - 3] == 0x1B, line[p - 2] == UInt8(ascii: "("), line[p - 1] != 0x0A { return true }
        // tbirdstartdelim: the end delimiters but "}]", and "',(".
        guard let before, before != UInt8(ascii: "}"), before != UInt8(ascii: "]") else { return false }
        return isEndDelimiter(before) || before == UInt8(ascii: "'") || before == UInt8(ascii: ",")
            || before == UInt8(ascii: "(")
    }

    private static let schemePrefixes: [[UInt8]] = ["http://", "https://", "ftp://", "ftp."].map { Array($0.utf8) }
    private static let mailtoPrefix = Array("mailto:".utf8)
    private static let wwwPrefix = Array("www".utf8)

    private static func schemePrefixLength(_ line: [UInt8], at p: Int) -> Int? {
        switch line[p] | 0x20 {
        case UInt8(ascii: "h"), UInt8(ascii: "f"):
            for prefix in schemePrefixes where hasPrefix(line, at: p, prefix) { return prefix.count }
            return nil
        case UInt8(ascii: "w"):
            break
        default:
            return nil
        }
        guard hasPrefix(line, at: p, wwwPrefix) else { return nil }
        var index = p + 3
        while index < line.count, index < p + 5, isDigit(line[index]) { index += 1 }
        return index < line.count && line[index] == UInt8(ascii: ".") ? index + 1 - p : nil
    }

    // MARK: Filtering

    /// The checks and fix-ups `_process_text_uri_list` applies to each raw match.
    private static func accept(_ raw: [UInt8], kind: Kind, host: [UInt8]?, seen: inout Set<[UInt8]>) -> String? {
        var raw = raw
        // An unmatched ")" ends a link, as in Thunderbird; then trailing punctuation goes.
        let firstOpen = raw.firstIndex(of: UInt8(ascii: "(")) ?? raw.count
        if let close = raw[..<firstOpen].lastIndex(of: UInt8(ascii: ")")) { raw.removeSubrange(close...) }
        while let last = raw.last, "-~!@#^&*()_+=:;'?,.".utf8.contains(last) { raw.removeLast() }
        guard seen.insert(raw).inserted else { return nil }
        if kind == .mail, !raw.contains(UInt8(ascii: "@")) { return nil }
        if let host, !MIMEURIHost.isValidHostName(String(decoding: host, as: UTF8.self)) { return nil }
        let lowered = raw.map(MIMEContentType.asciiLowercase)
        if lowered.starts(with: "cid:".utf8) || lowered.starts(with: "mid:".utf8) { return nil }
        // ^\w+:\/{0,2}$: a scheme and nothing else.
        let word = raw.prefix(while: MIMEContentType.isWordByte).count
        if word > 0, word < raw.count, raw[word] == UInt8(ascii: ":"), raw.count - word - 1 <= 2,
            raw[(word + 1)...].allSatisfy({ $0 == UInt8(ascii: "/") })
        {
            return nil
        }
        var uri = raw
        if !["http:", "https:", "ftp:", "mailto:"].contains(where: { lowered.starts(with: $0.utf8) }) {
            let firstSlash = raw.firstIndex(of: UInt8(ascii: "/"))
            let firstAt = raw.firstIndex(of: UInt8(ascii: "@"))
            if lowered.starts(with: "ftp.".utf8) {
                uri.insert(contentsOf: "ftp://".utf8, at: 0)
            } else if lowered.starts(with: "www".utf8),
                let dot = lowered.dropFirst(3).prefix(3).firstIndex(of: UInt8(ascii: ".")),
                lowered[3..<dot].allSatisfy(isDigit)
            {
                uri.insert(contentsOf: "http://".utf8, at: 0)
            } else if let firstSlash, let lastAt = raw.lastIndex(of: UInt8(ascii: "@")), lastAt > firstSlash + 1 {
                // A "/" before the "@": not an address.
                uri.insert(contentsOf: "http://".utf8, at: 0)
            } else if let firstAt {
                // Not linkified by mail readers without a dot after the "@": foo@bar%2Ecom.
                guard let lastDot = raw.lastIndex(of: UInt8(ascii: ".")), lastDot > firstAt + 1,
                    !containsSubsequence(raw, Array("&nbsp;".utf8))
                else { return nil }
                uri.removeFirst(misparsedPrefixLength(lowered))
                uri.insert(contentsOf: "mailto:".utf8, at: 0)
            } else {
                guard raw.contains(UInt8(ascii: ".")) else { return nil }
                uri.insert(contentsOf: "http://".utf8, at: 0)
            }
        }
        if uri.map(MIMEContentType.asciiLowercase).starts(with: "mailto:".utf8) {
            if MIMEURICanonicalizer.containsPercentEscape(uri[...]) {
                uri = Array(MIMEURICanonicalizer.urlEncode(String(decoding: uri, as: UTF8.self)).utf8)
            }
            guard let at = uri.firstIndex(of: UInt8(ascii: "@")) else { return nil }
            var host = uri[(at + 1)...].prefix {
                $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "&") && $0 != UInt8(ascii: ">")
            }
            while host.count >= 3, host.suffix(3).elementsEqual("%20".utf8) { host = host.dropLast(3) }
            guard MIMEURIHost.hasKnownTopLevelDomain(String(decoding: host, as: UTF8.self)) else { return nil }
        }
        return String(decoding: uri, as: UTF8.self)
    }

    /// `^(?:skype|e?-?mail)?:+`, a label glued to an address by mistake: its length.
    private static func misparsedPrefixLength(_ lowered: [UInt8]) -> Int {
        for prefix in ["skype", "e-mail", "email", "-mail", "mail", ""] where lowered.starts(with: prefix.utf8) {
            let colons = lowered.dropFirst(prefix.utf8.count).prefix { $0 == UInt8(ascii: ":") }.count
            if colons > 0 { return prefix.utf8.count + colons }
        }
        return 0
    }

    private static func containsSubsequence(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= bytes.count else { return false }
        return (0...(bytes.count - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    // MARK: Byte classes

    /// For each index, the first index at or after it whose byte is in the class (or the count).
    private static func nextIndex(_ line: [UInt8], where isMember: (UInt8) -> Bool) -> [Int] {
        var next = [Int](repeating: line.count, count: line.count + 1)
        var index = line.count - 1
        while index >= 0 {
            next[index] = isMember(line[index]) ? index : next[index + 1]
            index -= 1
        }
        return next
    }

    /// `tbirdenddelim`: `><"` backquote `}]{[|`, whitespace, ESC, 0xA0.
    static func isEndDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ">"), UInt8(ascii: "<"), UInt8(ascii: "\""), UInt8(ascii: "`"), UInt8(ascii: "}"),
            UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "|"), 0x1B, 0xA0:
            true
        default:
            MIMEContentType.isSpace(byte)
        }
    }

    /// `tbirdenddelimemail`: the end delimiters, `,('` and 8-bit bytes.
    private static func isMailEndDelimiter(_ byte: UInt8) -> Bool {
        isEndDelimiter(byte) || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "(") || byte == UInt8(ascii: "'")
            || byte >= 0x80
    }

    /// `scstartdelim`: ASCII punctuation but `%-._`, whitespace, ESC, 0xA0.
    private static func isSchemelessStart(_ byte: UInt8) -> Bool {
        if MIMEContentType.isSpace(byte) || byte == 0x1B || byte == 0xA0 { return true }
        return "!\"#$&'()*+,/:;<=>?@[\\]^`{|}~".utf8.contains(byte)
    }

    private static func isHostByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// `prefix` (lower case) at `p`, ASCII letters in any case.
    private static func hasPrefix(_ line: [UInt8], at p: Int, _ prefix: [UInt8]) -> Bool {
        guard p + prefix.count <= line.count else { return false }
        for offset in prefix.indices where MIMEContentType.asciiLowercase(line[p + offset]) != prefix[offset] {
            return false
        }
        return true
    }
}
