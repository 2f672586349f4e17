import Foundation
import PCRE2
import Testing

@testable import WardenPolicy

/// Content rules run over small messages. The expected hits and counts are SpamAssassin 4.0.1's
/// for the same rules and message (checked with Tests/e2e/content/sa_reference.pl).
@Suite struct ContentScanTests {
    // MARK: One message, every rule type

    static let mixedRules = """
        body     B_SUBJ_LINE      /^Cheap pills caf/
        body     B_PARA_START     /^Hello Bob, buy/
        body     B_MID_ANCHOR     /^buy/
        body     B_SECOND         /^Second paragraph/
        body     B_NOSUBJ_I       /cheap pills/i
        tflags   B_NOSUBJ_I       nosubject
        body     B_NOSUBJ_CASE    /Cheap pills/
        tflags   B_NOSUBJ_CASE    nosubject
        body     B_CHEAP          /Cheap/
        body     B_NO_TAGS        /<b>/
        rawbody  RB_TAGS          /<b>pills<\\/b>/
        rawbody  RB_HTML_START    /^<html>/
        rawbody  RB_PLAIN_START   /^Hello Bob/
        rawbody  RB_NOT_JOINED    /now at http\\S+ Second/
        rawbody  RB_B64           /Secret offer/
        full     F_B64            /Secret offer/
        full     F_MAILER         /^X-Mailer: Bulk/m
        full     F_NO_M           /^X-Mailer: Bulk/
        uri      U_PLAIN          /www\\.example\\.com\\/path/
        uri      U_HREF           /shop\\.example\\.net\\/buy/
        uri      U_NONE           /nowhere\\.example\\.org/
        header   H_SUBJ           Subject =~ /cheap/i
        header   H_CAFE           Subject =~ /caf\\xc3\\xa9/
        header   H_RAW            Subject:raw =~ /=\\?utf-8\\?q\\?/i
        header   H_DECODED_NOT_RAW Subject =~ /=\\?utf-8/i
        header   H_ABS_EMPTY      X-Nothing =~ /^$/
        header   H_ABS_NEG        X-Nothing !~ /x/
        header   H_PRESENT_NEG    Subject !~ /pills/
        header   H_UNSET          X-Nothing =~ /^none$/ [if-unset: none]
        header   H_UNSET_PRESENT  Subject =~ /^none$/ [if-unset: none]
        header   H_EXISTS         exists:X-Mailer
        header   H_EXISTS_NO      exists:X-Nothing
        header   H_ADDR           From:addr =~ /^alice\\@example\\.com$/
        header   H_NAME           From:name =~ /^Alice Smith$/
        header   H_TO_FIRST       To:first =~ /bob\\@/
        header   H_TO_LAST        To:last =~ /bob\\@/
        header   H_TO_ALL         To =~ /dave\\@example\\.com\\n.*bob/s
        header   H_TOCC           ToCc =~ /carol\\@/
        header   H_ENV            EnvelopeFrom =~ /^bounce\\@lists\\.example\\.org$/
        header   H_MSGID          MESSAGEID =~ /abc123\\@example\\.com/
        header   H_ALL            ALL =~ /^X-Mailer: Bulk/m
        body     B_MULTI          /pill/
        tflags   B_MULTI          multiple maxhits=3
        score    B_MULTI          1.5
        body     B_MULTI_ALL      /pill/
        tflags   B_MULTI_ALL      multiple
        score    B_MULTI_ALL      0.5
        body     __A              /Cheap/
        body     __B              /pill/
        tflags   __B              multiple
        meta     M_COUNT          __A + __B
        score    M_COUNT          2
        """

    static let mixedMessage = """
        From: Alice Smith <alice@example.com>
        To: dave@example.com
        To: bob@example.com
        Cc: Carol <carol@example.com>
        Subject: =?utf-8?q?Cheap_pills_caf=C3=A9?=
        Message-Id: <abc123@example.com>
        X-Mailer: Bulk 1.0
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="B"

        --B
        Content-Type: text/plain

        Hello Bob,
        buy cheap pills now at http://www.example.com/path

        Second paragraph about pills.
        --B
        Content-Type: text/html

        <html><body><b>pills</b> <a href="https://shop.example.net/buy">shop</a></body></html>
        --B
        Content-Type: text/plain
        Content-Transfer-Encoding: base64

        U2VjcmV0IG9mZmVy
        --B--

        """

