import Foundation
import PCRE2
import Testing

@testable import WardenPolicy

/// SpamAssassin content rules as `Rules/*.cf` writes them: what each line compiles to, which
/// are skipped as not supported (a warning) and which fail (a warning; the rest still loads).
@Suite struct ContentRuleParserTests {
    /// The one content rule of `line`, described.
    func compiled(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let outcome = loadRules(line)
        #expect(outcome.messages == [], sourceLocation: sourceLocation)
        let set = try #require(outcome.ruleSet, sourceLocation: sourceLocation)
        #expect(set.rules.count == 1, sourceLocation: sourceLocation)
        let rule = try #require(set.rules.first, sourceLocation: sourceLocation)
        #expect(rule.file == "Rules/10.cf" && rule.line == 1, sourceLocation: sourceLocation)
        guard case .content(let test) = rule.test else {
            Issue.record("\(rule.name) is not a content rule", sourceLocation: sourceLocation)
            return ""
        }
        return describeContentTest(test)
    }

    // MARK: header

    /// (the test after `header H_TEST`, what it compiles to)
    @Test(arguments: [
        ("Subject =~ /cheap/i", "header Subject =~ cheap (i)"),
        ("Subject !~ /cheap/", "header Subject !~ cheap"),
        ("Subject=~/cheap/", "header Subject =~ cheap"),
        ("Subject\t!~\tm{cheap}ims", "header Subject !~ cheap (ims)"),
        ("subject =~ /x/", "header Subject =~ x"),
        ("Subject: =~ /x/", "header Subject =~ x"),
        ("From:raw =~ /x/", "header From:raw =~ x"),
        ("From:addr =~ /x/", "header From:addr =~ x"),
        ("From:name =~ /x/", "header From:name =~ x"),
        ("Received:first =~ /x/", "header Received:first =~ x"),
        ("Received:last =~ /x/", "header Received:last =~ x"),
        ("From:first:addr =~ /x/", "header From:addr:first =~ x"),
        ("From:addr:raw =~ /x/", "header From:raw:addr =~ x"),
        ("X-Spam-Relays.Untrusted_2 =~ /x/", "header X-Spam-Relays.untrusted_2 =~ x"),
        ("exists:X-Mailer", "header exists X-Mailer"),
        ("exists:X-Mailer:", "header exists X-Mailer"),
        ("X-Foo =~ /^none$/ [if-unset: none]", "header X-Foo =~ ^none$ [if-unset: none]"),
        ("X-Foo !~ /^a b$/ [if-unset: a  b ]", "header X-Foo !~ ^a b$ [if-unset: a  b]"),
        ("X-Foo =~ /\\[if-unset: x\\]/", "header X-Foo =~ \\[if-unset: x\\]"),
        ("ALL =~ /^Received:/m", "header ALL =~ ^Received: (m)"),
        ("ALL:raw =~ /x/", "header ALL:raw =~ x"),
        ("all =~ /x/", "header All =~ x"),
        ("ToCc =~ /x/", "header ToCc =~ x"),
        ("tocc =~ /x/", "header ToCc =~ x"),
        ("ToCc:addr =~ /x/", "header ToCc:addr =~ x"),
        ("EnvelopeFrom =~ /x/", "header EnvelopeFrom =~ x"),
        ("envelopefrom:addr =~ /x/", "header EnvelopeFrom:addr =~ x"),
        ("MESSAGEID =~ /x/", "header MESSAGEID =~ x"),
        ("MessageId =~ /x/", "header Messageid =~ x"),
    ])
    func headerRules(test: String, description: String) throws {
        #expect(try compiled("header H_TEST \(test)") == description)
    }

    /// (line, what it compiles to)
    @Test(arguments: [
        ("body B_TEST /cheap\\s+pills/i", "body cheap\\s+pills (i)"),
        ("rawbody RB_TEST /<b>x<\\/b>/", "rawbody <b>x<\\/b>"),
        ("full F_TEST /^X-Mailer: x/m", "full ^X-Mailer: x (m)"),
        ("uri U_TEST /^https?:\\/\\/bit\\.ly\\//i", "uri ^https?:\\/\\/bit\\.ly\\/ (i)"),
        ("uri U_TEST m{^https?://bit\\.ly/}i", "uri ^https?://bit\\.ly/ (i)"),
        ("meta M_TEST (__A && !__B) || C > 1", "meta __A, __B, C"),
        ("BODY B_TEST /x/", "body x"),
    ])
    func otherRuleTypes(line: String, description: String) throws {
        #expect(try compiled(line) == description)
    }

