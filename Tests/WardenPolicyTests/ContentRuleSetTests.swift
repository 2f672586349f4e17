import Foundation
import Testing

@testable import WardenPolicy

/// A rule set's content rules as a whole: redefinitions, scores, flags, meta dependencies,
/// SpamAssassin's plugin blocks and directives, and the content stage's settings.
@Suite struct ContentRuleSetTests {
    func rule(_ set: RuleSet, _ name: String) -> Rule? { set.rules.first { $0.name == name } }

    // MARK: Redefinition

    @Test func aLaterDefinitionReplacesAContentRule() throws {
        let outcome = loadTree([
            "Rules/10-stock.cf": "body DUP /first/\nscore DUP 3\ndescribe DUP Stock text\nheader TYPE Subject =~ /x/",
            "Rules/90-local.cf": "# local override\nbody DUP /second/\nbody TYPE /y/",
        ])
        #expect(outcome.messages == [])
        let set = try #require(outcome.ruleSet)
        #expect(set.rules.map(\.name) == ["DUP", "TYPE"])
        let dup = try #require(rule(set, "DUP"))
        #expect(dup.file == "Rules/90-local.cf" && dup.line == 2)
        #expect(dup.score == 3)
        #expect(dup.summary == "Stock text")
        #expect(contentCounts(try contentScan(set, "Subject: x\n\nfirst\n")) == [:])
        #expect(contentCounts(try contentScan(set, "Subject: x\n\nsecond y\n")) == ["DUP": 1, "TYPE": 1])
    }

    @Test func aRedefinitionThatIsNotSupportedRemovesTheRule() throws {
        let outcome = loadRules("body DUP /first/\nheader DUP eval:check_x()\nheader BACK eval:check_y()\nbody BACK /back/")
        #expect(outcome.messages == ["Rules/10.cf:2: warning: rule DUP skipped: eval: test check_x is not supported", "Rules/10.cf:3: warning: rule BACK skipped: eval: test check_y is not supported"])
        let set = try #require(outcome.ruleSet)
        #expect(set.rules.map(\.name) == ["BACK"])
        #expect(set.skipped == ["DUP": "eval: test check_x is not supported"])
    }

    // MARK: Scores

    @Test func scores() throws {
        let text = """
            body DEFAULT /a/
            body ONE /a/
            score ONE 2.5
            body FOUR /a/
            score FOUR 0.5 1.5 2.5 3.5
            body OFF /a/
            score OFF 0
            body OFF_FOUR /a/
            score OFF_FOUR 1 0 1 1
            body T_TESTING /a/
            meta T_META T_TESTING
            body T_SCORED /a/
            score T_SCORED 1
            body __SUB /a/
            meta NEEDS_OFF OFF || __SUB
            """
        let set = try contentRuleSet(text)
        let scores = Dictionary(uniqueKeysWithValues: set.rules.map { ($0.name, $0.score) })
        #expect(scores == ["DEFAULT": 1, "ONE": 2.5, "FOUR": 1.5, "OFF": 0, "OFF_FOUR": 0, "T_TESTING": 0.01, "T_META": 0.01, "T_SCORED": 1, "__SUB": 1, "NEEDS_OFF": 1])
        // Rules scored 0 are disabled: they never run and metas read them as 0.
        #expect(set.content?.names == ["DEFAULT", "ONE", "FOUR", "T_TESTING", "T_SCORED", "__SUB", "T_META", "NEEDS_OFF"])
        let result = try contentScan(set, "Subject: a\n\na\n")
        #expect(result.hits.map(\.rule.name) == ["DEFAULT", "ONE", "FOUR", "T_TESTING", "T_SCORED", "__SUB", "T_META", "NEEDS_OFF"])
        #expect(abs(result.score - 7.02) < 1e-9)
    }

    /// DEFECT: SpamAssassin gives a `nice` rule without a score the default score negated: -1,
    /// -0.01 for a T_ rule (Conf/Parser.pm `fix_tests`: `$set_score = -$set_score if tflags =~
    /// /\bnice\b/`). Warden gives +1 and +0.01 (RuleFlags.nice "only documents intent"), so a
    /// rule meant to lower the score raises it. (SpamAssassin: -3.01 for this message.)
    @Test func aNiceRuleWithoutAScoreLowersTheScore() throws {
        let text = """
            body NICE /x/
            tflags NICE nice
            body T_NICE /x/
            tflags T_NICE nice
            body NICE_SCORED /x/
            tflags NICE_SCORED nice
            score NICE_SCORED -3
            body PLAIN /x/
            """
        let set = try contentRuleSet(text)
        let scores = Dictionary(uniqueKeysWithValues: set.rules.map { ($0.name, $0.score) })
        #expect(scores == ["NICE": -1, "T_NICE": -0.01, "NICE_SCORED": -3, "PLAIN": 1])
        #expect(abs(try contentScan(set, "Subject: x\n\nx\n").score - -3.01) < 1e-9)
    }

