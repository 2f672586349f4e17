import Foundation
import PCRE2
import Testing

@Suite struct MatcherTests {
    static let catastrophicSubject = [UInt8](String(repeating: "a", count: 30) + "b")

    @Test(arguments: ["(a+)+$", "(*NO_JIT)(a+)+$"])
    func catastrophicBacktrackingHitsTheLimit(_ pattern: String) throws {
        let regex = try Regex8(pattern)
        #expect(regex.isJITCompiled == !pattern.hasPrefix("(*NO_JIT)"))
        let matcher = RegexMatcher()
        let started = ContinuousClock.now
        let outcome = matcher.firstMatch(regex, in: Self.catastrophicSubject)
        let elapsed = ContinuousClock.now - started
        #expect(outcome == .limitExceeded)
        #expect(elapsed < .seconds(1))
        #expect(matcher.countMatches(regex, in: Self.catastrophicSubject, maximum: 5) == (0, true))
        // The matcher stays usable after a limit.
        #expect(matcher.firstMatch(try Regex8("b$"), in: Self.catastrophicSubject) == .match(30..<31))
    }

    @Test func limitsComeFromTheMatcher() throws {
        // 2^12 backtracking paths: fine under the default limit, not under a limit of 100.
        let subject = [UInt8](String(repeating: "a", count: 12) + "b")
        for pattern in ["(a+)+$", "(*NO_JIT)(a+)+$"] {
            let regex = try Regex8(pattern)
            #expect(RegexMatcher().firstMatch(regex, in: subject) == .noMatch)
            #expect(RegexMatcher(matchLimit: 100).firstMatch(regex, in: subject) == .limitExceeded)
        }
        // The interpreter's depth grows with each iteration of a group.
        let deep = [UInt8](String(repeating: "ab", count: 2_000) + "c")
        let interpreted = try Regex8("(*NO_JIT)(a|b)*c")
        #expect(RegexMatcher().firstMatch(interpreted, in: deep) == .match(0..<4_001))
        #expect(RegexMatcher(depthLimit: 50).firstMatch(interpreted, in: deep) == .limitExceeded)
    }

    @Test func deepRecursionUsesTheMatchersJITStack() throws {
        // About 64 bytes of JIT stack per iteration: deeper than the JIT's default 32 KiB machine
        // stack allows, within the 1 MiB default.
        let regex = try Regex8("(a|b)*c")
        #expect(regex.isJITCompiled)
        let subject = [UInt8](String(repeating: "ab", count: 5_000) + "c")
        #expect(RegexMatcher().firstMatch(regex, in: subject) == .match(0..<10_001))
        #expect(RegexMatcher(jitStackSize: 32 * 1024).firstMatch(regex, in: subject) == .limitExceeded)
    }

    @Test func moreGroupsThanTheMatchDataHoldsStillGiveTheWholeMatch() throws {
        let matcher = RegexMatcher()
        let subject = [UInt8]("xx abcd")
        #expect(matcher.firstMatch(try Regex8("(a)(b)(c)(d)"), in: subject) == .match(3..<7))
        #expect(matcher.firstMatch(try Regex8("(*NO_JIT)(a)(b)(c)(d)"), in: subject) == .match(3..<7))
        #expect(matcher.firstMatch(try Regex8("b"), in: subject) == .match(4..<5))
    }

    struct CountCase: Sendable, CustomTestStringConvertible {
        var pattern: String
        var subject: String
        var expected: Int
        var testDescription: String { "\(pattern) on \(subject.debugDescription)" }
    }

