import Testing

@testable import WardenPolicy

/// The screen that lets a content rule run only when its required literal occurs: it must find
/// every literal that occurs (a miss hides a rule hit) and, ignoring ASCII case, only those.
@Suite struct LiteralScreenTests {
    func found(_ literals: [String], in texts: [String]) -> [Bool] {
        LiteralScreen(literals.map { Array($0.utf8) }).occurrences(in: texts.map { Array($0.utf8) })
    }

    /// (literals, texts, which literals are found)
    @Test(arguments: [
        (["cheap"], ["buy cheap pills"], [true]),
        (["cheap"], ["buy chea p pills"], [false]),
        (["cheap", "viagra", "pills"], ["buy cheap pills"], [true, false, true]),
        (["abc"], ["abc"], [true]),
        (["abc"], ["abcdef"], [true]),
        (["def"], ["abcdef"], [true]),
        (["abcdef"], ["abcdef"], [true]),
        (["abcdefg"], ["abcdef"], [false]),
        (["zabcdef"], ["abcdef"], [false]),
        (["bcd"], ["abcde"], [true]),
        (["aaa"], ["aa", "aab", "baa"], [false]),
        (["aaa"], ["baaab"], [true]),
        (["abab"], ["aababab"], [true]),
        (["abc"], [], [false]),
        (["abc"], ["", "a", "ab", "bc"], [false]),
        (["abc"], ["", "ab", "xabcx"], [true]),
        ([], ["abc"], []),
    ])
    func literalsInTexts(literals: [String], texts: [String], expected: [Bool]) {
        #expect(found(literals, in: texts) == expected)
    }

    /// ASCII letters match in either case; nothing else is folded.
    @Test(arguments: [
        ("cheap", "CHEAP", true),
        ("CHEAP", "cheap", true),
        ("ChEaP", "cHeAp", true),
        ("mixed-Case_1", "MIXED-case_1", true),
        ("a@b", "A@B", true),
        ("a[b", "A{B", false),
        ("a@b", "a`b", false),
        ("x^y", "X~Y", false),
        ("caf\u{e9}", "CAF\u{c9}", false),
        ("caf\u{e9}", "CAF\u{e9}", true),
        ("\u{e9}t\u{e9}", "\u{e9}T\u{e9}", true),
    ])
    func asciiCaseIsIgnored(literal: String, text: String, matches: Bool) {
        #expect(found([literal], in: [text]) == [matches])
    }

    @Test func aLiteralNeverSpansTwoTexts() {
        #expect(found(["abcdef"], in: ["xxabc", "defxx"]) == [false])
        #expect(found(["abcdef"], in: ["xxabc", "defxx", "..abcdef"]) == [true])
        #expect(found(["abc"], in: ["a", "b", "c", "ab", "c"]) == [false])
        #expect(found(["line\nnext"], in: ["line\n", "next"]) == [false])
        #expect(found(["line\nnext"], in: ["line\nnext"]) == [true])
    }

    @Test func literalsFoundInDifferentTexts() {
        let texts = ["first has alpha", "second has beta", "", "xy", "third has gamma at the end"]
        #expect(found(["alpha", "beta", "gamma", "delta", "at the end"], in: texts) == [true, true, true, false, true])
    }

    @Test func literalsSharingAThreeBytePrefix() {
        let literals = ["abc", "abcd", "abcx", "abcdefgh", "ABCdef", "abd"]
        #expect(found(literals, in: ["zzabcdzz"]) == [true, true, false, false, false, false])
        #expect(found(literals, in: ["abcdef"]) == [true, true, false, false, true, false])
        #expect(found(literals, in: ["abcx abcdefgh"]) == [true, true, true, true, true, false])
        #expect(found(literals, in: ["ab", "cd"]) == [false, false, false, false, false, false])
    }

    @Test func theSameLiteralTwiceIsFoundTwice() {
        #expect(found(["pills", "PILLS", "pills"], in: ["cheap Pills"]) == [true, true, true])
    }

