/// The addresses and display names in an address header (`From`, `To`, `Cc`, ...), as SpamAssassin
/// 4.0.1's `Util::parse_header_addresses` finds them for `From:addr` and `From:name` rules: its
/// own "very relaxed" regex parser, then `Email::Address::XS` 1.05 (Dovecot's RFC 5322 parser)
/// when that found nothing or fewer entries than commas + 1, kept only if it finds more. Both are
/// ported on bytes; the regexes as scanners that make Perl's backtracking choices.
///
/// One approximation: whether a host with non-ASCII characters is valid (`is_fqdn_valid` after
/// libidn2) is judged with `MIMEPunycode`, without UTS #46 compatibility mappings or the bidi
/// rule. That only decides whether a quoted `"user@host"` phrase is taken as the address.
///
///     "\"Doe, John\" <john@example.com>"  -> address "john@example.com", phrase "Doe, John "
///     "john@example.com (John Doe)"       -> address "john@example.com", phrase "John Doe"
///     "undisclosed-recipients:;"          -> nothing
enum HeaderAddresses {
    struct Entry: Equatable, Sendable {
        var address: String?
        var phrase: String?
    }

    /// `_parse_header_addresses` on one raw header value (as sent, folding kept).
    static func parse(_ raw: String) -> [Entry] {
        let bytes = Array(raw.utf8)
        guard bytes.contains(where: { !isSpace($0) }) else { return [] }
        var regexParser = RegexParser(bytes)
        var found = regexParser.entries()
        // `scalar($str =~ /\(/) >= 2` is a boolean, never 2: the "nested comment" case never applies.
        if found.count < bytes.count(where: { $0 == .comma }) + 1 {
            let xs = xsEntries(bytes)
            if xs.count > found.count { found = xs }
        }
        return found.map { Entry(address: $0.address.map(string), phrase: $0.phrase.map(string)) }
    }

    /// The values a `:addr` query yields for one raw header value.
    static func addresses(_ raw: String) -> [String] { parse(raw).compactMap(\.address) }

    /// The values a `:name` query yields (`decodeWords` applies RFC 2047 decoding, given by the caller;
    /// when nil, names are returned raw as for `:name:raw`).
    static func names(_ raw: String, decodeWords: ((String) -> String)?) -> [String] {
        parse(raw).compactMap { entry in
            guard let phrase = entry.phrase, let decodeWords else { return entry.phrase }
            let decoded = Array(decodeWords(phrase).utf8)
            guard decoded.contains(where: { !isSpace($0) }) else { return string(decoded) }
            var name: Bytes = []  // s/\s+/ /g, trimmed, s/^'(.*?)'$/$1/
            for byte in decoded where !isSpace(byte) || (name.last.map { $0 != .space } ?? false) {
                name.append(isSpace(byte) ? .space : byte)
            }
            if name.last == .space { name.removeLast() }
            let quoted = name.count >= 2 && name.first == .apostrophe && name.last == .apostrophe
            return string(quoted ? Array(name.dropFirst().dropLast()) : name)
        }
    }

    typealias Bytes = [UInt8]
    typealias Found = (address: Bytes?, phrase: Bytes?)

    static func string(_ bytes: Bytes) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Perl's `\s` on bytes.
    static func isSpace(_ byte: UInt8) -> Bool { byte == .space || (0x09...0x0D).contains(byte) }