    /// SMTP sends CRLF line ends; SpamAssassin gives the same result for both.
    @Test(arguments: ["\n", "\r\n"])
    func everyRuleTypeAsSpamAssassin(lineEnd: String) throws {
        let message = Self.mixedMessage.replacingOccurrences(of: "\n", with: lineEnd)
        let result = try contentScan(try contentRuleSet(Self.mixedRules), message, envelopeFrom: "bounce@lists.example.org")
        let expected: [String: Int] = [
            "B_SUBJ_LINE": 1, "B_PARA_START": 1, "B_SECOND": 1, "B_NOSUBJ_I": 1, "B_CHEAP": 1,
            "RB_TAGS": 1, "RB_HTML_START": 1, "RB_PLAIN_START": 1, "RB_B64": 1,
            "F_MAILER": 1, "U_PLAIN": 1, "U_HREF": 1,
            "H_SUBJ": 1, "H_CAFE": 1, "H_RAW": 1, "H_ABS_EMPTY": 1, "H_ABS_NEG": 1, "H_UNSET": 1, "H_EXISTS": 1,
            "H_ADDR": 1, "H_NAME": 1, "H_TO_LAST": 1, "H_TO_ALL": 1, "H_TOCC": 1, "H_ENV": 1, "H_MSGID": 1, "H_ALL": 1,
            "B_MULTI": 3, "B_MULTI_ALL": 4, "__A": 1, "__B": 4, "M_COUNT": 5,
        ]
        #expect(contentCounts(result) == expected)
        #expect(result.score == 35.5)
        #expect(result.ruleErrors == [])
    }

    // MARK: Body lines

    /// (body rule, whether it hits "Subject: Cheap pills" over "Hello Bob,\nbuy cheap pills.\n\nSecond paragraph.")
    @Test(arguments: [
        ("/^Cheap pills$/", "", true),
        ("/^Hello Bob, buy cheap pills\\.$/", "", true),
        ("/^buy/", "", false),
        ("/^buy/m", "", false),
        ("/^Second paragraph\\.$/", "", false),
        ("/^Second paragraph\\. $/", "", true),
        ("/Bob, buy/", "", true),
        ("/pills\\.\\s+Second/", "", false),
        ("/pills Hello/", "", false),
        ("/Cheap/", "nosubject", false),
        ("/cheap/i", "nosubject", true),
        ("/^Cheap pills$/", "nosubject", false),
    ])
    func bodyLines(pattern: String, flags: String, hits: Bool) throws {
        var rules = "body B_TEST \(pattern)\n"
        if !flags.isEmpty { rules += "tflags B_TEST \(flags)\n" }
        let message = "Subject: Cheap pills\n\nHello Bob,\nbuy cheap pills.\n\nSecond paragraph.\n"
        let result = try contentScan(try contentRuleSet(rules), message)
        #expect(contentCounts(result) == (hits ? ["B_TEST": 1] : [:]))
    }

    @Test func theSubjectIsABodyLineEvenWithoutABody() throws {
        let set = try contentRuleSet("body B_SUBJ /^Only a subject/\nbody B_EMPTY /\\S/\ntflags B_EMPTY nosubject")
        #expect(contentCounts(try contentScan(set, "Subject: Only a subject\nFrom: a@example.com\n\n")) == ["B_SUBJ": 1])
    }

    // MARK: Headers

    /// (rule, hits a message with Subject and From only): an absent field is an empty value.
    @Test(arguments: [
        ("X-Absent =~ /^$/", true),
        ("X-Absent =~ /./", false),
        ("X-Absent !~ /x/", true),
        ("X-Absent !~ /^$/", false),
        ("X-Absent =~ /^none$/ [if-unset: none]", true),
        ("X-Absent !~ /^none$/ [if-unset: none]", false),
        ("Subject =~ /^none$/ [if-unset: none]", false),
        ("Subject =~ /^Hi$/", true),
        ("Subject =~ /^Hi\\z/", false),
        ("Subject =~ /^Hi\\n\\z/", true),
        ("subject =~ /^Hi/", true),
        ("Subject !~ /Hi/", false),
        ("exists:Subject", true),
        ("exists:X-Absent", false),
        ("exists:subject:", true),
        ("From:addr =~ /^a\\@example\\.com$/", true),
        ("From:name =~ /^Ann Example$/", true),
        ("From:raw =~ /^ \"Ann Example\" </", true),
        ("From:raw =~ /^\"Ann Example\" </", false),
        ("From:first:addr =~ /^a\\@/", true),
        ("From =~ /^\"Ann Example\" </", true),
    ])
    func headerRules(test: String, hits: Bool) throws {
        let set = try contentRuleSet("header H_TEST \(test)")
        let result = try contentScan(set, "Subject: Hi\nFrom: \"Ann Example\" <a@example.com>\n\nbody\n")
        #expect(contentCounts(result) == (hits ? ["H_TEST": 1] : [:]))
    }

