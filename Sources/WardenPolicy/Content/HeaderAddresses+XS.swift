/// The second parser `HeaderAddresses` consults, as SpamAssassin does when the
/// Email::Address::XS module is installed (Debian installs it): Dovecot's RFC 5322 address
/// parser that the module wraps, ported.
extension HeaderAddresses {
    // MARK: - Email::Address::XS

    /// `_parse_header_addresses_xs`: `Email::Address::XS->parse` on the value without `\\` pairs.
    static func xsEntries(_ raw: Bytes) -> [Found] {
        let text = withoutBackslashPairs(raw)
        var parser = Dovecot(text)
        return parser.parse().map { parsed in
            // `user` and `host` are undef when empty (or starting with NUL); `address` needs both.
            let user = parsed.mailbox.flatMap { $0.first.map { $0 != 0 } == true ? $0 : nil }
            let host = parsed.domain.flatMap { $0.first.map { $0 != 0 } == true ? $0 : nil }
            var address = user.flatMap { user in host.map { composed(user) + [.atSign] + $0 } }
            var phrase = parsed.name
            // Bug 5201: a phrase like joe@example.com with nothing else is the address.
            if address == nil, user == nil, parsed.comment == nil, let name = phrase, isValidParsed(name) {
                // /^([^\s\@]+)\@([^\s\@]+)$/
                let body = name.last == .lf ? name.dropLast() : name[...]
                let parts = body.split(separator: .atSign, omittingEmptySubsequences: false)
                if parts.count == 2, parts.allSatisfy({ !$0.isEmpty && !$0.contains(where: isSpace) }),
                    isValidHost(parts[1])
                {
                    address = name
                    phrase = nil
                }
            }
            return (address, phrase ?? parsed.comment ?? (address == nil ? text : nil))
        }
    }

    /// Dovecot's `str_append_maybe_escape` on a local part (`compose_address`).
    static func composed(_ user: Bytes) -> Bytes {
        let quoteDot = user.first == .dot || user.last == .dot
        if user.allSatisfy({ Dovecot.isAtext($0) || (!quoteDot && $0 == .dot) }) { return user }
        var out: Bytes = [.quote]
        for byte in user {
            if byte == .quote || byte == .backslash || byte == 0 || byte == .tab || byte == .lf || byte == .cr {
                out.append(.backslash)
            }
            out.append(byte)
        }
        return out + [.quote]
    }

    /// Dovecot 2.3.14's `message_address_parse` as Email::Address::XS 1.05 calls it, with
    /// `NON_STRICT_DOTS_AS_INVALID` (it takes `a..b@x`, not `.a@x`). Group names are left out,
    /// their members kept. Its functions return 1 (more input), 0 (at the end), -1 (invalid) or
    /// -2 (taken, with a problem); past the end the input reads as NUL, as in C.
    struct Dovecot {
        struct Parsed {
            var name, mailbox, domain, comment: Bytes?
            var invalid = false
        }
        let s: Bytes
        var p = 0
        var lastComment: Bytes = []
        var addr = Parsed()
        var out: [Parsed] = []

        init(_ s: Bytes) { self.s = s }

        static func isAtext(_ byte: UInt8) -> Bool {
            switch byte {
            case 0...0x20, 0x7F, .quote, .lparen, .rparen, .comma, .dot, .colon, .semicolon, .lt, .gt, .atSign,
                .lbracket, .backslash, .rbracket:
                false
            default: true
            }
        }

        private var n: Int { s.count }
        private var c: UInt8 { s.at(p) }

        /// `parse_address_list`
        mutating func parse() -> [Parsed] {
            guard lwsp() > 0 else { return [] }
            while true {
                let start = p
                var ret = group()
                if ret < 0 {
                    p = start
                    ret = mailbox()
                }
                if ret == 0 || c != .comma { break }
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
            var start = p, level = 1
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
                case .lf:  // folding: the (CR)LF goes
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
                if c == .space || c == .tab || c == .cr || c == .lf {
                    p += 1
                } else if c != .lparen {
                    break
                } else if skipComment() < 0 {
                    return -1
                }
            }
            return p < n ? 1 : 0
        }

        /// `rfc822_parse_atom` (the caller checks for one atext), or `rfc822_parse_atom_or_dot`.
        private mutating func atom(_ str: inout Bytes, dots: Bool = false) -> Int {
            let start = p
            while p < n, Dovecot.isAtext(c) || (dots && c == .dot) { p += 1 }
            str += s[start..<p]
            return p < n ? lwsp() : 0
        }