    /// `s/\\\\//g`, or `s/\\\\/\\/g` when `keepingOne`.
    static func withoutBackslashPairs(_ bytes: Bytes, keepingOne: Bool = false) -> Bytes {
        var out: Bytes = []
        var index = 0
        while index < bytes.count {
            let pair = bytes[index] == .backslash && bytes.at(index + 1) == .backslash
            if !pair || keepingOne { out.append(bytes[index]) }
            index += pair ? 2 : 1
        }
        return out
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// `_valid_parsed_address`: not `""@...`, not a single `"`.
    static func isValidParsed(_ address: Bytes) -> Bool {
        !address.starts(with: [.quote, .quote, .atSign]) && address.count(where: { $0 == .quote }) != 1
    }

    /// `is_fqdn_valid(idn_to_ascii($host), 1)`: two or more labels of `[a-z0-9_-]`, no `_` in the
    /// last two, and Perl's `$` lets a label end in a newline. Hosts with other characters go
    /// to libidn2, which reads up to a NUL, refuses `--` as a label's third and fourth characters,
    /// and is otherwise approximated by `MIMEPunycode`; when it fails the host stays as it was.
    static func isValidHost(_ host: some Collection<UInt8>) -> Bool {
        var name = Array(host)
        let plain: [UInt8] = [.underscore, .dot, .colon, .lbracket, .rbracket, .hyphen]
        if !name.allSatisfy({ isAlphanumeric($0) || plain.contains($0) }) {
            let prefix = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
            let dots: Set<Unicode.Scalar> = [".", "\u{3002}", "\u{FF0E}", "\u{FF61}"]
            let hyphens = prefix.unicodeScalars.split(whereSeparator: dots.contains).contains { label in
                let start = Array(label.prefix(4))
                return start.count == 4 && start[2] == "-" && start[3] == "-"
                    && String(String.UnicodeScalarView(start)).lowercased() != "xn--"
            }
            if !hyphens { name = Array(MIMEPunycode.hostToASCII(prefix).utf8) }
        }
        name = name.map(MIMEContentType.asciiLowercase)
        while name.last == .dot { name.removeLast() }
        let labels = name.split(separator: .dot, omittingEmptySubsequences: false)
        guard name.count <= 253, labels.count > 1 else { return false }
        let isEdge = { (b: UInt8) in (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) || b == .underscore }
        for (index, label) in labels.enumerated() {
            let body = label.last == .lf ? label.dropLast() : label[...]
            guard (1...63).contains(label.count), let first = body.first, let last = body.last, isEdge(first),
                isEdge(last), body.allSatisfy({ isEdge($0) || $0 == .hyphen })
            else { return false }
            if index >= labels.count - 2, body.contains(.underscore) { return false }
        }
        return true
    }

    // MARK: - The regex parser

    /// `_parse_header_addresses`, with `$header_address_re` and `$header_address_mailre` as scanners.
    /// Their `qr//` has no `/s`, so a backslash does not escape a newline there.
    struct RegexParser {
        typealias Tail = (end: Int, comment: Range<Int>?)
        /// `$1`/`$4` (phrase), `$2`/`$3` (address, `angle` when `$2`), `$5` (comment).
        typealias Match = (end: Int, phrase: Range<Int>?, address: Range<Int>?, angle: Bool, comment: Range<Int>?)
        let s: Bytes
        var n: Int { s.count }
        /// The end of `D* C T` (`<...>` repeated, comment, separator) by position; it never looks back.
        var tails: [Int: Tail?] = [:]

        init(_ raw: Bytes) {
            var text = raw
            while let last = text.last, isSpace(last) { text.removeLast() }
            text = withoutBackslashPairs(text)
            // s/^[^"()<>]+:\s*(.*?)\s*(?:;.*)?/$1/: a group name goes, and all of a `;` right after it.
            let run = text.firstIndex { [.quote, .lparen, .rparen, .lt, .gt].contains($0) } ?? text.count
            if run > 1, let colon = text[1..<run].lastIndex(of: .colon) {
                var end = colon + 1
                while end < text.count, isSpace(text[end]) { end += 1 }
                text.removeSubrange(0..<(end < text.count && text[end] == .semicolon ? text.count : end))
            }
            s = text
        }

        mutating func entries() -> [Found] {
            guard s.contains(where: { !isSpace($0) }) else { return [] }
            var found: [Found] = []
            var start = 0
            while let match = matchAddress(at: start) {
                found.append(resolve(match))
                start = match.end
            }
            guard s[start...].contains(.atSign) else { return found }
            var index = start  // last ditch: /<($header_address_mailre)>/g in what is left
            while index < n {
                let end = s[index] == .lt ? RegexParser.mailEnd(s, from: index + 1) { s.at($0) == .gt ? $0 : nil } : nil
                if let end {
                    let address = Array(s[(index + 1)..<end])
                    if isValidParsed(address) { found.append((RegexParser.trimmed(address), nil)) }
                    index = end + 1
                } else {
                    index += 1
                }
            }
            return found
        }

        /// `$header_address_re` at `start` (its `^`).
        private mutating func matchAddress(at start: Int) -> Match? {
            let p0 = skipSpace(start)
            let chunkEnds = RegexParser.phraseChunkEnds(s, from: p0)
            let phraseEnd = chunkEnds.last ?? p0
            if s.at(phraseEnd) == .lt, let (address, tail) = angle(at: phraseEnd) {
                return (tail.end, phraseEnd > p0 ? p0..<phraseEnd : nil, address, true, tail.comment)
            }
            var tail: Tail?
            let mailEnd = RegexParser.mailEnd(s, from: p0) { end in
                tail = commentTail(end)
                return tail.map { _ in end }
            }
            if let mailEnd, let tail {
                return (tail.end, nil, p0..<mailEnd, false, tail.comment)
            }
            // A bare phrase, giving back whole chunks for a comment (which may hold `<,;"`) to match.
            for end in chunkEnds.reversed() {
                if let tail = commentTail(end) { return (tail.end, p0..<end, nil, false, tail.comment) }
            }
            // None at all: `^\s*` gives its last space back to be one.
            guard chunkEnds.isEmpty, p0 > start, let end = separator(p0) else { return nil }
            return (end, (p0 - 1)..<p0, nil, false, nil)
        }

        /// `< \s* ( [^>\@]* \S+ | \s* ) \s* >` then `D* C T`: the `>` to close at, in Perl's order,
        /// with where `$2` ends.
        private mutating func angle(at open: Int) -> (Range<Int>, Tail)? {
            let w = skipSpace(open + 1)
            var candidates: [(close: Int, end: Int)] = []
            var m = w  // the first `>` or `@`: `[^>\@]*` stops there, `\S+` takes the rest
            while m < n, s[m] != .gt, s[m] != .atSign { m += 1 }
            if m < n {
                let runEnd = s[m...].firstIndex(where: isSpace) ?? n
                if s.at(skipSpace(runEnd)) == .gt { candidates.append((skipSpace(runEnd), runEnd)) }
                for y in stride(from: runEnd - 1, to: m, by: -1) where s[y] == .gt { candidates.append((y, y)) }
                if s[m] == .gt, m > w {  // `[^>\@]*` one shorter: `\S+` ends before this `>`
                    let last = s[w..<m].lastIndex { !isSpace($0) } ?? w
                    candidates.append((m, last + 1))
                }
            }
            if s.at(w) == .gt { candidates.append((w, w)) }
            for candidate in candidates {
                if let tail = tail(candidate.close + 1) { return (w..<candidate.end, tail) }
            }
            return nil
        }

        /// `D* C T` from `position`, depth first without recursion (a long run of `<...>` must not
        /// exhaust the stack). `D` is `\s* < \s* (?: (?:"q")? \S+ | \s* ) \s* >`.
        private mutating func tail(_ position: Int) -> Tail? {
            if let known = tails[position] { return known }
            var stack = [(position: position, closes: closes(position), next: 0)]
            var finished: Tail?? = nil  // the outcome of the frame last finished
            while let top = stack.last {
                if case .some(.some(let success)) = finished {
                    for frame in stack { tails[frame.position] = success }
                    return success
                }
                finished = nil
                if top.next < top.closes.count {
                    stack[stack.count - 1].next += 1
                    let child = top.closes[top.next] + 1
                    if let known = tails[child] { finished = known } else { stack.append((child, closes(child), 0)) }
                } else {
                    finished = commentTail(top.position)
                    tails[top.position] = finished!
                    stack.removeLast()
                }
            }
            return finished ?? nil
        }

        /// Where a `D` from `position` may close, in Perl's order.
        private func closes(_ position: Int) -> [Int] {
            let open = skipSpace(position)
            guard s.at(open) == .lt else { return [] }
            let w = skipSpace(open + 1)
            var closes = s.at(w) == .quote ? RegexParser.quotedEnd(s, w).map(runCloses) ?? [] : []
            closes += runCloses(w)
            return s.at(w) == .gt ? closes + [w] : closes
        }

        /// `\S+ \s* >` from `x`, longest first.
        private func runCloses(_ x: Int) -> [Int] {
            guard x < n, !isSpace(s[x]) else { return [] }
            let runEnd = s[x...].firstIndex(where: isSpace) ?? n
            let z = skipSpace(runEnd)
            return (s.at(z) == .gt ? [z] : []) + stride(from: runEnd - 1, to: x, by: -1).filter { s[$0] == .gt }
        }

        /// `(?: \s* \( comment \) )? \s* (?: [,;] | \z )`
        private func commentTail(_ position: Int) -> Tail? {
            let open = skipSpace(position)
            if s.at(open) == .lparen, let close = RegexParser.commentClose(s, open), let end = separator(close + 1) {
                return (end, (open + 1)..<close)
            }
            return separator(position).map { ($0, nil) }
        }

        private func separator(_ position: Int) -> Int? {
            let index = skipSpace(position)
            return index == n ? n : (s[index] == .comma || s[index] == .semicolon ? index + 1 : nil)
        }

        private func skipSpace(_ position: Int) -> Int { s[position...].firstIndex { !isSpace($0) } ?? n }

        /// `$header_address_mailre` from `start`; `accept` sees each end in Perl's order.
        static func mailEnd(_ s: Bytes, from start: Int, then accept: (Int) -> Int?) -> Int? {
            let n = s.count
            var atSigns: [Int] = []
            if s.at(start) == .quote, let end = quotedEnd(s, start), s.at(end) == .atSign { atSigns.append(end) }
            let local = s[start...].firstIndex { special($0) || $0 == .atSign } ?? n
            if local > start, s.at(local) == .atSign { atSigns.append(local) }
            for atSign in atSigns {
                var end = s[(atSign + 1)...].firstIndex { special($0) || $0 == .quote } ?? n
                if end == atSign + 1, s.at(end) == .lbracket {  // `\[ [\d:.]+ \]`
                    end = s[(end + 1)...].firstIndex { !(0x30...0x39).contains($0) && $0 != .colon && $0 != .dot } ?? n
                    guard end > atSign + 2, s.at(end) == .rbracket else { continue }
                    end += 1
                }
                if end > atSign + 1, let accepted = accept(end) { return accepted }
            }
            return nil
        }

        /// `\s` and `<>()[],:;`, which neither part of `$header_address_mailre` takes.
        private static func special(_ byte: UInt8) -> Bool {
            switch byte {
            case .lt, .gt, .lparen, .rparen, .lbracket, .rbracket, .comma, .colon, .semicolon: true
            default: isSpace(byte)
            }
        }

        /// `^$header_address_mailre$`
        static func isMail(_ s: Bytes) -> Bool {
            mailEnd(s, from: 0) { $0 == s.count || ($0 == s.count - 1 && s[$0] == .lf) ? $0 : nil } != nil
        }

        /// `" (?:|(?:[^"\\]++|\\.)*+) "` at `start`: the index after the closing quote.
        static func quotedEnd(_ s: Bytes, _ start: Int, dotAll: Bool = false) -> Int? {
            var index = start + 1
            while index < s.count, s[index] != .quote {
                if s[index] == .backslash, s.at(index + 1) == .lf, !dotAll { return nil }
                index += s[index] == .backslash ? 2 : 1
            }
            return index < s.count ? index + 1 : nil
        }

        /// `\( (?:|(?:[^()\\]++|\\.)*+) \)` at `open`: the index of the `)`.
        static func commentClose(_ s: Bytes, _ open: Int, dotAll: Bool = false) -> Int? {
            var index = open + 1
            while index < s.count, s[index] != .lparen, s[index] != .rparen {
                if s[index] == .backslash, s.at(index + 1) == .lf, !dotAll { return nil }
                index += s[index] == .backslash ? 2 : 1
            }
            return s.at(index) == .rparen ? index : nil
        }

        /// `s/\((?:|(?:[^()\\]++|\\.)*+)\)//gs`
        static func withoutComments(_ s: Bytes) -> Bytes {
            var out: Bytes = []
            var index = 0
            while index < s.count {
                if s[index] == .lparen, let close = commentClose(s, index, dotAll: true) {
                    index = close + 1
                } else {
                    out.append(s[index])
                    index += 1
                }
            }
            return out
        }

        /// `(?: "q" | [^",;<]++ )+`: where each chunk ends, as far as it goes.
        static func phraseChunkEnds(_ s: Bytes, from start: Int) -> [Int] {
            var ends: [Int] = []
            var index = start
            while index < s.count, s[index] != .comma, s[index] != .semicolon, s[index] != .lt {
                if s[index] == .quote {
                    guard let end = quotedEnd(s, index) else { break }
                    index = end
                } else {
                    let stops: [UInt8] = [.quote, .comma, .semicolon, .lt]
                    index = s[index...].firstIndex(where: stops.contains) ?? s.count
                }
                ends.append(index)
            }
            return ends
        }

        /// `s/^(([^\@]*)\@([^\@]*)).*/$1/`: cut at a second `@` (up to a newline).
        static func trimmed(_ address: Bytes) -> Bytes {
            guard let first = address.firstIndex(of: .atSign),
                let second = address[(first + 1)...].firstIndex(of: .atSign)
            else { return address }
            return Array(address[..<second]) + address[second...].drop { $0 != .lf }
        }

        private func resolve(_ match: Match) -> Found {
            var address = match.address.map { Array(s[$0]) }
            if match.angle, let enclosed = address {
                address = RegexParser.withoutComments(enclosed)
                if !RegexParser.isMail(address!) { address = nil }
            }
            if let checked = address, !isValidParsed(checked) { address = nil }
            var phrase: Bytes?
            if let raw = match.phrase.map({ Array(s[$0]) }) {
                // /(?:"(|(?:[^"\\]++|\\.)*+)"|([^"]++))/gs: quoted parts unescaped, comments
                // dropped from the rest, a stray `"` skipped.
                var text: Bytes = []
                var index = 0
                while index < raw.count {
                    if raw[index] != .quote {
                        let end = raw[index...].firstIndex(of: .quote) ?? raw.count
                        text += RegexParser.withoutComments(Array(raw[index..<end]))
                        index = end
                    } else if let end = RegexParser.quotedEnd(raw, index, dotAll: true) {
                        // s/\\(?!\\)//g; s/\\\\/\\/g
                        let inner = raw[(index + 1)..<(end - 1)]
                        let kept = inner.indices.filter { raw[$0] != .backslash || raw[$0 + 1] == .backslash }
                            .map { raw[$0] }
                        text += withoutBackslashPairs(kept, keepingOne: true)
                        index = end
                    } else {
                        index += 1
                    }
                }
                let host = text.drop { $0 != .atSign }.dropFirst().prefix { $0 != .atSign }
                if address == nil, RegexParser.isMail(text), isValidParsed(text), isValidHost(host) {
                    address = text
                } else if text != address, !text.isEmpty {
                    phrase = text
                }
            }
            return (address.map(RegexParser.trimmed), phrase ?? match.comment.map { Array(s[$0]) })
        }
    }

}