    @Test func repeatedFieldsAreJoinedAndFirstAndLastPickOne() throws {
        let rules = """
            header H_JOINED  Received =~ /one\\nReceived: two|one\\ntwo/
            header H_FIRST   Received:first =~ /^one$/
            header H_LAST    Received:last =~ /^two$/
            header H_NOT_FIRST Received:first =~ /two/
            header H_TOCC    ToCc =~ /^x\\@example\\.com\\ny\\@example\\.com$/
            header H_ENV_RP  EnvelopeFrom =~ /^rp\\@example\\.com$/
            """
        // Without an envelope the Return-Path is the sender (SpamAssassin trusts it above any Received).
        let message = "Return-Path: <rp@example.com>\nReceived: one\nReceived: two\nTo: x@example.com\nCc: y@example.com\n\nbody\n"
        let result = try contentScan(try contentRuleSet(rules), message)
        #expect(contentCounts(result) == ["H_JOINED": 1, "H_FIRST": 1, "H_LAST": 1, "H_TOCC": 1, "H_ENV_RP": 1])
    }

    /// Rules screened by the spellings of their small classes hit whichever spelling occurs.
    @Test func rulesScreenedBySpellingsHitEachSpelling() throws {
        let rules = """
            body   B_SPELLED  /w[i1]nn[e3]r/i
            header H_SPELLED  Subject =~ /c[i1]al[i1]s/i
            """
        let set = try contentRuleSet(rules)
        for (subject, body, expected) in [
            ("C1ALiS now", "a W1NN3R here\n", ["B_SPELLED": 1, "H_SPELLED": 1]),
            ("cialis", "winner\n", ["B_SPELLED": 1, "H_SPELLED": 1]),
            ("clalis", "wlnner\n", [:]),
        ] {
            #expect(contentCounts(try contentScan(set, "Subject: \(subject)\n\n\(body)")) == expected, "\(subject) \(body)")
        }
    }

    /// A rule is screened by the rarer of its required literal and its spellings: here the
    /// literal is `an `, in nearly every message, and the screen takes the spellings of ` today`.
    @Test func longerSpellingsScreenARuleBeforeAShortLiteral() throws {
        let regex = try Regex8(perlLiteral: "/l[o0]an +t[o0]d[a@]y/i")
        #expect(regex.requiredLiteral.map { String(decoding: $0, as: UTF8.self) } == "an ")
        let screen = try #require(ContentRules.screened(regex)).map { String(decoding: $0, as: UTF8.self) }
        #expect(Set(screen) == [" today", " t0day", " tod@y", " t0d@y"])
        let set = try contentRuleSet("body B_LOAN /l[o0]an +t[o0]d[a@]y/i")
        #expect(contentCounts(try contentScan(set, "Subject: x\n\nyour L0AN   t0d@y\n")) == ["B_LOAN": 1])
        #expect(contentCounts(try contentScan(set, "Subject: x\n\nan answer and a plan today\n")) == [:])
    }

    @Test func theEnvelopeSenderWinsOverReturnPath() throws {
        let set = try contentRuleSet("header H_ENV EnvelopeFrom =~ /^smtp\\@example\\.com$/")
        let message = "Return-Path: <rp@example.com>\nSubject: x\n\nbody\n"
        #expect(contentCounts(try contentScan(set, message, envelopeFrom: "smtp@example.com")) == ["H_ENV": 1])
        #expect(contentCounts(try contentScan(set, message)) == [:])
    }

    // MARK: Counting and scores