        private mutating func dotAtom(_ str: inout Bytes, stopTrailingDot: Bool = false) -> Int {
            guard Dovecot.isAtext(c) else { return -1 }
            var lastIsDot = false, dotProblem = false, ret = 0
            var start = p, lastDot = p
            p += 1
            while p < n {
                if Dovecot.isAtext(c) {
                    p += 1
                    continue
                }
                str += s[start..<p]
                if p > start { lastIsDot = false }
                ret = lwsp()
                if ret <= 0 { return dotProblem && ret >= 0 ? -2 : ret }
                if c != .dot {
                    guard lastIsDot && stopTrailingDot else { return lastIsDot || dotProblem ? -2 : 1 }
                    p = lastDot
                    return dotProblem ? -2 : 1
                }
                if lastIsDot { dotProblem = true }
                lastDot = p
                p += 1
                str.append(.dot)
                lastIsDot = true
                if lwsp() <= 0 { return dotProblem ? -2 : ret }  // (sic) the `ret` from before the dot
                start = p
            }
            str += s[start..<p]
            return dotProblem ? -2 : 0
        }

        private mutating func quoted(_ str: inout Bytes) -> Int {
            p += 1
            var start = p, charProblem = false
            while p < n {
                switch c {
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
                    str.append(c)
                    start = p + 1
                default: break
                }
                p += 1
            }
            return -1
        }

        private mutating func phrase(_ str: inout Bytes) -> Int {
            if p >= n { return 0 }
            if c == .dot { return -1 }
            var charProblem = false
            while true {
                let ret = c == .quote ? quoted(&str) : atom(&str, dots: true)
                if ret <= 0 && ret != -2 { return charProblem && ret == 0 ? -2 : ret }
                if ret == -2 {
                    charProblem = true
                    if p >= n { return -2 }
                }
                if !Dovecot.isAtext(c) && c != .quote && c != .dot { break }
                str.append(.space)
            }
            let ret = lwsp()
            return charProblem && ret >= 0 ? -2 : ret
        }

        /// `rfc822_parse_domain` at the `@`: a dot-atom or a domain literal.
        private mutating func domain(_ str: inout Bytes) -> Int {
            p += 1
            if lwsp() <= 0 { return -1 }
            guard c == .lbracket else { return dotAtom(&str) }
            var start = p
            p += 1
            while p < n {
                switch c {
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
            var charProblem = false, ret = 0
            while p < n {
                ret = c == .quote ? quoted(&str) : dotAtom(&str, stopTrailingDot: true)
                if ret == -1 { return -1 }
                if ret == -2 { charProblem = true }
                if p >= n { break }
                ret = lwsp()
                if ret <= 0 || c != .dot { break }
                p += 1
                if p >= n {
                    charProblem = true
                    break
                }
                ret = lwsp()
                if ret <= 0 { break }
                if c == .atSign {
                    charProblem = true
                    break
                }
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
            if c == .atSign {  // parse_domain_list: a source route
                var route: Bytes = [], ret = 1, dotProblem = false
                while true {
                    if p >= n || c != .atSign {
                        ret = dotProblem ? -2 : (p >= n ? 0 : 1)
                        break
                    }
                    ret = domain(&route)
                    if ret <= 0 && ret != -2 { break }
                    if ret == -2 { dotProblem = true }
                    while lwsp() > 0 && c == .comma { p += 1 }
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
            if c != .gt {  // `<>` is no address
                var ret = localPart()
                if ret <= 0 && ret != -2 { return -1 }
                if ret == -2 { addr.invalid = true }
                if p >= n { return 0 }
                if c == .atSign {
                    ret = parseDomain()
                    if ret <= 0 && ret != -2 { return -1 }
                    if ret == -2 { addr.invalid = true }
                    if p >= n { return 0 }
                }
            }
            if c != .gt { return -1 }
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
            if ret != 0 && p < n && c == .atSign {
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
                addr = Parsed(invalid: addr.invalid)
                p = start
                ret = addrSpec()
                if addr.invalid && addr.name == nil && addr.mailbox != nil && addr.domain == nil {
                    (addr.name, addr.mailbox) = (addr.mailbox, nil)
                }
            }
            if ret < 0 { addr.invalid = true }
            addFixed()
            return ret
        }

        private mutating func addFixed() {
            addr.mailbox = addr.mailbox ?? []
            addr.domain = addr.domain ?? []
            out.append(addr)
            addr = Parsed()
        }

        private mutating func group() -> Int {
            var str: Bytes = []
            var ret = phrase(&str)
            if (ret <= 0 && ret != -2) || c != .colon { return -1 }
            p += 1
            ret = lwsp()
            addr = Parsed()
            if ret > 0 && c != .semicolon {
                while true {
                    _ = mailbox()
                    if c != .comma { break }
                    p += 1
                    if lwsp() <= 0 {
                        ret = -1
                        break
                    }
                }
            }
            if ret >= 0 {
                if c != .semicolon {
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
