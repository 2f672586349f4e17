import PCRE2
import Testing

/// Flag behaviour checked against Perl 5.36: each expected range is `$-[0]..<$+[0]` from
/// `perl -e '"subject" =~ qr/pattern/flags'`.
@Suite struct PerlFlagTests {
    struct Fixture: CustomTestStringConvertible, Sendable {
        var literal: String
        var subject: String
        var expected: Range<Int>?
        var testDescription: String { "\(literal.debugDescription) on \(subject.debugDescription)" }
    }

    static let fixtures: [Fixture] = [
        .init(literal: "/hello/", subject: "Say HELLO", expected: nil),
        .init(literal: "/hello/i", subject: "Say HELLO", expected: 4..<9),
        .init(literal: "/^world/", subject: "hello\nworld", expected: nil),
        .init(literal: "/^world/m", subject: "hello\nworld", expected: 6..<11),
        .init(literal: "/hello$/", subject: "hello\nworld", expected: nil),
        .init(literal: "/hello$/m", subject: "hello\nworld", expected: 0..<5),
        .init(literal: "/world$/", subject: "hello\nworld\n", expected: 6..<11),
        .init(literal: #"/world\z/"#, subject: "hello\nworld\n", expected: nil),
        .init(literal: "/a.b/", subject: "a\nb", expected: nil),
        .init(literal: "/a.b/s", subject: "a\nb", expected: 0..<3),
        .init(literal: "/a b c/x", subject: "abc", expected: 0..<3),
        .init(literal: "/a b c/", subject: "abc", expected: nil),
        .init(literal: "/a\\ b # comment\n c/x", subject: "a bc", expected: 0..<4),
        .init(literal: "/a[ ]b/x", subject: "a b", expected: 0..<3),
        .init(literal: #"/\bfree\b/i"#, subject: "Totally FREE!", expected: 8..<12),
        .init(literal: "m{^subject:.*viagra}im", subject: "From: x\nSubject: Cheap VIAGRA now", expected: 8..<29),
        .init(literal: "m{^subject:.*viagra}i", subject: "From: x\nSubject: Cheap VIAGRA now", expected: nil),
        .init(literal: "/a#b/", subject: "a#b", expected: 0..<3),
        .init(literal: "/a#b/x", subject: "a#b", expected: 0..<1),
        .init(literal: #"/\Aabc/m"#, subject: "x\nabc", expected: nil),
        .init(literal: "/fo+?/", subject: "foooo", expected: 0..<2),
        .init(literal: "/.+/", subject: "ab\ncd", expected: 0..<2),
        .init(literal: "/.+/s", subject: "ab\ncd", expected: 0..<5),
        .init(literal: "/^.+$/ms", subject: "ab\ncd", expected: 0..<5),
        .init(literal: "/^b.$/m", subject: "a\nbc\nd", expected: 2..<4),
        .init(literal: "/c l i c k/xi", subject: "CLICK here", expected: 0..<5),
        .init(literal: #"m!http://\S+!"#, subject: "see http://x.example/a b", expected: 4..<22),
        .init(literal: #"/\$\d+(?:\.\d\d)?/"#, subject: "only $19.99 today", expected: 5..<11),
    ]

    @Test(arguments: fixtures)
    func matchesLikePerl(_ fixture: Fixture) throws {
        let regex = try Regex8(perlLiteral: fixture.literal)
        let outcome = RegexMatcher().firstMatch(regex, in: [UInt8](fixture.subject))
        #expect(outcome == (fixture.expected.map { .match($0) } ?? .noMatch))
    }

    @Test func optionsMapToFlags() throws {
        let regex = try Regex8(perlLiteral: "/x/imsx")
        #expect(regex.options == [.caseless, .multiline, .dotAll, .extended])
        #expect(try Regex8("abc", options: .caseless).pattern == "abc")
    }

    @Test func matchStartsAtOffset() throws {
        let regex = try Regex8("ab")
        let matcher = RegexMatcher()
        let subject = [UInt8]("ab ab")
        #expect(matcher.firstMatch(regex, in: subject, from: 1) == .match(3..<5))
        #expect(matcher.firstMatch(regex, in: subject, from: 4) == .noMatch)
        #expect(matcher.firstMatch(regex, in: subject, from: 6) == .error(-33))
        #expect(matcher.firstMatch(regex, in: subject, from: -1) == .error(-33))
    }

    @Test func emptySubjects() throws {
        let matcher = RegexMatcher()
        #expect(matcher.firstMatch(try Regex8("^$"), in: []) == .match(0..<0))
        #expect(matcher.firstMatch(try Regex8("a"), in: []) == .noMatch)
        #expect(matcher.firstMatch(try Regex8("^$"), in: UnsafeRawBufferPointer(start: nil, count: 0)) == .match(0..<0))
    }

    @Test func bytesThatAreNotUTF8MatchWithoutUTF() throws {
        let regex = try Regex8(#"\xff\xfe+"#)
        #expect(RegexMatcher().firstMatch(regex, in: [0x41, 0xFF, 0xFE, 0xFE, 0x42]) == .match(1..<4))
    }

    @Test func leadingUTFVerbIsRefusedForByteRegexes() {
        // Otherwise a byte regex would start validating (and rejecting) non-UTF-8 bodies.
        #expect(throws: RegexError.self) { try Regex8("(*UTF)abc") }
        #expect(throws: Never.self) { try Regex8("(*UTF)abc", options: .utf) }
    }
}
