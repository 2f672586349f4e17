/// Finds a run of literal bytes that every match of a pattern must contain, for pre-filtering.
///
/// The analysis is deliberately small and conservative: it reads only the top level of the
/// pattern, treats every group, class, escape class and assertion as a break, gives up on a
/// top-level `|`, on inline options that change the rest of the pattern, on `\K` and on `(*VERB)`
/// items, and drops a character a quantifier may repeat zero times. Anything it does not
/// understand ends the current run; a wrong answer would silently disable a rule.
enum RequiredLiteral {
    static let minimumLength = 3

    /// `newlineIsLF`: comments in extended mode end at LF only; with another newline convention
    /// the analysis declines extended patterns rather than guess where comments end.
    static func analyse(_ pattern: [UInt8], options: RegexOptions, newlineIsLF: Bool = true) -> [UInt8]? {
        analyseBoth(pattern, options: options, newlineIsLF: newlineIsLF).literal
    }

    /// Most alternatives kept for one position of a pattern (`[i1]` twice is 4).
    static let maximumAlternatives = 16

    /// The longest literal run (as `analyse`), and the longest run of literals and small classes
    /// (`v[i1]agr[a@]`: every match holds one of `viagra`, `v1agra`, `viagr@`, `v1agr@`) as the
    /// list of its spellings, all of one length, at most `maximumAlternatives`; either nil when
    /// shorter than `minimumLength`. Caseless patterns give ASCII-lowercased literals.
    static func analyseBoth(
        _ pattern: [UInt8], options: RegexOptions, newlineIsLF: Bool = true
    ) -> (literal: [UInt8]?, alternatives: [[UInt8]]?) {
        guard !hasGlobalHazard(pattern) else { return (nil, nil) }
        if options.contains(.extended), !newlineIsLF { return (nil, nil) }
        var scanner = Scanner(pattern: pattern, options: options)
        guard let best = scanner.longestRun() else { return (nil, nil) }
        let fold: ([UInt8]) -> [UInt8] = { options.contains(.caseless) ? $0.map(LiteralSearcher.fold) : $0 }
        let literal = best.count >= minimumLength ? fold(best) : nil
        var alternatives: [[UInt8]]?
        if let first = scanner.bestAlternatives.first, first.count >= minimumLength {
            var seen = Set<[UInt8]>()
            alternatives = scanner.bestAlternatives.map(fold).filter { seen.insert($0).inserted }
        }
        return (literal, alternatives)
    }

    /// Constructs whose effect reaches past the point where they appear: `(*ACCEPT)` and the other
    /// verbs, `\K`, and inline options that turn on extended mode or reset options (which would
    /// change how the rest of the text is read). A raw scan: false alarms only cost the literal.
    static func hasGlobalHazard(_ pattern: [UInt8]) -> Bool {
        var index = 0
        while index + 1 < pattern.count {
            let pair = (pattern[index], pattern[index + 1])
            if pair == (ascii("("), ascii("*")) || pair == (ascii("\\"), ascii("K")) {
                return true
            }
            if pair == (ascii("("), ascii("?")) {
                var next = index + 2
                while next < pattern.count, isOptionLetter(pattern[next]) {
                    if pattern[next] == ascii("x") || pattern[next] == ascii("^") { return true }
                    next += 1
                }
            }
            index += 1
        }
        return false
    }

    static func isOptionLetter(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == ascii("-")
            || byte == ascii("^")
    }

    struct Scanner {
        let pattern: [UInt8]
        let extended: Bool
        let caseless: Bool
        let utf: Bool
        var index = 0
        var run: [UInt8] = []
        var best: [UInt8] = []
        /// The run read with small classes as alternatives: every spelling so far, one length.
        var alternatives: [[UInt8]] = [[]]
        var bestAlternatives: [[UInt8]] = []

        init(pattern: [UInt8], options: RegexOptions) {
            self.pattern = pattern
            self.extended = options.contains(.extended)
            self.caseless = options.contains(.caseless)
            self.utf = options.contains(.utf)
        }

        func byte(_ offset: Int) -> UInt8? {
            offset < pattern.count ? pattern[offset] : nil
        }

        func starts(with text: String, at offset: Int) -> Bool {
            let bytes = Array(text.utf8)
            guard offset + bytes.count <= pattern.count else { return false }
            return pattern[offset..<(offset + bytes.count)].elementsEqual(bytes)
        }

        mutating func endRun() {
            if run.count > best.count { best = run }
            run = []
            endAlternatives()
        }

        /// Ends the run of spellings: longer wins, then fewer spellings.
        mutating func endAlternatives() {
            let length = alternatives[0].count
            let bestLength = bestAlternatives.first?.count ?? 0
            if length > bestLength || (length == bestLength && length > 0 && alternatives.count < bestAlternatives.count) {
                bestAlternatives = alternatives
            }
            alternatives = [[]]
        }