    /// DEFECT: SpamAssassin accepts `qr/.../` and `qr{...}` as well as `m{...}` (Util.pm
    /// `compile_regexp`: `s/^(?:m|qr)([\{\(\<\[])//`). `ContentRuleParser.regex`
    /// means to turn `qr{...}` into `m{...}` but its `text.removeFirst()` removes only the `q`, so `r/x/` is refused: "a regex literal starts with / or with m and a delimiter".
    @Test(arguments: [
        ("body B_TEST qr/x/", "body x"),
        ("body B_TEST qr{x}i", "body x (i)"),
        ("header B_TEST Subject =~ qr!x!", "header Subject =~ x"),
    ])
    func qrLiteralsAsSpamAssassin(line: String, description: String) throws {
        #expect(try compiled(line) == description)
    }

    // MARK: Skipped: recognised but not supported

    /// (line, the reason it is skipped)
    @Test(arguments: [
        ("header H_TEST eval:check_for_missing_to_header()", "eval: test check_for_missing_to_header is not supported"),
        ("HEADER H_TEST eval:check_for_forged_received_trail()", "eval: test check_for_forged_received_trail is not supported"),
        ("header H_TEST rbleval:check_rbl_envfrom('x', 'bl.example.org.')", "eval: test check_rbl_envfrom is not supported"),
        ("body H_TEST eval:check_stock_info()", "eval: test check_stock_info is not supported"),
        ("rawbody H_TEST eval:check_iframe_src()", "eval: test check_iframe_src is not supported"),
        ("uri H_TEST eval:check_uri_truncated()", "eval: test check_uri_truncated is not supported"),
        ("full H_TEST eval:check_razor2()", "eval: test check_razor2 is not supported"),
        ("header H_TEST From:host =~ /x/", "header modifier :host is not supported"),
        ("header H_TEST From:addr:domain =~ /x/", "header modifier :domain is not supported"),
        ("header H_TEST X-Originating-IP:ip =~ /x/", "header modifier :ip is not supported"),
        ("header H_TEST Received:revip =~ /x/", "header modifier :revip is not supported"),
        ("mimeheader H_TEST Content-Type =~ /x/", "mimeheader rules are not supported"),
        ("uri_detail H_TEST host =~ /x/", "uri_detail rules are not supported"),
        ("askdns H_TEST _AUTHORDOMAIN_ A 127.0.0.2", "askdns rules are not supported"),
        ("meta H_TEST rules_matching(__DKIM_*)", "rules_matching() in meta rules is not supported"),
        ("body H_TEST /%{MYCAPTURE}/", "capture templates %{...} are not supported"),
    ])
    func skippedRules(line: String, reason: String) throws {
        let outcome = loadRules("\(line)\nbody OTHER /x/\nscore H_TEST 2\ndescribe H_TEST d\ntflags H_TEST multiple")
        #expect(outcome.messages == ["Rules/10.cf:1: warning: rule H_TEST skipped: \(reason)"])
        let set = try #require(outcome.ruleSet)
        #expect(set.skipped == ["H_TEST": reason])
        #expect(set.failed == [:])
        #expect(set.rules.map(\.name) == ["OTHER"])
    }

    // MARK: Failed: broken as written