    /// Expected counts are Perl's `scalar(() = $subject =~ /pattern/g)`.
    @Test(arguments: [
        CountCase(pattern: "x*", subject: "abc", expected: 4),
        CountCase(pattern: "a*", subject: "aab", expected: 3),
        CountCase(pattern: "", subject: "abc", expected: 4),
        CountCase(pattern: "\\b", subject: "ab cd", expected: 4),
        CountCase(pattern: "a|", subject: "aba", expected: 4),
        CountCase(pattern: "free", subject: "free FREE free", expected: 2),
        CountCase(pattern: "(?i)free", subject: "free FREE free", expected: 3),
        CountCase(pattern: "aa", subject: "aaaaa", expected: 2),
        CountCase(pattern: "^", subject: "a\nb\nc", expected: 1),
        CountCase(pattern: "(?m)^", subject: "a\nb\nc", expected: 3),
        CountCase(pattern: "x*", subject: "", expected: 1),
    ])
    func countsLikePerlGlobalMatch(_ test: CountCase) throws {
        let result = RegexMatcher().countMatches(try Regex8(test.pattern), in: [UInt8](test.subject), maximum: 100)
        #expect(result.count == test.expected)
        #expect(!result.limitExceeded)
    }

    @Test func countStopsAtMaximum() throws {
        let regex = try Regex8("a")
        let subject = [UInt8](repeating: UInt8(ascii: "a"), count: 50)
        #expect(RegexMatcher().countMatches(regex, in: subject, maximum: 7) == (7, false))
        #expect(RegexMatcher().countMatches(regex, in: subject, maximum: 0) == (0, false))
    }

    @Test func emptyMatchesAdvanceByCharacterUnderUTF() throws {
        // Perl (use utf8): () = "ü€x" =~ /(?:)/g gives 4: one per character boundary.
        let regex = try Regex8("", options: .utf)
        #expect(RegexMatcher().countMatches(regex, in: [UInt8]("ü€x"), maximum: 100) == (4, false))
    }

    @Test func wordCharacterIsUnicodeOnlyWithUTF() throws {
        let matcher = RegexMatcher()
        let subject = [UInt8]("ü")
        #expect(subject == [0xC3, 0xBC])
        #expect(matcher.firstMatch(try Regex8(#"^\w+$"#), in: subject) == .noMatch)
        #expect(matcher.firstMatch(try Regex8(#"^\w+$"#, options: .utf), in: subject) == .match(0..<2))
        #expect(matcher.firstMatch(try Regex8("^.$"), in: subject) == .noMatch)
        #expect(matcher.firstMatch(try Regex8("^.$", options: .utf), in: subject) == .match(0..<2))
        #expect(matcher.firstMatch(try Regex8("Ü", options: [.utf, .caseless]), in: subject) == .match(0..<2))
        #expect(matcher.firstMatch(try Regex8(#"\bfür\b"#, options: .utf), in: [UInt8]("x für y")) == .match(2..<6))
    }

    @Test func utfPatternMustBeValidForUTFRegexes() {
        #expect(throws: Never.self) { try Regex8("€+", options: .utf) }
        // In byte mode the quantifier binds to the last byte of €.
        let bytes = try? Regex8("€+")
        #expect(bytes.map { RegexMatcher().firstMatch($0, in: [0xE2, 0x82, 0xAC, 0xAC]) } == .match(0..<4))
    }

    @Test(arguments: [
        ([UInt8]("plain ascii"), true),
        ([UInt8]("ü€𝄞"), true),
        ([0xC3], false),
        ([0xC0, 0x80], false),
        ([0xE0, 0x80, 0x80], false),
        ([0xED, 0xA0, 0x80], false),
        ([0xF4, 0x90, 0x80, 0x80], false),
        ([0xF5, 0x80, 0x80, 0x80], false),
        ([0x80], false),
        ([UInt8]("12345678ü12345678"), true),
        ([UInt8]("1234567\u{FF}") + [0xFF], false),
    ] as [([UInt8], Bool)])
    func validatesUTF8(_ bytes: [UInt8], _ valid: Bool) {
        #expect(Regex8.isValidUTF8(bytes) == valid)
    }

    @Test func validationAgreesWithTheStandardLibrary() {
        var generator = SplitMix64(seed: 7)
        let alphabet: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 12)
            let bytes = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(Regex8.isValidUTF8(bytes) == expected, "\(bytes)")
        }
    }
}

/// A small deterministic generator, so a failing property case can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