    // MARK: tflags and priority

    @Test func flagsOfContentRules() throws {
        let text = """
            body MULTI /a/
            tflags MULTI multiple
            body CAPPED /a/
            tflags CAPPED multiple maxhits=3
            body NICE /a/
            tflags NICE nice
            score NICE -1
            body NOSUBJ /a/
            tflags NOSUBJ nosubject
            body SHADOWED /a/
            tflags SHADOWED shadow multiple
            body REPLACED /a/
            tflags REPLACED multiple
            tflags REPLACED nosubject
            body NETTY /a/
            tflags NETTY net learn
            body OTHER /a/
            tflags OTHER net userconf noautolearn publish
            priority OTHER -500
            priority NICE 1000
            """
        let set = try contentRuleSet(text)
        func flags(_ name: String) -> String {
            guard let rule = rule(set, name) else { return "missing" }
            var words: [String] = []
            if rule.flags.multiple { words.append("multiple") }
            if let maxHits = rule.flags.maxHits { words.append("maxhits=\(maxHits)") }
            if rule.flags.nice { words.append("nice") }
            if rule.flags.noSubject { words.append("nosubject") }
            if rule.shadow { words.append("shadow") }
            return words.joined(separator: " ")
        }
        #expect(flags("MULTI") == "multiple")
        #expect(flags("CAPPED") == "multiple maxhits=3")
        #expect(flags("NICE") == "nice")
        #expect(flags("NOSUBJ") == "nosubject")
        #expect(flags("SHADOWED") == "multiple shadow")
        #expect(flags("REPLACED") == "nosubject")
        #expect(flags("NETTY") == "")
        #expect(set.ignoredFlags == ["net": 2, "learn": 1, "userconf": 1, "noautolearn": 1, "publish": 1])
        #expect(rule(set, "OTHER")?.priority == -500)
        #expect(rule(set, "NICE")?.priority == 1000)
        #expect(rule(set, "MULTI")?.priority == 0)
        #expect(set.content?.names.first == "OTHER")
        #expect(set.content?.names.last == "NICE")
    }

    /// (line after `body B /a/`, the error at line 2)
    @Test(arguments: [
        ("tflags B maxhits=0", "maxhits takes a positive number"),
        ("tflags B maxhits=x", "maxhits takes a positive number"),
        ("tflags B multiple maxhits=-2", "maxhits takes a positive number"),
        ("priority B high", "priority takes a whole number"),
        ("priority B 1.5", "priority takes a whole number"),
        ("score B 1 2", "score takes one number or four"),
    ])
    func invalidAttributes(line: String, message: String) {
        let outcome = loadRules("body B /a/\n\(line)")
        #expect(outcome.ruleSet == nil)
        #expect(outcome.messages == ["Rules/10.cf:2: \(message)"])
    }

    @Test func contentFlagsOnAClientRuleAreWarnings() throws {
        let outcome = loadRules("client_no_rdns NO_RDNS\ntflags NO_RDNS multiple nosubject")
        #expect(outcome.messages == ["Rules/10.cf:2: warning: tflags multiple has no effect on NO_RDNS", "Rules/10.cf:2: warning: tflags nosubject has no effect on NO_RDNS"])
        #expect(outcome.ruleSet?.ignoredFlags == [:])
    }

    // MARK: Meta dependencies

