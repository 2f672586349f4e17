import Testing

@testable import PCRE2

/// Spellings of literals and small classes: every match of the regex holds one of them.
@Suite struct RequiredAlternativesTests {
    static func spellings(_ pattern: String, _ options: RegexOptions = []) throws -> Set<String>? {
        try Regex8(pattern, options: options).requiredAlternatives.map { Set($0.map { String(decoding: $0, as: UTF8.self) }) }
    }

    @Test func smallClassesAreSpelledOut() throws {
        #expect(try Self.spellings("v[i1]agr[a@]") == ["viagra", "v1agra", "viagr@", "v1agr@"])
        #expect(try Self.spellings("c[i1]al[i1]s", .caseless) == ["cialis", "c1alis", "cial1s", "c1al1s"])
        #expect(try Self.spellings(#"w[\.,]x"#) == ["w.x", "w,x"])
        // A class repeated at least once: its last repetition starts the next run.
        #expect(try Self.spellings("x[ab]+cd") == ["acd", "bcd"])
        // The longest run wins; the required literal stays the longest plain run.
        let regex = try Regex8("fr[e3][e3] n[o0]w")
        #expect(regex.requiredLiteral == nil)
        let spelled = try #require(try Self.spellings("fr[e3][e3] n[o0]w"))
        #expect(spelled.count == 8 && spelled.contains("free now") && spelled.contains("fr33 n0w"))
        // Case-folded duplicates collapse.
        #expect(try Self.spellings("a[bB]c", .caseless) == ["abc"])
    }

    @Test func otherClassesBreakTheRun() throws {
        #expect(try Self.spellings("ab[^c]de") == nil)
        #expect(try Self.spellings("ab[a-z]de") == nil)
        #expect(try Self.spellings(#"ab[\d]de"#) == nil)
        #expect(try Self.spellings("ab[abcde]de") == nil)
        #expect(try Self.spellings("ab[cd]?ef") == nil)
        #expect(try Self.spellings("a|b[cd]ef") == nil)
        // Under Unicode caseless matching s and k also match non-ASCII characters.
        #expect(try Self.spellings("ab[st]x", [.caseless, .utf]) == nil)
    }

    @Test func tooManySpellingsStartAgain() throws {
        // 2^5 spellings would be too many: the run restarts at the class that overflows.
        let found = try #require(try Regex8("[ab][cd][ef][gh][ij]k").requiredAlternatives)
        #expect(found.count <= RequiredLiteral.maximumAlternatives)
        #expect(found.allSatisfy { $0.count == found[0].count && $0.count >= 3 })
    }

    /// Random patterns of letters, small classes and quantifiers against random subjects:
    /// whenever spellings are claimed, a match holds one of them.
    @Test func randomPatternsNeverClaimWrongSpellings() {
        let tokens = [
            "a", "b", "c", "a", "b", "[ab]", "[bc]", "[a1]", "[.,]", "[ab]", "?", "*", "+", "{2}", "{0,2}", "{1,}", "(",
            ")", "(?:", "|", ".", #"\."#, "^", "$", #"\s"#, "[^a]", "[a-c]", " ", "#", "\\Q", "\\E", "{",
        ]
        let checked = checkRandomPatterns(tokens: tokens, alphabet: Array("abcABC1.,# ".utf8), seed: 7) {
            $0.requiredAlternatives
        }
        #expect(checked > 100)
    }
}
