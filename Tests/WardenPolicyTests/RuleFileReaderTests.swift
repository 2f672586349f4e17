import Foundation
import Testing

@testable import WardenPolicy

@Suite struct RuleFileReaderTests {
    struct Read {
        /// `FILE:LINE keyword [arguments]`
        var lines: [String]
        var diagnostics: [String]
        /// Files read, relative to the root.
        var files: [String]
    }

    /// Reads `Rules/` of a tree holding `files`.
    func read(_ files: [String: String], in tree: TempTree = TempTree()) -> Read {
        for (path, text) in files { tree.write(path, text) }
        var reader = RuleFileReader(displayRoot: tree.root)
        reader.readDirectory(tree.path("Rules"))
        return Read(
            lines: reader.lines.map { "\($0.file):\($0.line) \($0.keyword) [\($0.arguments)]" },
            diagnostics: reader.diagnostics.map(\.description),
            files: reader.files.map { String($0.dropFirst(tree.root.count + 1)) })
    }

    @Test func commentsBlankLinesKeywordCaseAndWhitespace() {
        let text = """
            # a comment line
               \t
            SCORE   A_RULE 1   # trailing comment
            header  X  Subject =~ /a\\#b/  # the escaped # is a #
            \tDescribe A_RULE  text with  spaces\t
            describe B x\\\\# an escaped backslash does not escape the #
            describe C ends with a backslash \\
            score C 2
                # indented comment
            """
        let result = read(["Rules/a.cf": text])
        #expect(result.diagnostics == [])
        #expect(
            result.lines == [
                "Rules/a.cf:3 score [A_RULE 1]",
                "Rules/a.cf:4 header [X  Subject =~ /a#b/]",
                "Rules/a.cf:5 describe [A_RULE  text with  spaces]",
                "Rules/a.cf:6 describe [B x\\\\]",
                "Rules/a.cf:7 describe [C ends with a backslash \\]",
                "Rules/a.cf:8 score [C 2]",
            ])
    }

    @Test(arguments: [
        ("NAME rest of it", "NAME", "rest of it"),
        ("NAME\t \trest\tof it", "NAME", "rest\tof it"),
        ("  NAME", "NAME", ""),
        ("", "", ""),
    ])
    func nameAndRest(arguments: String, name: String, rest: String) {
        let line = RuleLine(file: "f", line: 1, keyword: "score", arguments: arguments)
        #expect(line.nameAndRest == (name, rest))
    }

    @Test func filesAreReadInNameOrderAndOnlyCf() {
        let result = read([
            "Rules/20-b.cf": "describe B b",
            "Rules/10-a.cf": "describe A a",
            "Rules/9-c.cf": "describe C c",
            "Rules/Z.cf": "describe Z z",
            "Rules/notes.txt": "describe NOTES n",
            "Rules/old.cf.bak": "describe BAK b",
            "Rules/README": "describe README r",
            "Rules/sub/inner.cf": "describe INNER i",
        ])
        #expect(result.diagnostics == [])
        #expect(result.lines == ["Rules/10-a.cf:1 describe [A a]", "Rules/20-b.cf:1 describe [B b]", "Rules/9-c.cf:1 describe [C c]", "Rules/Z.cf:1 describe [Z z]"])
        #expect(result.files == ["Rules/10-a.cf", "Rules/20-b.cf", "Rules/9-c.cf", "Rules/Z.cf"])
    }

    @Test func aMissingRulesDirectoryIsAnError() {
        let tree = TempTree()
        var reader = RuleFileReader(displayRoot: tree.root)
        reader.readDirectory(tree.path("Rules"))
        #expect(reader.diagnostics.map(\.description) == ["Rules: cannot read the rules directory"])
        #expect(reader.lines.isEmpty)
    }

    @Test func includeIsRelativeToTheIncludingFile() {
        let tree = TempTree()
        tree.write("elsewhere/abs.cf", "describe ABS absolute")
        let result = read([
            "Rules/10-main.cf": "include sub/extra.cf\nINCLUDE \(tree.path("elsewhere/abs.cf"))\nscore A 1",
            "Rules/sub/extra.cf": "# included\ninclude more.txt\ndescribe A from extra",
            "Rules/sub/more.txt": "action A reject",
        ], in: tree)
        #expect(result.diagnostics == [])
        #expect(
            result.lines == [
                "Rules/sub/more.txt:1 action [A reject]",
                "Rules/sub/extra.cf:3 describe [A from extra]",
                "elsewhere/abs.cf:1 describe [ABS absolute]",
                "Rules/10-main.cf:3 score [A 1]",
            ])
        #expect(result.files == ["Rules/10-main.cf", "Rules/sub/extra.cf", "Rules/sub/more.txt", "elsewhere/abs.cf"])
    }

    @Test func includesNestAtMostEightLevels() {
        var files = ["Rules/00.cf": "include inc/1.cf\ndescribe D0 x"]
        for level in 1...9 {
            files["Rules/inc/\(level).cf"] = "include \(level + 1).cf\ndescribe D\(level) x"
        }
        let result = read(files)
        #expect(result.diagnostics == ["Rules/inc/8.cf:1: includes nested deeper than 8"])
        #expect(result.lines.map { $0.split(separator: " ")[2] } == ["[D8", "[D7", "[D6", "[D5", "[D4", "[D3", "[D2", "[D1", "[D0"])
    }

    @Test func aFileIncludingItselfStopsAtTheDepthLimit() {
        let result = read(["Rules/a.cf": "include a.cf\ndescribe A x"])
        #expect(result.diagnostics == ["Rules/a.cf:1: includes nested deeper than 8"])
        #expect(result.lines.count == 9)
    }

    @Test func missingOrEmptyIncludes() {
        let result = read(["Rules/a.cf": "include\ninclude nope.cf\ndescribe A still read"])
        #expect(result.diagnostics == ["Rules/a.cf:1: include needs a file name", "Rules/a.cf:2: included file nope.cf does not exist"])
        #expect(result.lines == ["Rules/a.cf:3 describe [A still read]"])
    }

    /// Blocks of plugins Warden does not have are skipped; a rule defined there is kept only as
    /// an inactive line naming the plugin, so that it can be reported.
    @Test func ifpluginReadsWardenAndKnownPluginBlocks() {
        let text = """
            ifplugin Mail::SpamAssassin::Plugin::TextCat
            header TEXTCAT_X eval:check_language()
            anything at all here
            include does-not-exist.cf
            endif
            ifplugin Warden
            describe IN_WARDEN read
            endif
            IFPLUGIN Mail::SpamAssassin::Plugin::Warden
            describe IN_WARDEN_LONG read
            ENDIF
            ifplugin Warden
            ifplugin Other
            describe NESTED_OTHER skipped
            endif
            describe AFTER_NESTED read
            endif
            """
        let result = read(["Rules/a.cf": text])
        #expect(result.diagnostics == [])
        #expect(result.lines == [
            "Rules/a.cf:2 header [TEXTCAT_X eval:check_language()]",
            "Rules/a.cf:7 describe [IN_WARDEN read]", "Rules/a.cf:10 describe [IN_WARDEN_LONG read]", "Rules/a.cf:16 describe [AFTER_NESTED read]",
        ])
        let dkim = read(["Rules/b.cf": "ifplugin Mail::SpamAssassin::Plugin::DKIM\ndescribe DKIM_READ read\nendif"])
        #expect(dkim.lines == ["Rules/b.cf:2 describe [DKIM_READ read]"])
    }

    /// (condition, whether its block is read, warning)
    @Test(arguments: [
        ("(version >= 3.004000)", true, nil),
        ("version >= 4.000000", true, nil),
        ("(version < 3.004000)", false, nil),
        ("can(Mail::SpamAssassin::Conf::feature_bug6558_free)", false, nil),
        ("!can(Mail::SpamAssassin::Conf::feature_bug6558_free)", true, nil),
        ("(!can(Mail::SpamAssassin::Conf::feature_dns_block_rule))", true, nil),
        ("plugin(Mail::SpamAssassin::Plugin::DKIM)", false, nil),
        ("(perl_version >= 5.010)", false, "Rules/a.cf:2: warning: condition '(perl_version >= 5.010)' is not understood; its block is skipped"),
    ] as [(String, Bool, String?)])
    func ifConditions(condition: String, isRead: Bool, warning: String?) {
        let result = read(["Rules/a.cf": "describe BEFORE x\nif \(condition)\ndescribe INSIDE x\nendif\ndescribe AFTER x"])
        #expect(result.diagnostics == (warning.map { [$0] } ?? []))
        let expected = ["Rules/a.cf:1 describe [BEFORE x]"] + (isRead ? ["Rules/a.cf:3 describe [INSIDE x]"] : []) + ["Rules/a.cf:5 describe [AFTER x]"]
        #expect(result.lines == expected)
    }

    @Test func anUnknownConditionInsideASkippedBlockIsNotReported() {
        let result = read(["Rules/a.cf": "ifplugin Other\nif perl_version >= 5\ndescribe X x\nendif\nendif"])
        #expect(result.diagnostics == [])
        #expect(result.lines == [])
    }

    @Test func elseReadsTheOtherBranch() {
        let text = """
            ifplugin Other
            describe A skipped
            else
            describe B read
            endif
            if (version >= 3.004000)
            describe C read
            else
            describe D skipped
            endif
            ifplugin Other
            if (version >= 3.004000)
            describe E skipped
            else
            describe F skipped
            endif
            endif
            """
        let result = read(["Rules/a.cf": text])
        #expect(result.diagnostics == [])
        #expect(result.lines == ["Rules/a.cf:4 describe [B read]", "Rules/a.cf:7 describe [C read]"])
    }

    @Test(arguments: [
        ("endif\ndescribe A x", ["Rules/a.cf:1: endif without if"], ["Rules/a.cf:2 describe [A x]"]),
        ("describe A x\nelse", ["Rules/a.cf:2: else without if"], ["Rules/a.cf:1 describe [A x]"]),
        ("ifplugin Warden\ndescribe A x", ["Rules/a.cf: 1 if/ifplugin block(s) without endif"], ["Rules/a.cf:2 describe [A x]"]),
        ("ifplugin Warden\nif (version >= 3.0)\nendif", ["Rules/a.cf: 1 if/ifplugin block(s) without endif"], []),
        ("ifplugin Other\nif can(x)\ndescribe A x", ["Rules/a.cf: 2 if/ifplugin block(s) without endif"], []),
    ])
    func unbalancedBlocks(text: String, diagnostics: [String], lines: [String]) {
        let result = read(["Rules/a.cf": text])
        #expect(result.diagnostics == diagnostics)
        #expect(result.lines == lines)
    }

    @Test func anUnclosedBlockDoesNotReachIntoTheNextFile() {
        let result = read(["Rules/a.cf": "ifplugin Other\ndescribe A x", "Rules/b.cf": "describe B x"])
        #expect(result.diagnostics == ["Rules/a.cf: 1 if/ifplugin block(s) without endif"])
        #expect(result.lines == ["Rules/b.cf:1 describe [B x]"])
    }

    /// DEFECT: `RuleFileReader.readFile` (RuleFileReader.swift:59) splits the text on the Character "\n", but Swift reads
    /// "\r\n" as one Character, so a CRLF file is one single line: a file that starts with a
    /// comment is ignored whole, without a diagnostic.
    @Test func crlfFilesAreReadLineByLine() {
        let result = read(["Rules/a.cf": "# rules saved on Windows\r\nclient_no_rdns NO_RDNS\r\nscore NO_RDNS 2\r\n"])
        #expect(result.diagnostics == [])
        #expect(result.lines == ["Rules/a.cf:2 client_no_rdns [NO_RDNS]", "Rules/a.cf:3 score [NO_RDNS 2]"])
    }
}