    @Test func aMetaOnARuleThatIsNotLoadedIsSkippedTransitively() throws {
        let text = """
            header EVAL_RULE eval:check_something()
            body BROKEN /(/
            body __OK /ok/
            meta M_EVAL EVAL_RULE && __OK
            meta M_OF_META M_EVAL || __OK
            meta M_OF_M_OF_META !M_OF_META
            meta M_BROKEN __OK && !BROKEN
            meta M_FINE __OK
            """
        let outcome = loadRules(text)
        #expect(outcome.messages.count == 2)
        let set = try #require(outcome.ruleSet)
        #expect(
            set.skipped == [
                "EVAL_RULE": "eval: test check_something is not supported",
                "M_EVAL": "depends on EVAL_RULE, which is not loaded",
                "M_OF_META": "depends on M_EVAL, which is not loaded",
                "M_OF_M_OF_META": "depends on M_OF_META, which is not loaded",
                "M_BROKEN": "depends on BROKEN, which is not loaded",
            ])
        #expect(set.failed.keys.sorted() == ["BROKEN"])
        #expect(set.rules.map(\.name) == ["__OK", "M_FINE"])
        #expect(contentCounts(try contentScan(set, "Subject: ok\n\nok\n")) == ["__OK": 1, "M_FINE": 1])
    }

    @Test func metasInALoopAreSkipped() throws {
        let text = """
            body __X /x/
            meta LOOP_A LOOP_B && __X
            meta LOOP_B LOOP_C || __X
            meta LOOP_C LOOP_A
            meta SELF SELF || __X
            meta FINE __X
            """
        let outcome = loadRules(text)
        #expect(outcome.messages == [])
        let set = try #require(outcome.ruleSet)
        let loop = "meta rules that depend on each other in a loop"
        #expect(set.skipped == ["LOOP_A": loop, "LOOP_B": loop, "LOOP_C": loop, "SELF": loop])
        #expect(set.rules.map(\.name) == ["__X", "FINE"])
    }

    /// DEFECT: SpamAssassin excludes a meta that depends on a meta in a loop, as it cannot order
    /// it ("excluding meta test NEEDS_LOOP, unsolved meta dependencies", Conf/Parser.pm
    /// `compile_meta_rules`). `RuleSetLoader.finishContentRules` marks only the metas on the loop
    /// (after the pass that skips dependents of skipped rules), so NEEDS_LOOP is kept, reads
    /// the removed LOOP_A as 0, and `!LOOP_A` hits every message.
    @Test func aMetaThatDependsOnALoopIsSkippedToo() throws {
        let outcome = loadRules("body __X /x/\nmeta LOOP_A LOOP_B\nmeta LOOP_B LOOP_A\nmeta NEEDS_LOOP !LOOP_A\nscore NEEDS_LOOP 5")
        let set = try #require(outcome.ruleSet)
        #expect(set.skipped["NEEDS_LOOP"] != nil)
        if let content = set.content {
            #expect(contentCounts(try contentScan(set, "Subject: hello\n\nhello\n"))["NEEDS_LOOP"] == nil)
            #expect(!content.names.contains("NEEDS_LOOP"))
        }
    }

    // MARK: SpamAssassin's plugins and directives

    @Test func rulesOfAPluginWardenDoesNotHaveAreReportedAsSkipped() throws {
        let text = """
            ifplugin Mail::SpamAssassin::Plugin::ReplaceTags
              replace_start <
              replace_end   >
              replace_tag   A  (?:a|4|@)
              body   RT_CHEAP  /ch<A>p/i
              replace_rules RT_CHEAP
              score  RT_CHEAP  2
              describe RT_CHEAP Cheap, obfuscated
            endif
            body __X /x/
            meta M_RT RT_CHEAP && __X
            meta M_X __X
            """
        let outcome = loadRules(text)
        #expect(outcome.messages == [])
        let set = try #require(outcome.ruleSet)
        #expect(
            set.skipped == [
                "RT_CHEAP": "needs the SpamAssassin plugin ReplaceTags, which Warden does not have",
                "M_RT": "depends on RT_CHEAP, which is not loaded",
            ])
        #expect(set.rules.map(\.name) == ["__X", "M_X"])
    }

    @Test func aRepeatedSpamAssassinDirectiveIsOneWarning() throws {
        let text = """
            def_whitelist_auth *@a.example
            body B /x/
            def_whitelist_auth *@b.example
            def_whitelist_auth *@c.example
            required_score 5
            """
        let outcome = loadRules(text)
        #expect(
            outcome.messages == [
                "Rules/10.cf:1: warning: SpamAssassin directive def_whitelist_auth is not supported; 3 lines skipped, the first here",
                "Rules/10.cf:5: warning: SpamAssassin directive required_score is not supported; skipped",
            ])
        #expect(outcome.ruleSet?.rules.map(\.name) == ["B"])
    }

    @Test func directivesOfAPluginWardenReadsAreOneWarningEach() throws {
        let text = """
            ifplugin Mail::SpamAssassin::Plugin::URIDNSBL
            uridnsbl      URIBL_A  multi.uribl.com. A
            uridnsbl      URIBL_B  multi.uribl.com. A
            body          URIBL_B  eval:check_uridnsbl('URIBL_B')
            uridnssub     URIBL_C  multi.uribl.com. A 127.0.0.4
            endif
            """
        let outcome = loadRules(text)
        #expect(
            outcome.messages == [
                "Rules/10.cf:4: warning: rule URIBL_B skipped: eval: test check_uridnsbl is not supported",
                "Rules/10.cf:2: warning: SpamAssassin directive uridnsbl (plugin URIDNSBL) is not supported; 2 lines skipped, the first here",
                "Rules/10.cf:5: warning: SpamAssassin directive uridnssub (plugin URIDNSBL) is not supported; skipped",
            ])
        #expect(outcome.ruleSet?.skipped == ["URIBL_B": "eval: test check_uridnsbl is not supported"])
    }

    @Test func anUnknownDirectiveIsStillAnError() {
        let outcome = loadRules("def_whitelist_auth *@a.example\nfrobnicate X /x/\nbody B /x/")
        #expect(outcome.ruleSet == nil)
        #expect(outcome.error?.errors.map(\.description) == ["Rules/10.cf:2: unknown directive frobnicate"])
    }

    // MARK: Settings

    @Test func contentSettings() throws {
        let defaults = try contentRuleSet("body B /x/")
        #expect(defaults.scanBytes == MIMELimits.defaultMaximumBytes)
        #expect(defaults.tagging == TagHeaders())
        #expect(defaults.tagging.enabled == false)
        #expect(defaults.tagging.threshold == 5)
        #expect(defaults.tagging.names == ["X-Spam-Score", "X-Spam-Status", "X-Spam-Flag"])
        let text = """
            scan_size 2m
            tag_headers on
            tag_threshold 6.5
            tag_header score X-Warden-Score
            tag_header status off
            tag_header flag X-Is-Spam
            """
        let set = try contentRuleSet(text)
        #expect(set.scanBytes == 2 * 1024 * 1024)
        #expect(set.tagging.enabled)
        #expect(set.tagging.threshold == 6.5)
        #expect(set.tagging.scoreName == "X-Warden-Score")
        #expect(set.tagging.statusName == nil)
        #expect(set.tagging.flagName == "X-Is-Spam")
    }

    /// (scan_size argument, bytes)
    @Test(arguments: [("64k", 65536), ("64K", 65536), ("512k", 524_288), ("65536", 65536), ("1m", 1_048_576), ("64m", 67_108_864), ("64M", 67_108_864)])
    func scanSizes(text: String, bytes: Int) throws {
        #expect(try contentRuleSet("scan_size \(text)").scanBytes == bytes)
    }

    /// DEFECT: `RuleSetLoader.byteCount` (RuleSetLoader+Content.swift:97) multiplies with `*`,
    /// which traps on overflow: `scan_size 9999999999999999m` kills `warden check`, and a reload
    /// of such a file kills the running proxy, instead of being refused as out of range.
    @Test func aHugeScanSizeIsAnErrorNotACrash() async {
        await #expect(processExitsWith: .success) {
            let outcome = loadRules("scan_size 9999999999999999m")
            let refused = outcome.messages == ["Rules/10.cf:1: scan_size takes a size from 64k to 64m, like 512k"]
            try? FileManager.default.removeItem(atPath: outcome.tree.root)
            exit(refused ? 0 : 1)
        }
    }

    /// (line, the error at line 1)
    @Test(arguments: [
        ("scan_size", "scan_size takes one value"),
        ("scan_size 1m 2m", "scan_size takes one value"),
        ("scan_size 63k", "scan_size takes a size from 64k to 64m, like 512k"),
        ("scan_size 65535", "scan_size takes a size from 64k to 64m, like 512k"),
        ("scan_size 65m", "scan_size takes a size from 64k to 64m, like 512k"),
        ("scan_size 1g", "scan_size takes a size from 64k to 64m, like 512k"),
        ("scan_size -1m", "scan_size takes a size from 64k to 64m, like 512k"),
        ("scan_size big", "scan_size takes a size from 64k to 64m, like 512k"),
        ("scan_size 1.5m", "scan_size takes a size from 64k to 64m, like 512k"),
        ("tag_headers", "tag_headers takes on or off"),
        ("tag_headers yes", "tag_headers takes on or off"),
        ("tag_headers on off", "tag_headers takes on or off"),
        ("tag_threshold", "tag_threshold takes one value"),
        ("tag_threshold high", "tag_threshold takes a number"),
        ("tag_threshold nan", "tag_threshold takes a number"),
        ("tag_threshold 5 6", "tag_threshold takes one value"),
        ("tag_header score", "tag_header takes score, status or flag and a field name or off"),
        ("tag_header level X-Level", "tag_header takes score, status or flag and a field name or off"),
        ("tag_header score X-A X-B", "tag_header takes score, status or flag and a field name or off"),
        ("tag_header score X-Score:", "X-Score: is not a header field name"),
        ("tag_header flag X-Flag\u{e9}", "X-Flag\u{e9} is not a header field name"),
    ])
    func invalidContentSettings(line: String, message: String) {
        let outcome = loadRules(line)
        #expect(outcome.ruleSet == nil)
        #expect(outcome.messages == ["Rules/10.cf:1: \(message)"])
    }
}
