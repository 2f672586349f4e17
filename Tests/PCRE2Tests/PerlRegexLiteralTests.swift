import PCRE2
import Testing

@Suite struct PerlRegexLiteralTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var literal: String
        var pattern: String
        var options: RegexOptions
        var testDescription: String { literal.debugDescription }
    }

    @Test(arguments: [
        Case(literal: "/abc/", pattern: "abc", options: []),
        Case(literal: "  /abc/i  ", pattern: "abc", options: .caseless),
        Case(literal: "m/abc/ms", pattern: "abc", options: [.multiline, .dotAll]),
        Case(literal: "m{a{2}b}x", pattern: "a{2}b", options: .extended),
        Case(literal: "m(a(b)c)", pattern: "a(b)c", options: []),
        Case(literal: "m[[ab]c]", pattern: "[ab]c", options: []),
        Case(literal: "m<a<b>>", pattern: "a<b>", options: []),
        Case(literal: "m!http://x!i", pattern: "http://x", options: .caseless),
        Case(literal: "m#a/b#", pattern: "a/b", options: []),
        Case(literal: "m|a\\|b|", pattern: "a\\|b", options: []),
        Case(literal: #"/a\/b/"#, pattern: #"a\/b"#, options: []),
        Case(literal: #"m{a\}b}"#, pattern: #"a\}b"#, options: []),
        Case(literal: #"/a\\/"#, pattern: #"a\\"#, options: []),
        Case(literal: "/abc/gio", pattern: "abc", options: .caseless),
        Case(literal: "/abc/ii", pattern: "abc", options: .caseless),
    ])
    func parses(_ test: Case) throws {
        let literal = try PerlRegexLiteral(parsing: test.literal)
        #expect(literal.pattern == test.pattern)
        #expect(literal.options == test.options)
    }

    @Test func escapedDelimiterMatchesTheDelimiter() throws {
        let matcher = RegexMatcher()
        #expect(matcher.firstMatch(try Regex8(perlLiteral: #"/a\/b/"#), in: [UInt8]("xa/b")) == .match(1..<4))
        // An escaped | stays literal rather than becoming an alternation.
        let bar = try Regex8(perlLiteral: "m|a\\|b|")
        #expect(matcher.firstMatch(bar, in: [UInt8]("a|b")) == .match(0..<3))
        #expect(matcher.firstMatch(bar, in: [UInt8]("b")) == .noMatch)
    }

    @Test func badFlagsAreNamed() {
        #expect {
            try Regex8(perlLiteral: "/abc/ie")
        } throws: { error in
            let error = error as! RegexError
            return error.message.contains("'e'") && error.offset == 6 && error.pattern == "/abc/ie"
        }
        #expect {
            try PerlRegexLiteral(parsing: "/abc/uar")
        } throws: { error in
            (error as! RegexError).message.contains("'u', 'a', 'r'")
        }
        #expect {
            try PerlRegexLiteral(parsing: "/a b/xx")
        } throws: { error in
            (error as! RegexError).message.contains("'xx'")
        }
    }

    @Test(arguments: ["/abc", "m{abc", "m{a{b}", #"/abc\/"#, "m!abc", "/"])
    func unterminated(_ literal: String) {
        #expect {
            try PerlRegexLiteral(parsing: literal)
        } throws: { error in
            (error as! RegexError).message.contains("unterminated")
        }
    }

    @Test(arguments: ["", "   ", "abc", "mabcm", "m abc ", "\\abc\\", "//", "m{}"])
    func notALiteral(_ literal: String) {
        #expect(throws: RegexError.self) { try PerlRegexLiteral(parsing: literal) }
    }

    @Test func compileErrorsInsideALiteralPointIntoThePattern() {
        #expect {
            try Regex8(perlLiteral: "m{abc(def}i")
        } throws: { error in
            let error = error as! RegexError
            return error.pattern == "abc(def" && error.offset == 7 && error.message == "missing closing parenthesis"
        }
    }
}