        /// Appends one of `characters` to every spelling, or ends the spellings if there would be
        /// too many (and starts again from `characters`).
        mutating func appendAlternatives(_ characters: [UInt8]) {
            if alternatives.count * characters.count > RequiredLiteral.maximumAlternatives {
                endAlternatives()
                alternatives = characters.map { [$0] }
                return
            }
            alternatives = alternatives.flatMap { spelling in characters.map { spelling + [$0] } }
        }

        /// A small class (`[i1]`, `[a@]`, `[.,]`): its members, each a safe one-byte literal; nil
        /// for any other class (negated, ranges, escapes other than escaped punctuation,
        /// POSIX names, a leading `]`, more than four members).
        func smallClassMembers(from start: Int, to end: Int) -> [UInt8]? {
            var members: [UInt8] = []
            var cursor = start + 1
            let last = end - 1  // the closing ]
            guard cursor < last, pattern[cursor] != ascii("^"), pattern[cursor] != ascii("]") else { return nil }
            while cursor < last {
                var member = pattern[cursor]
                if member == ascii("\\") {
                    guard cursor + 1 < last, !RequiredLiteral.isAlphanumeric(pattern[cursor + 1]) else { return nil }
                    member = pattern[cursor + 1]
                    cursor += 2
                } else {
                    if member == ascii("-") || member == ascii("[") || (extended && isPatternSpace(member)) { return nil }
                    cursor += 1
                }
                guard member < 0x80, member >= 0x20, isSafeLiteral([member]) else { return nil }
                if !members.contains(member) { members.append(member) }
            }
            return members.count <= 4 ? members : nil
        }

        /// A small class at the top level: a break for the single run, spellings for the other.
        mutating func smallClass(_ members: [UInt8]) {
            let quantifier = quantifier(after: index)
            if run.count > best.count { best = run }
            run = []
            guard let quantifier else {
                appendAlternatives(members)
                return
            }
            index = quantifier.end
            if quantifier.minimum > 0 {
                appendAlternatives(members)
                endAlternatives()
                if quantifier.certain { alternatives = members.map { [$0] } }
            } else {
                endAlternatives()
            }
        }

        /// The longest literal run at the top level, or `nil` when the pattern is beyond the analysis.
        mutating func longestRun() -> [UInt8]? {
            while let current = byte(index) {
                if extended, isPatternSpace(current) {
                    index += 1
                    continue
                }
                if extended, current == ascii("#") {
                    index = endOfComment(index)
                    continue
                }
                if extended, current >= 0x80 {
                    // Maybe white space PCRE2 ignores (NEL, LRM, ...), maybe a literal: a break either way.
                    endRun()
                    index += utf ? Self.scalarLength(current) : 1
                    continue
                }
                switch current {
                case ascii("|"), ascii(")"):
                    return nil
                case ascii("(") where starts(with: "(?#", at: index):
                    guard let close = find(ascii(")"), from: index) else { return nil }
                    endRun()
                    index = close + 1
                case ascii("("):
                    if isInlineOptionSetting(index) { return nil }
                    guard let end = endOfGroup(index) else { return nil }
                    endRun()
                    index = end
                case ascii("["):
                    guard let end = endOfClass(index) else { return nil }
                    if let members = smallClassMembers(from: index, to: end) {
                        index = end
                        smallClass(members)
                    } else {
                        endRun()
                        index = end
                    }
                case ascii("{"):
                    endRun()
                    index = braceQuantifier(index)?.end ?? index + 1
                case ascii("."), ascii("^"), ascii("$"), ascii("*"), ascii("+"), ascii("?"):
                    endRun()
                    index += 1
                case ascii("\\"):
                    guard escape() else { return nil }
                default:
                    let length = utf ? Self.scalarLength(current) : 1
                    let end = min(index + length, pattern.count)
                    let character = Array(pattern[index..<end])
                    index = end
                    atom(character)
                }
            }
            endRun()
            return best
        }

