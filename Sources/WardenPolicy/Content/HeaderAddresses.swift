/// The addresses and display names in an address header (`From`, `To`, `Cc`, ...), as SpamAssassin
/// 4.0.1's `Util::parse_header_addresses` finds them for `header R From:addr =~ /re/` and
/// `From:name` rules: its own "very relaxed" regex parser first, then `Email::Address::XS` 1.05
/// (a port of Dovecot's RFC 5322 parser) when the regex parser found nothing or fewer entries than
/// commas + 1, and only if the XS parser finds more. Both are ported here on bytes, regexes as
/// hand-written scanners that keep Perl's backtracking choices.
///
///     "\"Doe, John\" <john@example.com>"    -> address "john@example.com", phrase "Doe, John "
///     "john@example.com (John Doe)"         -> address "john@example.com", phrase "John Doe"
///     "undisclosed-recipients:;"            -> nothing
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
        let own = regexParser.entries()
        // `scalar($str =~ /\(/) >= 2` is a boolean, never 2: the "nested comment" case never applies.
        if own.isEmpty || own.count < bytes.count(where: { $0 == .comma }) + 1 {
            let xs = xsEntries(bytes)
            if xs.count > own.count { return xs.map(entry) }
        }
        return own.map(entry)
    }

    /// The values a `:addr` query yields for one raw header value.
    static func addresses(_ raw: String) -> [String] { parse(raw).compactMap(\.address) }

    /// The values a `:name` query yields (`decodeWords` applies RFC 2047 decoding, given by the caller;
    /// when nil, names are returned raw as for `:name:raw`).
    static func names(_ raw: String, decodeWords: ((String) -> String)?) -> [String] {
        parse(raw).compactMap { entry in
            guard let phrase = entry.phrase, let decodeWords else { return entry.phrase }
            let decoded = Array(decodeWords(phrase).utf8)
            guard decoded.contains(where: { !isSpace($0) }) else { return String(decoding: decoded, as: UTF8.self) }
            var name: Bytes = []  // s/\s+/ /g, trimmed, s/^'(.*?)'$/$1/
            for byte in decoded where !isSpace(byte) || (name.last.map { $0 != .space } ?? false) {
                name.append(isSpace(byte) ? .space : byte)
            }
            if name.last == .space { name.removeLast() }
            if name.count >= 2, name.first == .apostrophe, name.last == .apostrophe { name = Array(name.dropFirst().dropLast()) }
            return String(decoding: name, as: UTF8.self)
        }
    }

    private typealias Bytes = [UInt8]
    private typealias Found = (address: Bytes?, phrase: Bytes?)

    private static func entry(_ found: Found) -> Entry {
        Entry(
            address: found.address.map { String(decoding: $0, as: UTF8.self) },
            phrase: found.phrase.map { String(decoding: $0, as: UTF8.self) })
    }

    /// Perl's `\s` on bytes.
    private static func isSpace(_ byte: UInt8) -> Bool { byte == .space || (0x09...0x0D).contains(byte) }

    /// `_valid_parsed_address`: not `""@...`, not a single `"`.
    private static func isValidParsed(_ address: Bytes) -> Bool {
        !address.starts(with: [.quote, .quote, .atSign]) && address.count(where: { $0 == .quote }) != 1
    }

    /// `is_fqdn_valid(idn_to_ascii($host), 1)`: two or more labels of `[a-z0-9_-]`, no `_` in the
    /// last two. Perl's `$` lets each label end in one newline. Non-ASCII hosts go through
    /// `MIMEPunycode` in place of libidn2.
    private static func isValidHost(_ host: some Collection<UInt8>) -> Bool {
        var name = Array(MIMEPunycode.hostToASCII(String(decoding: host, as: UTF8.self)).utf8)
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
    private struct RegexParser {
        typealias Tail = (end: Int, comment: Range<Int>?)
        /// `$1`/`$4` (phrase), `$2`/`$3` (address, `angle` when `$2`), `$5` (comment).
        typealias Match = (end: Int, phrase: Range<Int>?, address: Range<Int>?, angle: Bool, comment: Range<Int>?)
        let s: Bytes
        var n: Int { s.count }
        /// `D* C T` (duplicate `<...>`, comment, separator) from a position; it never looks back.
        var tails: [Int: Tail?] = [:]

        init(_ raw: Bytes) {
            var text = raw
            while let last = text.last, isSpace(last) { text.removeLast() }
            var unpaired: Bytes = []  // s/\\\\//g
            var index = 0
            while index < text.count {
                if text[index] == .backslash, index + 1 < text.count, text[index + 1] == .backslash { index += 2; continue }
                unpaired.append(text[index])
                index += 1
            }
            // s/^[^"()<>]+:\s*(.*?)\s*(?:;.*)?/$1/: drop a group name, and all after a `;` right after it.
            let special: Set<UInt8> = [.quote, .lparen, .rparen, .lt, .gt]
            let run = unpaired.firstIndex(where: special.contains) ?? unpaired.count
            if run > 1, let colon = unpaired[1..<run].lastIndex(of: .colon) {
                var end = colon + 1
                while end < unpaired.count, isSpace(unpaired[end]) { end += 1 }
                unpaired.removeSubrange(0..<(end < unpaired.count && unpaired[end] == .semicolon ? unpaired.count : end))
            }
            s = unpaired
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
            // Last ditch: <user@host> anywhere in what is left.
            var index = start
            while index < n {
                if s[index] == .lt, let end = mailEnd(from: index + 1, then: { $0 < n && s[$0] == .gt ? $0 : nil }) {
                    let address = Array(s[(index + 1)..<end])
                    if isValidParsed(address) { found.append((RegexParser.trimmed(address), nil)) }
                    index = end + 1
                } else {
                    index += 1
                }
            }
            return found
        }

        /// One match of `$header_address_re` at `start` (the `^`).
        private mutating func matchAddress(at start: Int) -> Match? {
            let p0 = skipSpace(start)
            let chunkEnds = RegexParser.phraseChunkEnds(s, from: p0)
            let phraseEnd = chunkEnds.last ?? p0
            if phraseEnd < n, s[phraseEnd] == .lt, let (address, tail) = angle(at: phraseEnd) {
                return (tail.end, phraseEnd > p0 ? p0..<phraseEnd : nil, address, true, tail.comment)
            }
            var tail: Tail?
            if let end = mailEnd(from: p0, then: { tail = commentTail($0); return tail == nil ? nil : $0 }), let tail {
                return (tail.end, nil, p0..<end, false, tail.comment)
            }
            // A bare phrase, giving back whole chunks for a comment to match, if need be.
            for end in chunkEnds.reversed() {
                if let tail = commentTail(end) { return (tail.end, p0..<end, nil, false, tail.comment) }
            }
            // None: `^\s*` gives its last space back to be one.
            guard chunkEnds.isEmpty, p0 > start, let end = separator(p0) else { return nil }
            return (end, (p0 - 1)..<p0, nil, false, nil)
        }

        /// `< \s* ( [^>\@]* \S+ | \s* ) \s* >` then `tail`: the `>` candidates in Perl's order.
        private mutating func angle(at open: Int) -> (Range<Int>, Tail)? {
            let w = skipSpace(open + 1)
            var candidates: [(close: Int, end: Int)] = []
            var m = w
            while m < n, s[m] != .gt, s[m] != .atSign { m += 1 }
            if m < n {
                var runEnd = m
                while runEnd < n, !isSpace(s[runEnd]) { runEnd += 1 }
                let z = skipSpace(runEnd)
                if z < n, s[z] == .gt { candidates.append((z, runEnd)) }
                for y in stride(from: runEnd - 1, to: m, by: -1) where s[y] == .gt { candidates.append((y, y)) }
                if s[m] == .gt, m > w {
                    var last = m - 1
                    while isSpace(s[last]) { last -= 1 }
                    candidates.append((m, last + 1))
                }
            }
            if w < n, s[w] == .gt { candidates.append((w, w)) }
            for candidate in candidates {
                if let tail = tail(candidate.close + 1) { return (w..<candidate.end, tail) }
            }
            return nil
        }

        /// `(?: \s* < \s* (?: (?:"q")? \S+ | \s* ) \s* > )*` then `commentTail`.
        private mutating func tail(_ position: Int) -> Tail? {
            if let known = tails[position] { return known }
            var result: Tail?
            let open = skipSpace(position)
            if open < n, s[open] == .lt {
                let w = skipSpace(open + 1)
                var closes: [Int] = []
                if w < n, s[w] == .quote, let end = RegexParser.quotedEnd(s, w) { closes += runCloses(end) }
                closes += runCloses(w)
                if w < n, s[w] == .gt { closes.append(w) }
                for close in closes {
                    result = tail(close + 1)
                    if result != nil { break }
                }
            }
            result = result ?? commentTail(position)
            tails[position] = result
            return result
        }

        /// `\S+ \s* >` from `x`, longest first.
        private func runCloses(_ x: Int) -> [Int] {
            guard x < n, !isSpace(s[x]) else { return [] }
            var runEnd = x
            while runEnd < n, !isSpace(s[runEnd]) { runEnd += 1 }
            let z = skipSpace(runEnd)
            return (z < n && s[z] == .gt ? [z] : []) + stride(from: runEnd - 1, to: x, by: -1).filter { s[$0] == .gt }
        }

        /// `(?: \s* \( comment \) )? \s* (?: [,;] | \z )`
        private func commentTail(_ position: Int) -> Tail? {
            let open = skipSpace(position)
            if open < n, s[open] == .lparen, let close = RegexParser.commentClose(s, open), let end = separator(close + 1) {
                return (end, (open + 1)..<close)
            }
            return separator(position).map { ($0, nil) }
        }

        private func separator(_ position: Int) -> Int? {
            let index = skipSpace(position)
            if index == n { return n }
            return s[index] == .comma || s[index] == .semicolon ? index + 1 : nil
        }

        private func skipSpace(_ position: Int) -> Int {
            var index = position
            while index < n, isSpace(s[index]) { index += 1 }
            return index
        }

        /// `$header_address_mailre` from `start`; `then` gets each end in Perl's order and accepts one.
        private func mailEnd(from start: Int, then accept: (Int) -> Int?) -> Int? {
            RegexParser.mailEnd(s, from: start, then: accept)
        }

        static func mailEnd(_ s: Bytes, from start: Int, then accept: (Int) -> Int?) -> Int? {
            let n = s.count
            var atSigns: [Int] = []
            if start < n, s[start] == .quote, let end = quotedEnd(s, start), end < n, s[end] == .atSign { atSigns.append(end) }
            let local: Set<UInt8> = [.atSign, .lt, .gt, .lparen, .rparen, .lbracket, .rbracket, .comma, .colon, .semicolon]
            var index = start
            while index < n, !isSpace(s[index]), !local.contains(s[index]) { index += 1 }
            if index > start, index < n, s[index] == .atSign { atSigns.append(index) }
            for atSign in atSigns {
                var end = atSign + 1
                while end < n, !isSpace(s[end]), s[end] != .quote, s[end] == .atSign || !local.contains(s[end]) { end += 1 }
                if end == atSign + 1, end < n, s[end] == .lbracket {
                    end += 1
                    while end < n, (0x30...0x39).contains(s[end]) || s[end] == .colon || s[end] == .dot { end += 1 }
                    guard end > atSign + 2, end < n, s[end] == .rbracket else { continue }
                    end += 1
                }
                if end > atSign + 1, let accepted = accept(end) { return accepted }
            }
            return nil
        }

        /// `^$header_address_mailre$`
        static func isMail(_ s: Bytes) -> Bool {
            mailEnd(s, from: 0) { $0 == s.count || ($0 == s.count - 1 && s[$0] == .lf) ? $0 : nil } != nil
        }

        /// `" (?:|(?:[^"\\]++|\\.)*+) "` at `start`: the index after the closing quote. Only
        /// with `dotAll` (`/s`) may a backslash escape a newline: `qr//` keeps its own flags.
        static func quotedEnd(_ s: Bytes, _ start: Int, dotAll: Bool = false) -> Int? {
            var index = start + 1
            while index < s.count {
                if s[index] == .quote { return index + 1 }
                if s[index] == .backslash, index + 1 < s.count, s[index + 1] == .lf, !dotAll { return nil }
                index += s[index] == .backslash ? 2 : 1
            }
            return nil
        }

        /// `\( (?:|(?:[^()\\]++|\\.)*+) \)` at `open`: the index of the `)`.
        static func commentClose(_ s: Bytes, _ open: Int, dotAll: Bool = false) -> Int? {
            var index = open + 1
            while index < s.count, s[index] != .lparen {
                if s[index] == .rparen { return index }
                if s[index] == .backslash, index + 1 < s.count, s[index + 1] == .lf, !dotAll { return nil }
                index += s[index] == .backslash ? 2 : 1
            }
            return nil
        }

        /// `(?: "q" | [^",;<]++ )+`: where each chunk ends, as far as it goes.
        static func phraseChunkEnds(_ s: Bytes, from start: Int) -> [Int] {
            var ends: [Int] = []
            var index = start
            while index < s.count {
                if s[index] == .quote {
                    guard let end = quotedEnd(s, index) else { break }
                    index = end
                } else if s[index] == .comma || s[index] == .semicolon || s[index] == .lt {
                    break
                } else {
                    while index < s.count, s[index] != .quote, s[index] != .comma, s[index] != .semicolon, s[index] != .lt {
                        index += 1
                    }
                }
                ends.append(index)
            }
            return ends
        }

        /// `s/\\(?!\\)//g; s/\\\\/\\/g` on a quoted string's content.
        static func unescaped(_ s: ArraySlice<UInt8>) -> Bytes {
            let kept = s.indices.filter { s[$0] != .backslash || ($0 + 1 < s.endIndex && s[$0 + 1] == .backslash) }
                .map { s[$0] }
            var out: Bytes = []
            var index = 0
            while index < kept.count {
                out.append(kept[index])
                index += kept[index] == .backslash && index + 1 < kept.count && kept[index + 1] == .backslash ? 2 : 1
            }
            return out
        }

        static func withoutComments(_ s: some Collection<UInt8>) -> Bytes {
            let bytes = Array(s)
            var out: Bytes = []
            var index = 0
            while index < bytes.count {
                if bytes[index] == .lparen, let close = commentClose(bytes, index, dotAll: true) { index = close + 1; continue }
                out.append(bytes[index])
                index += 1
            }
            return out
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
                let bare = RegexParser.withoutComments(enclosed)
                address = RegexParser.isMail(bare) ? bare : nil
            }
            if let checked = address, !isValidParsed(checked) { address = nil }
            var phrase: Bytes?
            if let raw = match.phrase.map({ Array(s[$0]) }) {
                var text: Bytes = []  // quoted parts unescaped, comments dropped from the others
                var index = 0
                while index < raw.count {
                    if raw[index] == .quote {
                        guard let end = RegexParser.quotedEnd(raw, index, dotAll: true) else { index += 1; continue }
                        text += RegexParser.unescaped(raw[(index + 1)..<(end - 1)])
                        index = end
                    } else {
                        let end = raw[index...].firstIndex(of: .quote) ?? raw.count
                        text += RegexParser.withoutComments(raw[index..<end])
                        index = end
                    }
                }
                if address == nil, RegexParser.isMail(text), isValidParsed(text),
                    isValidHost(text.drop { $0 != .atSign }.dropFirst().prefix { $0 != .atSign })
                {
                    address = text
                } else if text != address, !text.isEmpty {
                    phrase = text
                }
            }
            return (address.map(RegexParser.trimmed), phrase ?? match.comment.map { Array(s[$0]) })
        }
    }
    // MARK: - Email::Address::XS

    /// `_parse_header_addresses_xs`: `Email::Address::XS->parse` on the value without `\\` pairs.
    private static func xsEntries(_ raw: Bytes) -> [Found] {
        var text: Bytes = []
        var index = 0
        while index < raw.count {
            if raw[index] == .backslash, index + 1 < raw.count, raw[index + 1] == .backslash { index += 2; continue }
            text.append(raw[index])
            index += 1
        }
        var parser = Dovecot(text)
        return parser.parse().map { parsed in
            // `user` and `host` are undef when empty (or starting with NUL), `address` needs both.
            let user = parsed.mailbox.flatMap { $0.first.map { $0 != 0 } == true ? $0 : nil }
            let host = parsed.domain.flatMap { $0.first.map { $0 != 0 } == true ? $0 : nil }
            var address = user.flatMap { user in host.map { composed(user) + [.atSign] + $0 } }
            var phrase = parsed.name
            // Bug 5201: a phrase like joe@example.com with nothing else is the address.
            if address == nil, user == nil, parsed.comment == nil, let name = phrase, isValidParsed(name) {
                let body = name.last == .lf ? name.dropLast() : name[...]
                let parts = body.split(separator: .atSign, omittingEmptySubsequences: false)
                if parts.count == 2, parts.allSatisfy({ !$0.isEmpty && !$0.contains(where: isSpace) }), isValidHost(parts[1]) {
                    address = name
                    phrase = nil
                }
            }
            return (address, phrase ?? parsed.comment ?? (address == nil ? text : nil))
        }
    }

    /// Dovecot's `str_append_maybe_escape` for a local part (`compose_address`).
    private static func composed(_ user: Bytes) -> Bytes {
        let quoteDot = user.first == .dot || user.last == .dot
        if user.allSatisfy({ Dovecot.isAtext($0) || (!quoteDot && $0 == .dot) }) { return user }
        var out: Bytes = [.quote]
        for byte in user {
            if [.quote, .backslash, 0, .tab, .lf, .cr].contains(byte) { out.append(.backslash) }
            out.append(byte)
        }
        return out + [.quote]
    }

    /// Dovecot 2.3.14's `message_address_parse` as Email::Address::XS 1.05 calls it (with
    /// `MESSAGE_ADDRESS_PARSE_FLAG_NON_STRICT_DOTS_AS_INVALID`, as `a..b@x` shows). Functions return 1 (more input), 0 (end), -1 (invalid) or
    /// -2 (accepted with a problem); past the end the input reads as NUL, as in C.
    private struct Dovecot {
        struct Parsed { var name, mailbox, domain, comment: Bytes?; var invalid = false }
        let s: Bytes
        var p = 0
        var lastComment: Bytes = []
        var addr = Parsed()
        var out: [Parsed] = []

        init(_ s: Bytes) { self.s = s }

        static func isAtext(_ b: UInt8) -> Bool {
            switch b {
            case 0...0x20, 0x7F, .quote, .lparen, .rparen, .comma, .dot, .colon, .semicolon, .lt, .gt, .atSign,
                .lbracket, .backslash, .rbracket:
                false
            default: true
            }
        }

        private var n: Int { s.count }
        private var c: UInt8 { p < n ? s[p] : 0 }

        mutating func parse() -> [Parsed] {
            guard lwsp() > 0 else { return [] }
            while true {  // parse_address_list
                let start = p
                var ret = group()
                if ret < 0 {
                    p = start
                    ret = mailbox()
                }
                if ret == 0 || p >= n || s[p] != .comma { break }
                p += 1
                ret = lwsp()
                if ret < 0 { addFixed() }  // ends with some garbage
                if ret <= 0 { break }
            }
            return out
        }

        private mutating func skipComment() -> Int {
            lastComment.removeAll()
            p += 1
            var start = p
            var level = 1
            while p < n {
                switch s[p] {
                case 0: return -1
                case .lparen: level += 1
                case .rparen:
                    level -= 1
                    if level == 0 {
                        lastComment += s[start..<p]
                        p += 1
                        return p < n ? 1 : 0
                    }
                case .lf:
                    lastComment += s[start..<(p > start && s[p - 1] == .cr ? p - 1 : p)]
                    start = p + 1
                case .backslash:
                    p += 1
                    if p >= n { return -1 }
                    lastComment += s[start..<(p - 1)]
                    start = p
                default: break
                }
                p += 1
            }
            return -1
        }

        private mutating func lwsp() -> Int {
            while p < n {
                if [.space, .tab, .cr, .lf].contains(s[p]) { p += 1; continue }
                if s[p] != .lparen { break }
                if skipComment() < 0 { return -1 }
            }
            return p < n ? 1 : 0
        }

        private mutating func atom(_ str: inout Bytes, dots: Bool = false) -> Int {
            let start = p
            while p < n, Dovecot.isAtext(s[p]) || (dots && s[p] == .dot) { p += 1 }
            str += s[start..<p]
            return p < n ? lwsp() : 0
        }

        private mutating func dotAtom(_ str: inout Bytes, stopTrailingDot: Bool = false) -> Int {
            guard p < n, Dovecot.isAtext(s[p]) else { return -1 }
            var lastIsDot = false, dotProblem = false, ret = 0
            var start = p, lastDot = p
            p += 1
            while p < n {
                if Dovecot.isAtext(s[p]) { p += 1; continue }
                str += s[start..<p]
                if p > start { lastIsDot = false }
                ret = lwsp()
                if ret <= 0 { return dotProblem && ret >= 0 ? -2 : ret }
                if s[p] != .dot {
                    guard lastIsDot && stopTrailingDot else { return lastIsDot || dotProblem ? -2 : 1 }
                    p = lastDot
                    return dotProblem ? -2 : 1
                }
                if lastIsDot { dotProblem = true }
                lastDot = p
                p += 1
                str.append(.dot)
                lastIsDot = true
                if lwsp() <= 0 { return dotProblem ? -2 : ret }  // (sic) the earlier `ret`
                start = p
            }
            str += s[start..<p]
            return dotProblem ? -2 : 0
        }

        private mutating func quoted(_ str: inout Bytes) -> Int {
            p += 1
            var start = p
            var charProblem = false
            while p < n {
                switch s[p] {
                case 0: charProblem = true
                case .quote:
                    str += s[start..<p]
                    p += 1
                    let ret = lwsp()
                    return charProblem && ret >= 0 ? -2 : ret
                case .cr: if p + 1 < n, s[p + 1] != .lf { charProblem = true }
                case .lf: if p == start || s[p - 1] != .cr { charProblem = true }
                case .backslash:
                    p += 1
                    if p >= n { return -1 }
                    str += s[start..<(p - 1)]
                    str.append(s[p])
                    start = p + 1
                default: break
                }
                p += 1
            }
            return -1
        }

        private mutating func phrase(_ str: inout Bytes) -> Int {
            if p >= n { return 0 }
            if s[p] == .dot { return -1 }
            var charProblem = false
            while true {
                let ret = s[p] == .quote ? quoted(&str) : atom(&str, dots: true)
                if ret <= 0 && ret != -2 { return charProblem && ret == 0 ? -2 : ret }
                if ret == -2 {
                    charProblem = true
                    if p >= n { return -2 }
                }
                if !Dovecot.isAtext(s[p]) && s[p] != .quote && s[p] != .dot { break }
                str.append(.space)
            }
            let ret = lwsp()
            return charProblem && ret >= 0 ? -2 : ret
        }

        private mutating func domain(_ str: inout Bytes) -> Int {
            p += 1  // the @
            if lwsp() <= 0 { return -1 }
            guard s[p] == .lbracket else { return dotAtom(&str) }
            var start = p
            p += 1
            while p < n {
                switch s[p] {
                case 0, .lbracket: return -1
                case .rbracket:
                    str += s[start...p]
                    p += 1
                    return lwsp()
                case .lf:
                    str += s[start..<(p > start && s[p - 1] == .cr ? p - 1 : p)]
                    start = p + 1
                case .backslash:
                    p += 1
                    if p >= n { return -1 }
                default: break
                }
                p += 1
            }
            return -1
        }

        private mutating func localPart() -> Int {
            var str: Bytes = []
            var charProblem = false
            var ret = 0
            while p < n {
                ret = s[p] == .quote ? quoted(&str) : dotAtom(&str, stopTrailingDot: true)
                if ret == -1 { return -1 }
                if ret == -2 { charProblem = true }
                if p >= n { break }
                ret = lwsp()
                if ret <= 0 || s[p] != .dot { break }
                p += 1
                if p >= n { charProblem = true; break }
                ret = lwsp()
                if ret <= 0 { break }
                if s[p] == .atSign { charProblem = true; break }
            }
            if charProblem || ret < 0 { addr.invalid = true }
            addr.mailbox = str
            return ret
        }

        private mutating func parseDomain() -> Int {
            var str: Bytes = []
            let ret = domain(&str)
            if ret == -1 { return -1 }
            addr.domain = str
            return ret
        }

        private mutating func angleAddr() -> Int {
            p += 1
            if lwsp() <= 0 { return -1 }
            if s[p] == .atSign {  // parse_domain_list: a source route
                var route: Bytes = []
                var ret = 1, dotProblem = false
                while true {
                    if p >= n { ret = dotProblem ? -2 : 0; break }
                    if s[p] != .atSign { ret = dotProblem ? -2 : 1; break }
                    ret = domain(&route)
                    if ret <= 0 && ret != -2 { break }
                    if ret == -2 { dotProblem = true }
                    while lwsp() > 0 && s[p] == .comma { p += 1 }
                }
                if ret > 0 && c == .colon {
                    p += 1
                } else {
                    addr.invalid = true
                    if p >= n { return -1 }
                    if ret == -2 { p += 1 }
                }
                if lwsp() <= 0 { return -1 }
            }
            if s[p] != .gt {
                var ret = localPart()
                if ret <= 0 && ret != -2 { return -1 }
                if ret == -2 { addr.invalid = true }
                if p >= n { return 0 }
                if s[p] == .atSign {
                    ret = parseDomain()
                    if ret <= 0 && ret != -2 { return -1 }
                    if ret == -2 { addr.invalid = true }
                    if p >= n { return 0 }
                }
            }
            if s[p] != .gt { return -1 }
            p += 1
            return lwsp()
        }

        private mutating func nameAddr() -> Int {
            var str: Bytes = []
            let ret = phrase(&str)
            if (ret <= 0 && ret != -2) || c != .lt { return -1 }
            if ret == -2 { addr.invalid = true }
            addr.name = str.isEmpty ? nil : str
            lastComment.removeAll()
            if angleAddr() < 0 { addr.invalid = true }
            if !lastComment.isEmpty { addr.comment = lastComment }
            return p < n ? 1 : 0
        }

        private mutating func addrSpec() -> Int {
            lastComment.removeAll()
            var ret = localPart()
            if ret <= 0 { addr.invalid = true }
            if ret != 0 && p < n && s[p] == .atSign {
                let ret2 = parseDomain()
                if ret2 <= 0 && ret != -2 { ret = ret2 }
                if ret2 == -2 {
                    addr.invalid = true
                    if p >= n { ret = 0 }
                }
            }
            if !lastComment.isEmpty { addr.comment = lastComment }
            return ret
        }

        private mutating func mailbox() -> Int {
            let start = p
            var ret = nameAddr()
            if ret < 0 {
                let invalid = addr.invalid
                addr = Parsed(invalid: invalid)
                p = start
                ret = addrSpec()
                if addr.invalid && addr.name == nil && addr.mailbox != nil && addr.domain == nil {
                    addr.name = addr.mailbox
                    addr.mailbox = nil
                }
            }
            if ret < 0 { addr.invalid = true }
            addFixed()
            return ret
        }

        private mutating func addFixed() {
            if addr.mailbox == nil { addr.mailbox = [] }
            if addr.domain == nil { addr.domain = [] }
            out.append(addr)
            addr = Parsed()
        }

        /// A group: its members are addresses, its name is not.
        private mutating func group() -> Int {
            var str: Bytes = []
            var ret = phrase(&str)
            if (ret <= 0 && ret != -2) || c != .colon { return -1 }
            p += 1
            ret = lwsp()
            addr = Parsed()
            if ret > 0 && s[p] != .semicolon {
                while true {
                    _ = mailbox()
                    if p >= n || s[p] != .comma { break }
                    p += 1
                    if lwsp() <= 0 { ret = -1; break }
                }
            }
            if ret >= 0 {
                if p >= n || s[p] != .semicolon {
                    ret = -1
                } else {
                    p += 1
                    ret = lwsp()
                }
            }
            addr = Parsed()
            return ret == 0 ? 0 : 1
        }
    }
}

private extension UInt8 {
    static let tab: UInt8 = 0x09, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D, space: UInt8 = 0x20, quote: UInt8 = 0x22
    static let apostrophe: UInt8 = 0x27, lparen: UInt8 = 0x28, rparen: UInt8 = 0x29, comma: UInt8 = 0x2C
    static let hyphen: UInt8 = 0x2D, dot: UInt8 = 0x2E, colon: UInt8 = 0x3A, semicolon: UInt8 = 0x3B
    static let lt: UInt8 = 0x3C, gt: UInt8 = 0x3E, atSign: UInt8 = 0x40, lbracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C, rbracket: UInt8 = 0x5D, underscore: UInt8 = 0x5F
}