    @Test func everyByteValue() {
        let all = (0...255).map(UInt8.init)
        let screen = LiteralScreen([[0x00, 0x01, 0x02], [0xFD, 0xFE, 0xFF], [0x0A, 0x0B, 0x0C], [0x5A, 0x5B, 0x5C], [0x40, 0x41, 0x42]])
        #expect(screen.occurrences(in: [all]) == [true, true, true, true, true])
        #expect(screen.occurrences(in: [Array(all.reversed())]) == [false, false, false, false, false])
        // "@ab" is "@AB" in another case; "z{|" is not "Z[\\" (only A-Z and a-z are folded).
        #expect(screen.occurrences(in: [[0x40, 0x61, 0x62], [0x7A, 0x7B, 0x7C], [0x5A, 0x5B, 0x5C]]) == [false, false, false, true, true])
    }

    // MARK: Against a brute-force search

    /// 1,000 random literals over a small alphabet (so that many occur, many share prefixes and
    /// many are found only in another case) give exactly what a plain search finds.
    @Test(arguments: [1, 2, 3])
    func manyRandomLiteralsAsABruteForceSearch(seed: UInt64) {
        var random = SplitMix(seed: seed)
        let alphabet = Array("abcABC xyz.".utf8)
        func text(_ length: Int) -> [UInt8] { (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] } }
        let literals = (0..<1000).map { _ in text(3 + Int(random.next() % 6)) }
        let texts = (0..<40).map { _ in text(Int(random.next() % 300)) }
        let substrings = everySubstring(of: texts, lengths: 3...8)
        let expected = literals.map { substrings.contains($0.map(lower)) }
        let screen = LiteralScreen(literals)
        #expect(screen.occurrences(in: texts) == expected)
        #expect(expected.contains(true) && expected.contains(false), "the case is not trivial")
        // Each text alone, too: a literal is found in a list of texts when it is in one of them.
        for text in texts.prefix(5) {
            #expect(screen.occurrences(in: [text]) == literals.map { bruteForceContains(text, $0) })
        }
    }

    /// Random bytes of every value, where hashed prefixes collide in the bitmap.
    @Test func randomBytesAsABruteForceSearch() {
        var random = SplitMix(seed: 42)
        func bytes(_ length: Int) -> [UInt8] { (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        let texts = (0..<20).map { _ in bytes(2000) }
        // Half of the literals are cut from the texts (in random case), half are random.
        var literals: [[UInt8]] = []
        for index in 0..<1000 {
            let length = 3 + Int(random.next() % 5)
            if index % 2 == 0 {
                let source = texts[Int(random.next() % UInt64(texts.count))]
                let start = Int(random.next() % UInt64(source.count - length))
                literals.append(source[start..<start + length].map { random.next() % 2 == 0 ? upper($0) : $0 })
            } else {
                literals.append(bytes(length))
            }
        }
        let substrings = everySubstring(of: texts, lengths: 3...7)
        let expected = literals.map { substrings.contains($0.map(lower)) }
        #expect(LiteralScreen(literals).occurrences(in: texts) == expected)
        #expect(expected.filter { $0 }.count >= 500)
    }

    func upper(_ byte: UInt8) -> UInt8 { (0x61...0x7A).contains(byte) ? byte - 0x20 : byte }

    func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte + 0x20 : byte }

    /// Every substring of `texts` of one of `lengths`, ASCII-lowercased.
    func everySubstring(of texts: [[UInt8]], lengths: ClosedRange<Int>) -> Set<[UInt8]> {
        var result = Set<[UInt8]>()
        for text in texts.map({ $0.map(lower) }) {
            for length in lengths where length <= text.count {
                for start in 0...(text.count - length) { result.insert(Array(text[start..<start + length])) }
            }
        }
        return result
    }

    /// Whether `literal` occurs in `text`, ignoring ASCII case.
    func bruteForceContains(_ text: [UInt8], _ literal: [UInt8]) -> Bool {
        guard literal.count <= text.count else { return false }
        for start in 0...(text.count - literal.count) where (0..<literal.count).allSatisfy({ lower(text[start + $0]) == lower(literal[$0]) }) {
            return true
        }
        return false
    }
}