    /// (line, the reason it is not loaded)
    @Test(arguments: [
        ("header H_TEST From:bogus =~ /x/", "unknown header modifier :bogus (raw, addr, name, first, last)"),
        ("header H_TEST From:RAW =~ /x/", "unknown header modifier :RAW (raw, addr, name, first, last)"),
        ("header H_TEST From:raw:addr:first =~ /x/", "From:raw:addr:first is not a header field with at most two modifiers"),
        ("header H_TEST Subject ~ /x/", "a header test is: Field =~ /pattern/ or Field !~ /pattern/ or exists:Field"),
        ("header H_TEST Subject /x/", "a header test is: Field =~ /pattern/ or Field !~ /pattern/ or exists:Field"),
        ("header H_TEST Subject =~", "a pattern is missing after the operator"),
        ("header H_TEST exists:", "exists: takes one header field name"),
        ("header H_TEST exists:Two Words", "exists: takes one header field name"),
        ("header H_TEST exists:A:B", "exists: takes one header field name"),
        ("body H_TEST", "body needs a test after the rule name"),
        ("body H_TEST /(?{ system('x') })/", "code blocks (?{...}) are not allowed in a pattern"),
    ])
    func failedRules(line: String, reason: String) throws {
        let outcome = loadRules("body FIRST /x/\n\(line)\nbody OTHER /y/\nscore H_TEST 2")
        #expect(outcome.messages == ["Rules/10.cf:2: warning: rule H_TEST not loaded: \(reason)"])
        let set = try #require(outcome.ruleSet)
        #expect(set.failed == ["H_TEST": reason])
        #expect(set.skipped == [:])
        #expect(set.rules.map(\.name) == ["FIRST", "OTHER"])
        #expect(set.content?.names == ["FIRST", "OTHER"])
    }

    /// A regex that does not compile: the rule is left out with a warning at its line, naming the
    /// pattern and why; the other rules load and run.
    @Test(arguments: [
        "body H_TEST /cheap(/",
        "body H_TEST /cheap[/",
        "body H_TEST /x{2,1}/",
        "body H_TEST cheap",
        "body H_TEST /cheap",
        "body H_TEST /cheap/q",
        "rawbody H_TEST /a)/",
        "full H_TEST /(?<name/",
        "uri H_TEST /\\/",
        "header H_TEST Subject =~ /(/",
        "header H_TEST Subject !~ /(/ [if-unset: x]",
    ])
    func aRegexThatDoesNotCompile(line: String) throws {
        let outcome = loadRules("body FIRST /first/\n\(line)\nbody OTHER /other/")
        #expect(outcome.messages.count == 1)
        let message = try #require(outcome.messages.first)
        #expect(message.hasPrefix("Rules/10.cf:2: warning: rule H_TEST not loaded: regex /") || message.hasPrefix("Rules/10.cf:2: warning: rule H_TEST not loaded: regex cheap"))
        let set = try #require(outcome.ruleSet)
        #expect(set.failed.keys.sorted() == ["H_TEST"])
        #expect(set.failed["H_TEST"].map { message.hasSuffix($0) } == true)
        let result = try contentScan(set, "Subject: s\n\nfirst other\n")
        #expect(contentCounts(result) == ["FIRST": 1, "OTHER": 1])
    }

    @Test func aBadRuleNameIsAnError() {
        let outcome = loadRules("body BAD-NAME /x/")
        #expect(outcome.ruleSet == nil)
        #expect(outcome.messages == ["Rules/10.cf:1: BAD-NAME is not a rule name (letters, digits, _; at most 100)"])
    }

    @Test func aContentRuleAndAClientRuleMayNotShareAName() {
        let outcome = loadRules("client_no_rdns SAME\nbody SAME /x/")
        #expect(outcome.ruleSet == nil)
        #expect(outcome.messages == ["Rules/10.cf:2: rule SAME is already defined at Rules/10.cf:1"])
    }
}

/// A content test in words: type, header query, operator, pattern and flags.
func describeContentTest(_ test: ContentTest) -> String {
    func show(_ regex: Regex8) -> String {
        var flags = ""
        if regex.options.contains(.caseless) { flags += "i" }
        if regex.options.contains(.multiline) { flags += "m" }
        if regex.options.contains(.dotAll) { flags += "s" }
        if regex.options.contains(.extended) { flags += "x" }
        return regex.pattern + (flags.isEmpty ? "" : " (\(flags))")
    }
    switch test {
    case .header(let query, let operation, let ifUnset):
        let field = ContentRules.describe(query)
        let unset = ifUnset.map { " [if-unset: \($0)]" } ?? ""
        switch operation {
        case .matches(let regex): return "header \(field) =~ \(show(regex))\(unset)"
        case .notMatches(let regex): return "header \(field) !~ \(show(regex))\(unset)"
        case .exists: return "header exists \(field)\(unset)"
        }
    case .body(let regex): return "body \(show(regex))"
    case .rawBody(let regex): return "rawbody \(show(regex))"
    case .full(let regex): return "full \(show(regex))"
    case .uri(let regex): return "uri \(show(regex))"
    case .meta(let expression): return "meta " + expression.ruleNames.joined(separator: ", ")
    }
}
