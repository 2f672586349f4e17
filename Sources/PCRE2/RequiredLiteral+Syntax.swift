/// How PCRE2 reads the pattern syntax the required-literal analysis steps over: quantifiers,
/// groups, classes and comments. Where unsure, these read further than PCRE2 would, which only
/// turns literal text into a break.
extension RequiredLiteral.Scanner {
    /// The quantifier applying to the item that ends at `offset`, skipping what PCRE2 skips
    /// between an item and its quantifier. An unreadable `{` counts as minimum zero.
    /// `certain`: PCRE2 surely reads it as a quantifier (not a loose brace form).
    func quantifier(after offset: Int) -> (minimum: Int, end: Int, certain: Bool)? {
        var cursor = offset
        while let current = byte(cursor) {
            if extended, isPatternSpace(current) || current >= 0x80 {
                // Skipping a non-ASCII literal here only makes the item look optional.
                cursor += 1
            } else if extended, current == ascii("#") {
                cursor = endOfComment(cursor)
            } else if starts(with: "(?#", at: cursor) {
                guard let close = find(ascii(")"), from: cursor) else { return (0, cursor, false) }
                cursor = close + 1
            } else if starts(with: "\\E", at: cursor) {
                cursor += 2
            } else if starts(with: "\\Q\\E", at: cursor) {
                cursor += 4
            } else {
                break
            }
        }
        let minimum: Int
        var end: Int
        var certain = true
        switch byte(cursor) {
        case ascii("?"), ascii("*"):
            minimum = 0
            end = cursor + 1
        case ascii("+"):
            minimum = 1
            end = cursor + 1
        case ascii("{"):
            guard let brace = braceQuantifier(cursor) else { return (0, offset, false) }
            minimum = brace.minimum
            end = brace.end
            certain = brace.certain
        default:
            return nil
        }
        if byte(end) == ascii("?") || byte(end) == ascii("+") { end += 1 }
        return (minimum, end, certain)
    }

    /// `{n}`, `{n,}`, `{n,m}`, and also `{,m}` and forms with spaces: wider than PCRE2 10.42
    /// reads, so a brace PCRE2 takes for a quantifier is never taken for literal text here.
    /// `certain` for the forms every PCRE2 version reads as a quantifier.
    func braceQuantifier(_ offset: Int) -> (minimum: Int, end: Int, certain: Bool)? {
        var cursor = offset + 1
        var minimum = 0
        var sawDigit = false
        var sawComma = false
        var certain = byte(cursor).map { (ascii("0")...ascii("9")).contains($0) } ?? false
        while let current = byte(cursor), current != ascii("}") {
            switch current {
            case ascii("0")...ascii("9"):
                sawDigit = true
                if !sawComma, minimum < 1_000_000 { minimum = minimum * 10 + Int(current - ascii("0")) }
            case ascii(","):
                guard !sawComma else { return nil }
                sawComma = true
            case ascii(" "), ascii("\t"):
                certain = false
            default:
                return nil
            }
            cursor += 1
        }
        guard sawDigit, byte(cursor) == ascii("}") else { return nil }
        return (minimum, cursor + 1, certain)
    }

    func isInlineOptionSetting(_ offset: Int) -> Bool {
        guard starts(with: "(?", at: offset) else { return false }
        var cursor = offset + 2
        while let current = byte(cursor), RequiredLiteral.isOptionLetter(current) { cursor += 1 }
        return cursor > offset + 2 && byte(cursor) == ascii(")")
    }

    /// The offset after the `)` closing the group that opens at `offset`.
    func endOfGroup(_ offset: Int) -> Int? {
        var cursor = offset + 1
        var depth = 1
        while let current = byte(cursor) {
            if extended, current == ascii("#") {
                cursor = endOfComment(cursor)
                continue
            }
            switch current {
            case ascii("\\"):
                if byte(cursor + 1) == ascii("Q") {
                    guard let end = find("\\E", from: cursor + 2) else { return nil }
                    cursor = end + 2
                } else {
                    cursor += 2
                }
            case ascii("["):
                guard let end = endOfClass(cursor) else { return nil }
                cursor = end
            case ascii("("):
                if starts(with: "(?#", at: cursor) {
                    guard let close = find(ascii(")"), from: cursor) else { return nil }
                    cursor = close + 1
                } else {
                    depth += 1
                    cursor += 1
                }
            case ascii(")"):
                depth -= 1
                cursor += 1
                if depth == 0 { return cursor }
            default:
                cursor += 1
            }
        }
        return nil
    }

    /// The offset after the `]` closing the class that opens at `offset`, read as PCRE2 does:
    /// a `]` first is literal, `[:name:]` is a POSIX class, `\Q...\E` quotes.
    func endOfClass(_ offset: Int) -> Int? {
        var cursor = offset + 1
        func skipEmptyQuotes() {
            while true {
                if starts(with: "\\Q\\E", at: cursor) {
                    cursor += 4
                } else if starts(with: "\\E", at: cursor) {
                    cursor += 2
                } else {
                    return
                }
            }
        }
        skipEmptyQuotes()
        if byte(cursor) == ascii("^") {
            cursor += 1
            skipEmptyQuotes()
        }
        if byte(cursor) == ascii("]") { cursor += 1 }
        while let current = byte(cursor) {
            switch current {
            case ascii("\\"):
                if byte(cursor + 1) == ascii("Q") {
                    guard let end = find("\\E", from: cursor + 2) else { return nil }
                    cursor = end + 2
                } else {
                    cursor += 2
                }
            case ascii("["):
                if let terminator = byte(cursor + 1), [ascii(":"), ascii("."), ascii("=")].contains(terminator),
                    let end = endOfPosixClass(cursor + 1, terminator: terminator)
                {
                    cursor = end
                } else {
                    cursor += 1
                }
            case ascii("]"):
                return cursor + 1
            default:
                cursor += 1
            }
        }
        return nil
    }

    /// PCRE2's `check_posix_syntax`: from the `:` after `[`, the offset after `:]`, if any.
    func endOfPosixClass(_ offset: Int, terminator: UInt8) -> Int? {
        var cursor = offset + 1
        while let current = byte(cursor) {
            if current == ascii("\\"), byte(cursor + 1) == ascii("]") || byte(cursor + 1) == ascii("\\") {
                cursor += 2
                continue
            }
            if (current == ascii("[") && byte(cursor + 1) == terminator) || current == ascii("]") {
                return nil
            }
            if current == terminator, byte(cursor + 1) == ascii("]") { return cursor + 2 }
            cursor += 1
        }
        return nil
    }

    func endOfComment(_ offset: Int) -> Int {
        guard let newline = find(0x0A, from: offset) else { return pattern.count }
        return newline + 1
    }

    func find(_ target: UInt8, from offset: Int) -> Int? {
        var cursor = offset
        while cursor < pattern.count {
            if pattern[cursor] == target { return cursor }
            cursor += 1
        }
        return nil
    }

    func find(_ text: String, from offset: Int) -> Int? {
        var cursor = offset
        while cursor < pattern.count {
            if starts(with: text, at: cursor) { return cursor }
            cursor += 1
        }
        return nil
    }

    /// ASCII white space PCRE2 ignores in extended mode (its default tables' `ctype_space`).
    func isPatternSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    static func scalarLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: 4
        case 0xE0...: 3
        case 0xC0...: 2
        default: 1
        }
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case ascii("0")...ascii("9"): Int(byte - ascii("0"))
        case ascii("a")...ascii("f"): Int(byte - ascii("a")) + 10
        case ascii("A")...ascii("F"): Int(byte - ascii("A")) + 10
        default: nil
        }
    }
}