    @Test func multipleCountsEveryMatchUpToMaxhitsAcrossLines() throws {
        let rules = """
            body B_ONE /x/
            score B_ONE 2
            body B_ALL /x/
            tflags B_ALL multiple
            score B_ALL 0.5
            body B_CAPPED /x/
            tflags B_CAPPED multiple maxhits=4
            score B_CAPPED 1.5
            rawbody RB_ALL /x/
            tflags RB_ALL multiple
            score RB_ALL 0
            """
        // Three lines of the body hold 2 + 2 + 3 = 7 matches; the Subject none.
        let message = "Subject: none\n\nx x\n\nxx\n\nx-x-x\n"
        let result = try contentScan(try contentRuleSet(rules), message)
        #expect(contentCounts(result) == ["B_ONE": 1, "B_ALL": 7, "B_CAPPED": 4])
        let scores = Dictionary(uniqueKeysWithValues: result.hits.map { ($0.rule.name, $0.score) })
        #expect(scores == ["B_ONE": 2, "B_ALL": 3.5, "B_CAPPED": 6])
        #expect(result.score == 11.5)
    }

    @Test func multipleWorksForEveryRuleType() throws {
        let rules = """
            header H_MULTI To =~ /\\@/
            tflags H_MULTI multiple
            header H_MAX To =~ /\\@/
            tflags H_MAX multiple maxhits=2
            uri U_MULTI /example/
            tflags U_MULTI multiple
            full F_MULTI /example/
            tflags F_MULTI multiple
            rawbody R_MULTI /example/
            tflags R_MULTI multiple
            body B_MAXONLY /example/
            tflags B_MAXONLY maxhits=3
            """
        let message = "To: a@example.com, b@example.com\nTo: c@example.com\nSubject: x\n\nsee http://www.example.com/ and http://www.example.org/x\n"
        let result = try contentScan(try contentRuleSet(rules), message)
        #expect(contentCounts(result) == ["H_MULTI": 3, "H_MAX": 2, "U_MULTI": 2, "F_MULTI": 5, "R_MULTI": 2, "B_MAXONLY": 1])
    }

    @Test func aMetaCountsItsValueButAddsItsScoreOnce() throws {
        let rules = """
            body __WORD /word/
            tflags __WORD multiple
            header __SUBJ Subject =~ /word/
            meta M_SUM __WORD + __SUBJ
            score M_SUM 3
            meta M_MANY __WORD > 2
            meta M_FEW __WORD > 5
            meta M_OF_META M_SUM && !M_FEW
            score M_OF_META -1
            """
        let result = try contentScan(try contentRuleSet(rules), "Subject: word\n\nword word\n\nword\n")
        // The Subject is a body line too: __WORD counts 4.
        #expect(contentCounts(result) == ["__WORD": 4, "__SUBJ": 1, "M_SUM": 5, "M_MANY": 1, "M_OF_META": 1])
        let subRules = result.hits.filter(\.rule.isSubRule)
        #expect(subRules.map(\.score) == [0, 0])
        #expect(result.score == 3)
        let meta = try #require(result.hits.first { $0.rule.name == "M_SUM" })
        #expect(meta.evidence == "meta __WORD, __SUBJ")
    }

    @Test func metasCombineContentWithTheSessionsOtherRules() throws {
        let rules = """
            client_no_rdns NO_RDNS
            score NO_RDNS 2
            body __CHEAP /cheap/
            meta M_BOTH NO_RDNS && __CHEAP
            meta M_SCORE NO_RDNS * 3
            meta M_UNKNOWN !NEVER_DEFINED
            meta M_UNKNOWN_HIT NEVER_DEFINED
            """
        let set = try contentRuleSet(rules)
        let message = "Subject: x\n\ncheap stuff\n"
        #expect(contentCounts(try contentScan(set, message, sessionHits: ["NO_RDNS": 1])) == ["__CHEAP": 1, "M_BOTH": 1, "M_SCORE": 3, "M_UNKNOWN": 1])
        #expect(contentCounts(try contentScan(set, message)) == ["__CHEAP": 1, "M_UNKNOWN": 1])
    }

    @Test func aRuleScoredZeroNeverRunsAndMetasSeeZero() throws {
        let rules = """
            body Z_OFF /cheap/
            score Z_OFF 0
            meta M_SEES Z_OFF + 1
            meta M_SEES_OFF !Z_OFF
            meta M_SEES_ON Z_OFF
            """
        let set = try contentRuleSet(rules)
        let result = try contentScan(set, "Subject: cheap\n\ncheap\n")
        #expect(contentCounts(result) == ["M_SEES": 1, "M_SEES_OFF": 1])
        #expect(set.content?.names.contains("Z_OFF") == false)
    }

    @Test func testRulesScoreOneHundredth() throws {
        let result = try contentScan(try contentRuleSet("body T_NEW /new/\nbody T_SET /new/\nscore T_SET 2"), "Subject: new\n\nx\n")
        #expect(result.score == 2.01)
    }

