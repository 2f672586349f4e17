import Foundation
import Testing

@testable import WardenPolicy

/// Regex features in content rules, matched as Perl (SpamAssassin) matches them.
@Suite struct ContentRegexTests {
    /// (body pattern, the one body line, whether Perl matches): the required literal a screen
    /// looks for must be one every match contains, whatever the quantifiers, flags and escapes.
    @Test(arguments: [
        ("/c h e a p/x", "cheap", true),
        ("/wxyz{0}/", "wxy", true),
        ("/wxyz?/", "wxy", true),
        ("/wxyz*/", "wxy", true),
        ("/wx(?:yz)?q/", "wxq", true),
        ("/abc|xyz/", "xyz", true),
        ("/(?i)cheap/", "CHEAP", true),
        ("/CHEAP/", "cheap", false),
        ("/cheap/i", "ChEaP", true),
        ("/che\\x61p/", "cheap", true),
        ("/ab\\Kcde/", "abcde", true),
        ("/abc(?=def)/", "abcdef", true),
        ("/(?<=abc)def/", "abcdef", true),
        ("/a\\.b\\.c/", "a.b.c", true),
        ("/a\\.b\\.c/", "axbxc", false),
        ("/foo{2}bar/", "fooobar", true),
        ("/foo{2}bar/", "foobar", false),
        ("/fo{2,}bar/", "foooobar", true),
        ("/ab(?i)cd/", "abCD", true),
        ("/x{3}yz/", "xxxyz", true),
        ("/\\x{41}BC/", "ABC", true),
        ("/\\101BC/", "ABC", true),
        ("/[[:alpha:]]bcd/", "xbcd", true),
        ("/(abc)\\1/", "abcabc", true),
        ("/abc(?x) d e f/", "abcdef", true),
        ("/abc(?-i)DEF/i", "ABCDEF", true),
        ("/abc(?-i)DEF/i", "ABCdef", false),
        ("/a(?i:BC)DEF/", "abcDEF", true),
        ("/cheap\\Bs/", "cheaps", true),
        ("/(?|abc|xyz)/", "xyz", true),
        ("m{ab{2}c}", "abbc", true),
        ("m!a/b!", "a/b", true),
    ])
    func theLiteralScreenNeverHidesAMatch(pattern: String, line: String, hits: Bool) throws {
        let set = try contentRuleSet("body B_TEST \(pattern)\ntflags B_TEST nosubject")
        let result = try contentScan(set, "Subject: s\n\n\(line)\n")
        #expect(contentCounts(result) == (hits ? ["B_TEST": 1] : [:]))
    }

    /// DEFECT: SpamAssassin unescapes `\#` after removing comments (Conf/Parser.pm:271,
    /// `s/\\#/#/g`), so a rule's regex sees `#`. `RuleFileReader.stripComment`
    /// (RuleFileReader.swift:166-175) keeps the backslash, so `(?\#...)` does not compile (the
    /// rule is not loaded) and under `/x` `\#` is a literal `#` instead of starting a comment.
    @Test(arguments: [
        ("/ab\\#cd/", "ab#cd", true),
        ("/abc(?\\#comment)def/", "abcdef", true),
        ("/abcd|(?\\#x)/", "zzzz", true),
        ("/a b \\# c/x", "ab", true),
    ])
    func anEscapedHashIsAHashAsInSpamAssassin(pattern: String, line: String, hits: Bool) throws {
        let set = try contentRuleSet("body B_TEST \(pattern)\ntflags B_TEST nosubject")
        let result = try contentScan(set, "Subject: s\n\n\(line)\n")
        #expect(contentCounts(result) == (hits ? ["B_TEST": 1] : [:]))
    }

    /// SpamAssassin matches UTF-8 text as bytes: `.` and `\w` are one byte, `/i` folds ASCII only.
    @Test func textIsMatchedAsUTF8Bytes() throws {
        let rules = """
            body B_W /caf\\w/
            body B_DOT /^caf.$/
            body B_DOT2 /^caf..$/
            body B_LIT /caf\u{e9}/
            body B_I /CAF\u{c9}/i
            rawbody RB_W /caf\\w/
            header H_W Subject =~ /caf\\w/
            header H_LIT Subject =~ /caf\u{e9}/
            """
        let message = "Subject: =?utf-8?q?caf=C3=A9?=\nContent-Type: text/plain; charset=utf-8\n\ncaf\u{e9}\n"
        let result = try contentScan(try contentRuleSet(rules), message)
        #expect(contentCounts(result) == ["B_DOT2": 1, "B_LIT": 1, "H_LIT": 1])
    }
}
