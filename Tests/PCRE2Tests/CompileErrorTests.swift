import PCRE2
import Testing

@Suite struct CompileErrorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var pattern: String
        var offset: Int
        var message: String
        var testDescription: String { pattern.debugDescription }
    }

    /// Messages and offsets are PCRE2 10.42's, as `pcre2test` prints them.
    @Test(arguments: [
        Case(pattern: "abc(def", offset: 7, message: "missing closing parenthesis"),
        Case(pattern: "a{3,1}", offset: 5, message: "numbers out of order in {} quantifier"),
        Case(pattern: "[z-a]", offset: 3, message: "range out of order in character class"),
        Case(pattern: "*abc", offset: 0, message: "quantifier does not follow a repeatable item"),
        Case(pattern: "abc\\", offset: 4, message: "\\ at end of pattern"),
        Case(pattern: "(?<n>a)(?<n>b)", offset: 12, message: "two named subpatterns have the same name (PCRE2_DUPNAMES not set)"),
    ])
    func carriesPCRE2MessageAndOffset(_ test: Case) {
        #expect {
            try Regex8(test.pattern)
        } throws: { error in
            let error = error as! RegexError
            return error.pattern == test.pattern && error.offset == test.offset && error.message == test.message
        }
    }

    @Test func descriptionNamesPatternMessageAndOffset() {
        let error = RegexError(pattern: "a(", offset: 2, message: "missing closing parenthesis")
        #expect(error.description == #"regex "a(": missing closing parenthesis at offset 2"#)
    }

    @Test func matchErrorCodesHaveMessages() {
        #expect(RegexError.message(forCode: -47) == "match limit exceeded")
        #expect(RegexError.message(forCode: 12345) == "unknown PCRE2 error 12345")
    }
}
