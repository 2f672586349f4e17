import PCRE2
import Testing

@Suite struct RequiredLiteralTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var pattern: String
        var options: RegexOptions = []
        /// The literal the analysis should find, or nil when it should decline.
        var literal: String?
        /// A subject the regex matches, to check the literal against a real match.
        var example: String?
        var testDescription: String { "\(pattern.debugDescription) \(options.rawValue)" }
    }

    static let cases: [Case] = [
        Case(pattern: "viagra", literal: "viagra", example: "buy viagra now"),
        Case(pattern: #"\bviagra\b"#, options: .caseless, literal: "viagra", example: "Buy VIAGRA!"),
        Case(pattern: #"cheap\s+meds"#, literal: "cheap", example: "cheap   meds"),
        Case(pattern: "v[i1]agra", literal: "agra", example: "v1agra"),
        Case(pattern: "click here!?", literal: "click here", example: "click here"),
        Case(pattern: "colou?r", literal: "colo", example: "color"),
        Case(pattern: "https?://", literal: "http", example: "https://"),
        Case(pattern: "ab+cd", literal: "bcd", example: "abbbcd"),
        Case(pattern: "a{2}bcd", literal: "abcd", example: "aabcd"),
        Case(pattern: "x{0,3}yz", literal: nil, example: "yz"),
        Case(pattern: "(free|cheap) offer", literal: " offer", example: "cheap offer"),
        Case(pattern: "free|cheap", literal: nil, example: "cheap"),
        Case(pattern: "(?i)viagra", literal: nil, example: "VIAGRA"),
        Case(pattern: "(?-i)abcd", literal: nil, example: "abcd"),
        Case(pattern: "(?i:viagra)now", literal: "now", example: "VIAGRAnow"),
        Case(pattern: "foo(*ACCEPT)barbaz", literal: nil, example: "foo"),
        Case(pattern: #"foo\Kbarbaz"#, literal: nil, example: "foobarbaz"),
        Case(pattern: #"\Qa.b*c\E"#, literal: "a.b*c", example: "xa.b*c"),
        Case(pattern: #"\Qabcd\E?"#, literal: "abc", example: "abc"),
        Case(pattern: #"a\E?bcd"#, literal: "bcd", example: "bcd"),
        Case(pattern: #"abc\Q\E*def"#, literal: "def", example: "abdef"),
        Case(pattern: "[[:alpha:]]]xyz", literal: "]xyz", example: "q]xyz"),
        Case(pattern: "[]abc]def", literal: "def", example: "]def"),
        Case(pattern: "[^]abc]def", literal: "def", example: "xdef"),
        Case(pattern: #"[\Q]\E]xyz"#, literal: "xyz", example: "]xyz"),
        Case(pattern: #"[\Q\E]xyz]"#, literal: nil, example: "y"),
        Case(pattern: #"\d{2,3}abc"#, literal: "abc", example: "12abc"),
        Case(pattern: #"\x41BC"#, literal: "ABC", example: "ABC"),
        Case(pattern: #"\x{263a}abc"#, options: .utf, literal: "abc", example: "☺abc"),
        Case(pattern: #"abc\.com"#, literal: "abc.com", example: "abc.com"),
        Case(pattern: "a b c d", options: .extended, literal: "abcd", example: "abcd"),
        Case(pattern: "a b c # comment xyzw\n d", options: .extended, literal: "abcd", example: "abcd"),
        Case(pattern: "abc # x\n d?", options: .extended, literal: "abc", example: "abc"),
        Case(pattern: "ab c +d", options: .extended, literal: "abc", example: "abccd"),
        Case(pattern: "abc\nd?", options: .extended, literal: "abc", example: "abc"),
        Case(pattern: "abc #\n ?", options: .extended, literal: nil, example: "ab"),
        Case(pattern: #"ab\ c"#, options: .extended, literal: "ab c", example: "ab c"),
        Case(pattern: "look(?=ahead)xyz", literal: "look", example: nil),
        Case(pattern: "(?<=pre)fix", literal: "fix", example: "prefix"),
        Case(pattern: "mask", options: .caseless, literal: "mask", example: "MASK"),
        Case(pattern: "mask", options: [.caseless, .utf], literal: nil, example: "MAS\u{212A}"),
        Case(pattern: "ümlaut", options: .utf, literal: "ümlaut", example: "ümlaut"),
        Case(pattern: "ü?mlaut", options: .utf, literal: "mlaut", example: "mlaut"),
        Case(pattern: "ü?mlaut", literal: "mlaut", example: "ümlaut"),
        Case(pattern: "café", options: [.caseless, .utf], literal: "caf", example: "CAFÉ"),
        Case(pattern: #"price: \$\d+"#, literal: "price: $", example: "price: $5"),
        Case(pattern: "abc{,3}", literal: nil, example: nil),
        Case(pattern: "x(?#comment)yz", literal: nil, example: "xyz"),
        Case(pattern: "abcd(?#x)?ef", literal: "abc", example: "abcef"),
        Case(pattern: #"abcd\E?xy"#, literal: "abc", example: "abcxy"),
        Case(pattern: "abc\u{85}def", options: [.extended, .utf], literal: "abc", example: "abcdef"),
        Case(pattern: "abc\u{2029}def", options: [.extended, .utf], literal: "abc", example: "abcdef"),
        Case(pattern: "ab(?#c)?cd", literal: nil, example: "acd"),
        Case(pattern: "a.b.c", literal: nil, example: "a-b-c"),
        Case(pattern: #"free\s*(?:money|cash)"#, literal: "free", example: "free cash"),
        Case(pattern: "^Subject: .*win", options: .multiline, literal: "Subject: ", example: "x\nSubject: you win"),
        Case(pattern: #"\bwww\.[a-z]+\.ru\b"#, literal: "www.", example: "www.spam.ru"),
        Case(pattern: #"\141bc"#, literal: nil, example: "abc"),
        Case(pattern: #"\cAbcd"#, literal: "bcd", example: "\u{01}bcd"),
        Case(pattern: #"(?<n>a)\k<n>xyz"#, literal: "xyz", example: "aaxyz"),
        Case(pattern: #"(a)\g{1}xyz"#, literal: "xyz", example: "aaxyz"),
        Case(pattern: "(?x) a b c", literal: nil, example: "abc"),
        Case(pattern: "a(?x: b c)def", literal: nil, example: "abcdef"),
        Case(pattern: "(a#)|zzz\n)abcd", options: .extended, literal: "abcd", example: "aabcd"),
        Case(pattern: "(a)?bcd", literal: "bcd", example: "bcd"),
        Case(pattern: "ab(c|d)+efg", literal: "efg", example: "abcdefg"),
        Case(pattern: "abc$", literal: "abc", example: "abc"),
        Case(pattern: "a\\nbc", literal: "a\nbc", example: "a\nbc"),
        Case(pattern: "\\tabc", literal: "\tabc", example: "\tabc"),
        Case(pattern: "abx{1,}c{2}def", literal: "cdef", example: "abxxccdef"),
        Case(pattern: "abx{1,}c{2}d", literal: "abx", example: "abxxccd"),
        Case(pattern: "abc+?d", literal: "abc", example: "abcccd"),
        Case(pattern: "abc*+d", literal: nil, example: "abd"),
        Case(pattern: "ab{x}cd", literal: "x}cd", example: "ab{x}cd"),
        Case(pattern: "a{ 2}bc", literal: nil, example: nil),
        Case(pattern: "xa{2, 3}bc", literal: nil, example: nil),
    ]

    @Test(arguments: cases)
    func findsOnlyALiteralEveryMatchContains(_ test: Case) throws {
        let regex = try Regex8(test.pattern, options: test.options)
        let expected = test.literal.map { [UInt8]($0) }.map {
            test.options.contains(.caseless) ? $0.map(foldASCII) : $0
        }
        #expect(regex.requiredLiteral == expected)
        if let example = test.example {
            let subject = [UInt8](example)
            #expect(RegexMatcher().firstMatch(regex, in: subject).range != nil, "example must match")
            if let literal = regex.requiredLiteral {
                #expect(containsLiteral(subject, literal, caseless: test.options.contains(.caseless)))
                #expect(regex.mayMatch(subject))
            }
        }
    }

    /// Every table pattern against subjects derived from its example: single-byte deletions,
    /// case flips and random edits. A match must imply the literal is present.
    @Test(arguments: cases)
    func matchImpliesLiteralOnMutatedSubjects(_ test: Case) throws {
        let regex = try Regex8(test.pattern, options: test.options)
        guard let literal = regex.requiredLiteral, let example = test.example else { return }
        let caseless = test.options.contains(.caseless)
        let matcher = RegexMatcher()
        let seed = [UInt8](example)
        var subjects: [[UInt8]] = []
        for index in seed.indices {
            var deleted = seed
            deleted.remove(at: index)
            subjects.append(deleted)
            var flipped = seed
            if (0x41...0x5A).contains(seed[index]) || (0x61...0x7A).contains(seed[index]) { flipped[index] ^= 0x20 }
            subjects.append(flipped)
        }
        var generator = SplitMix64(seed: test.pattern.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) })
        let alphabet = Array(Set(seed + literal + [UInt8](" \n.-#")))
        for _ in 0..<2_000 {
            var subject = seed
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let position = subject.isEmpty ? 0 : Int(generator.next() % UInt64(subject.count))
                let byte = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                switch generator.next() % 3 {
                case 0 where !subject.isEmpty: subject[position] = byte
                case 1 where !subject.isEmpty: subject.remove(at: position)
                default: subject.insert(byte, at: position)
                }
            }
            subjects.append(subject)
        }
        for subject in subjects where !test.options.contains(.utf) || Regex8.isValidUTF8(subject) {
            let present = containsLiteral(subject, literal, caseless: caseless)
            #expect(regex.mayMatch(subject) == present)
            if matcher.firstMatch(regex, in: subject).range != nil {
                #expect(present, "\(String(decoding: subject, as: UTF8.self).debugDescription)")
            }
        }
    }

    /// Random patterns from a small token set against random subjects over a small alphabet,
    /// so that matches are frequent: whenever a literal is claimed, a match implies it.
    @Test func randomPatternsNeverClaimAWrongLiteral() {
        let tokens = [
            "a", "b", "c", "a", "b", "c", " ", "#", "\n", "?", "*", "+", "{2}", "{0,2}", "{1,}", "(", ")", "(?:",
            "|", "[ab]", "[]a]", ".", #"\b"#, #"\Q"#, #"\E"#, #"\."#, "(?#x)", "^", "$", #"\s"#, "{", "}", "(?i)",
            "(?=a)", "\\", "(?<=b)", "[[:alpha:]]", #"\x61"#, "(*ACCEPT)",
        ]
        let checked = checkRandomPatterns(tokens: tokens, alphabet: Array("abcABC .\n#{}".utf8), seed: 42) {
            $0.requiredLiteral.map { [$0] }
        }
        #expect(checked > 100)
    }

    @Test func prefilterFindsLiteralAnywhere() throws {
        let regex = try Regex8(#"\bfree\s+money"#, options: .caseless)
        #expect(regex.requiredLiteral == [UInt8]("money"))
        var subject = [UInt8](repeating: UInt8(ascii: "x"), count: 10_000)
        #expect(!regex.mayMatch(subject))
        subject.replaceSubrange(9_995..<10_000, with: [UInt8]("MoNeY"))
        #expect(regex.mayMatch(subject))
        #expect(!regex.mayMatch([UInt8]("mone")))
        #expect(try Regex8("a.b").mayMatch([]))
    }
}

func foldASCII(_ byte: UInt8) -> UInt8 {
    (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
}

/// The naive search the prefilter is checked against.
func containsLiteral(_ subject: [UInt8], _ literal: [UInt8], caseless: Bool) -> Bool {
    guard literal.count <= subject.count else { return false }
    func fold(_ byte: UInt8) -> UInt8 { caseless ? foldASCII(byte) : byte }
    for start in 0...(subject.count - literal.count)
    where literal.indices.allSatisfy({ fold(subject[start + $0]) == fold(literal[$0]) }) {
        return true
    }
    return false
}

/// Random patterns from `tokens` against random subjects over `alphabet` (half of them holding
/// a claimed literal, maybe cut short), so that matches are frequent: whenever `claims` gives
/// literals for a regex, each match holds one of them. Returns how many regexes made a claim.
func checkRandomPatterns(
    tokens: [String], alphabet: [UInt8], seed: UInt64, claims: (Regex8) -> [[UInt8]]?
) -> Int {
    var generator = SplitMix64(seed: seed)
    var checked = 0
    let matcher = RegexMatcher()
    for _ in 0..<3_000 {
        let length = 3 + Int(generator.next() % 10)
        let pattern = (0..<length).map { _ in tokens[Int(generator.next() % UInt64(tokens.count))] }.joined()
        let options = RegexOptions(rawValue: UInt32(generator.next() % 16))  // caseless, multiline, dotAll, extended
        guard let regex = try? Regex8(pattern, options: options), let literals = claims(regex) else { continue }
        checked += 1
        for _ in 0..<300 {
            var subject = (0..<Int(generator.next() % 12)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            if generator.next() % 2 == 0 {
                let literal = literals[Int(generator.next() % UInt64(literals.count))]
                let position = Int(generator.next() % UInt64(subject.count + 1))
                subject.insert(contentsOf: literal.dropLast(Int(generator.next() % 2)), at: position)
            }
            if matcher.firstMatch(regex, in: subject).range != nil {
                #expect(
                    literals.contains { containsLiteral(subject, $0, caseless: options.contains(.caseless)) },
                    "\(pattern.debugDescription) \(options.rawValue) claims \(literals) on \(subject)")
            }
        }
    }
    return checked
}