    // MARK: Failures while scanning

    @Test func aCatastrophicPatternIsARuleErrorNotAHit() throws {
        let rules = """
            body B_BAD /(a+)+$/
            header H_BAD Subject =~ /(a+)+$/
            header H_BAD_NEG Subject !~ /(a+)+$/
            body B_GOOD /aaab/
            """
        let line = String(repeating: "a", count: 30) + "b"
        let result = try contentScan(try contentRuleSet(rules), "Subject: \(line)\n\n\(line)\n", matcher: RegexMatcher(matchLimit: 10_000))
        #expect(Set(result.ruleErrors) == ["B_BAD", "H_BAD", "H_BAD_NEG"])
        #expect(contentCounts(result) == ["B_GOOD": 1])
    }

    // MARK: Evidence

    @Test func evidenceSaysWhatMatched() throws {
        let rules = """
            header H_SUBJ Subject =~ /cheap \\w+/i
            header H_NEG X-Absent !~ /x/
            header H_EXISTS exists:x-mailer
            header H_RAW Message-ID:raw =~ /abc/
            body B_WORDS /cheap pills/i
            body B_LONG /y{70}/
            rawbody RB_TAG /<i>/
            full F_FROM /^From: \\S+/m
            uri U_LINK /example\\.com/
            """
        let message = """
            From: a@example.com
            Subject: Very CHEAP PILLS today
            X-Mailer: m
            Message-ID: <abc@example.com>

            cheap pills at http://www.example.com/ \(String(repeating: "y", count: 70))

            """
        let result = try contentScan(try contentRuleSet(rules), message)
        let evidence = Dictionary(uniqueKeysWithValues: result.hits.map { ($0.rule.name, $0.evidence) })
        #expect(
            evidence == [
                "H_SUBJ": "header Subject \"CHEAP PILLS\"",
                "H_NEG": "header X-Absent does not match",
                "H_EXISTS": "header X-Mailer exists",
                "H_RAW": "header Message-Id:raw \"abc\"",
                "B_WORDS": "body \"CHEAP PILLS\"",
                "B_LONG": "body \"\(String(repeating: "y", count: 60))...\"",
                "F_FROM": "full \"From: a@example.com\"",
                "U_LINK": "uri \"example.com\"",
            ])
    }

    @Test func hitsAreReportedByTypeThenPriority() throws {
        let rules = """
            body B_LATE /x/
            priority B_LATE 10
            body B_EARLY /x/
            priority B_EARLY -5
            header H_ANY Subject =~ /x/
            body B_DEFAULT /x/
            """
        let set = try contentRuleSet(rules)
        let result = try contentScan(set, "Subject: x\n\nx\n")
        #expect(result.hits.map(\.rule.name) == ["H_ANY", "B_EARLY", "B_DEFAULT", "B_LATE"])
        #expect(set.rules.first { $0.name == "B_EARLY" }?.priority == -5)
    }
}

// MARK: Helpers

/// Loads `rules` as `Rules/10.cf`, expecting no diagnostic.
func contentRuleSet(_ rules: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> RuleSet {
    let outcome = loadRules(rules)
    #expect(outcome.messages == [], sourceLocation: sourceLocation)
    return try #require(outcome.ruleSet, "rules load: \(outcome.messages)", sourceLocation: sourceLocation)
}

/// Scans `message` (its text as bytes) with the content rules of `ruleSet`.
func contentScan(
    _ ruleSet: RuleSet, _ message: String, envelopeFrom: String? = nil, sessionHits: [String: Int] = [:],
    matcher: RegexMatcher = RegexMatcher(), sourceLocation: SourceLocation = #_sourceLocation
) throws -> ContentResult {
    let rules = try #require(ruleSet.content, "the rule set has content rules", sourceLocation: sourceLocation)
    // As ContentPolicy makes it: only the subjects the rule set's rule types read.
    let input = ContentInput(bytes: Array(message.utf8), envelopeFrom: envelopeFrom, maxBytes: MIMELimits.defaultMaximumBytes, for: rules)
    return rules.scan(input, sessionHits: sessionHits, matcher: matcher)
}

/// Each rule that hit and its count.
func contentCounts(_ result: ContentResult) -> [String: Int] {
    Dictionary(result.hits.map { ($0.rule.name, $0.count) }, uniquingKeysWith: +)
}