        /// Handles the escape at `index`; `false` when the pattern is beyond the analysis.
        mutating func escape() -> Bool {
            guard let next = byte(index + 1) else { return false }
            if next >= 0x80 {
                // An escaped non-ASCII character is itself.
                let length = utf ? Self.scalarLength(next) : 1
                let end = min(index + 1 + length, pattern.count)
                let character = Array(pattern[(index + 1)..<end])
                index = end
                atom(character)
                return true
            }
            if !RequiredLiteral.isAlphanumeric(next) {
                index += 2
                atom([next])
                return true
            }
            let simple: [UInt8: UInt8] = [
                ascii("n"): 0x0A, ascii("t"): 0x09, ascii("r"): 0x0D, ascii("f"): 0x0C,
                ascii("e"): 0x1B, ascii("a"): 0x07,
            ]
            if let value = simple[next] {
                index += 2
                atom([value])
                return true
            }
            switch next {
            case ascii("Q"):
                return quoted()
            case ascii("x"):
                index += 2
                var value = 0
                var digits = 0
                if byte(index) == ascii("{") {
                    guard let close = find(ascii("}"), from: index) else { return false }
                    for digit in pattern[(index + 1)..<close] {
                        guard let nibble = Self.hexValue(digit), value < 0x1000 else { return breakAt(close + 1) }
                        value = value * 16 + nibble
                        digits += 1
                    }
                    index = close + 1
                } else {
                    while digits < 2, let digit = byte(index), let nibble = Self.hexValue(digit) {
                        value = value * 16 + nibble
                        digits += 1
                        index += 1
                    }
                }
                if digits > 0, value < 0x80 {
                    atom([UInt8(value)])
                } else {
                    endRun()
                }
                return true
            case ascii("c"):
                return breakAt(index + 3)
            case ascii("0")...ascii("9"):
                var end = index + 1
                while let digit = byte(end), (ascii("0")...ascii("9")).contains(digit) { end += 1 }
                return breakAt(end)
            case ascii("g"), ascii("k"):
                var end = index + 2
                if let open = byte(end), let close = [ascii("{"): ascii("}"), ascii("<"): ascii(">"), ascii("'"): ascii("'")][open] {
                    guard let found = find(close, from: end) else { return false }
                    end = found + 1
                } else {
                    if byte(end) == ascii("-") || byte(end) == ascii("+") { end += 1 }
                    while let digit = byte(end), (ascii("0")...ascii("9")).contains(digit) { end += 1 }
                }
                return breakAt(end)
            case ascii("o"), ascii("p"), ascii("P"), ascii("N"):
                if byte(index + 2) == ascii("{") {
                    guard let close = find(ascii("}"), from: index + 2) else { return false }
                    return breakAt(close + 1)
                }
                // \pL is a one-letter property; \N alone is "not a newline".
                return breakAt(index + (next == ascii("p") || next == ascii("P") ? 3 : 2))
            default:
                // \E on its own, classes such as \d \w \s, assertions such as \b \A \z.
                return breakAt(index + 2)
            }
        }

        mutating func breakAt(_ end: Int) -> Bool {
            endRun()
            index = min(end, pattern.count)
            return true
        }

        /// `\Q...\E`: every character is literal, the last one may carry a quantifier after `\E`.
        mutating func quoted() -> Bool {
            var cursor = index + 2
            var characters: [[UInt8]] = []
            while cursor < pattern.count, !starts(with: "\\E", at: cursor) {
                let length = utf ? Self.scalarLength(pattern[cursor]) : 1
                let end = min(cursor + length, pattern.count)
                characters.append(Array(pattern[cursor..<end]))
                cursor = end
            }
            index = min(cursor + 2, pattern.count)
            guard let last = characters.popLast() else { return true }
            for character in characters {
                if isSafeLiteral(character) {
                    run += character
                    appendToAlternatives(character)
                } else {
                    endRun()
                }
            }
            atom(last)
            return true
        }

        /// Adds one literal character, looking ahead for a quantifier that applies to it.
        mutating func atom(_ character: [UInt8]) {
            guard isSafeLiteral(character) else {
                endRun()
                return
            }
            guard let quantifier = quantifier(after: index) else {
                run += character
                appendToAlternatives(character)
                return
            }
            if quantifier.minimum > 0 {
                run += character
                appendToAlternatives(character)
                endRun()
                // The last repetition is adjacent to what follows, unless the "quantifier" was
                // literal text after all, which only a loose brace form can be.
                if quantifier.certain {
                    run = character
                    alternatives = [character]
                }
            } else {
                endRun()
            }
            index = quantifier.end
        }

        /// One literal character (maybe several bytes) after every spelling.
        mutating func appendToAlternatives(_ character: [UInt8]) {
            for index in alternatives.indices { alternatives[index] += character }
        }

        /// A literal character whose caseless matching is plain ASCII folding (or exact).
        func isSafeLiteral(_ character: [UInt8]) -> Bool {
            guard caseless else { return true }
            guard character.count == 1, character[0] < 0x80 else { return false }
            // Under Unicode caseless matching k and s also match U+212A KELVIN SIGN and U+017F LONG S.
            return !(utf && [ascii("k"), ascii("K"), ascii("s"), ascii("S")].contains(character[0]))
        }

    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        PerlRegexLiteral.isAlphanumeric(byte)
    }
}

/// The byte of an ASCII character, for readable byte comparisons.
@inline(__always) func ascii(_ character: Unicode.Scalar) -> UInt8 {
    UInt8(ascii: character)
}
