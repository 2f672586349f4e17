/// The SpamAssassin content rules of a rule set: definitions, their flags, the settings of the
/// content stage, and the checks made once every file is read.
extension RuleSetLoader {
    mutating func contentRule(_ line: RuleLine) {
        let (name, rest) = line.nameAndRest
        guard Self.isRuleName(name) else {
            return error(line, "\(name.isEmpty ? "a rule name is missing" : "\(name) is not a rule name (letters, digits, _; at most 100)")")
        }
        let test: ContentTest
        do {
            test = try ContentRuleParser.parse(line.keyword, rest)
        } catch {
            switch error {
            case .unsupported(let reason):
                return skip(name, reason, line)
            case .invalid(let reason):
                // Like SpamAssassin, a rule that does not compile is reported and left out; the
                // rest of the rules load.
                dropDefinition(name)
                ruleSet.failed[name] = reason
                return warning(line, "rule \(name) not loaded: \(reason)")
            }
        }
        ruleSet.skipped[name] = nil
        ruleSet.failed[name] = nil
        if let existing = indexByName[name] {
            // SpamAssassin lets a later definition replace a content rule (local overrides).
            guard case .content = ruleSet.rules[existing].test else {
                let first = ruleSet.rules[existing]
                return error(line, "rule \(name) is already defined at \(first.file):\(first.line)")
            }
            var rule = Rule(name: name, test: .content(test), file: line.file, line: line.line)
            rule.score = ruleSet.rules[existing].score
            rule.summary = ruleSet.rules[existing].summary
            ruleSet.rules[existing] = rule
            return
        }
        define(name, .content(test), line)
        if name.hasPrefix("T_"), let index = indexByName[name] { ruleSet.rules[index].score = 0.01 }
    }

    /// A rule inside the block of a plugin Warden does not have.
    mutating func hidden(_ line: RuleLine, _ reason: String) {
        let (name, _) = line.nameAndRest
        if indexByName[name] == nil, Self.isRuleName(name) { ruleSet.skipped[name] = reason }
    }

    mutating func skip(_ name: String, _ reason: String, _ line: RuleLine) {
        dropDefinition(name)
        ruleSet.skipped[name] = reason
        warning(line, "rule \(name) skipped: \(reason)")
    }

    /// A content rule defined earlier and redefined in a form that does not load is gone.
    private mutating func dropDefinition(_ name: String) {
        guard let index = indexByName[name], case .content = ruleSet.rules[index].test else { return }
        ruleSet.rules.remove(at: index)
        indexByName = Dictionary(ruleSet.rules.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { $1 })
    }

    mutating func contentSetting(_ line: RuleLine, _ words: [String]) {
        switch (line.keyword, words.count) {
        case ("scan_size", 1):
            guard let bytes = Self.byteCount(words[0]), (64 * 1024...64 * 1024 * 1024).contains(bytes) else {
                return error(line, "scan_size takes a size from 64k to 64m, like 512k")
            }
            ruleSet.scanBytes = bytes
        case ("tag_headers", 1) where ["on", "off"].contains(words[0]):
            ruleSet.tagging.enabled = words[0] == "on"
        case ("tag_threshold", 1):
            guard let value = Double(words[0]), value.isFinite else { return error(line, "tag_threshold takes a number") }
            ruleSet.tagging.threshold = value
        case ("tag_header", 2):
            let name: String? = words[1] == "off" ? nil : words[1]
            if let name, !name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) {
                return error(line, "\(name) is not a header field name")
            }
            switch words[0] {
            case "score": ruleSet.tagging.scoreName = name
            case "status": ruleSet.tagging.statusName = name
            case "flag": ruleSet.tagging.flagName = name
            default: error(line, "tag_header takes score, status or flag and a field name or off")
            }
        default:
            switch line.keyword {
            case "tag_headers": error(line, "tag_headers takes on or off")
            case "tag_header": error(line, "tag_header takes score, status or flag and a field name or off")
            default: error(line, "\(line.keyword) takes one value")
            }
        }
    }

    /// `512k`, `2m` or a number of bytes.
    static func byteCount(_ text: String) -> Int? {
        let lowered = text.lowercased()
        let multiplier = lowered.hasSuffix("k") ? 1024 : lowered.hasSuffix("m") ? 1024 * 1024 : 1
        guard let number = Int(multiplier == 1 ? lowered : String(lowered.dropLast())) else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }

    /// `tflags`: `shadow` for any rule; `multiple`, `maxhits=N`, `nice` and `nosubject` for content
    /// rules. SpamAssassin's other flags (`net`, `learn`, `userconf`, `noautolearn`, ...) change
    /// nothing in Warden: counted for `warden check`, not warned about one by one.
    mutating func contentFlags(_ flags: [String], index: Int, line: RuleLine) {
        let isContent: Bool
        if case .content = ruleSet.rules[index].test { isContent = true } else { isContent = false }
        // A tflags line replaces the flags before it, as in SpamAssassin.
        ruleSet.rules[index].flags = RuleFlags()
        for flag in flags {
            switch flag {
            case "shadow":
                ruleSet.rules[index].shadow = true
            case "multiple" where isContent:
                ruleSet.rules[index].flags.multiple = true
            case "nice" where isContent:
                ruleSet.rules[index].flags.nice = true
            case "nosubject" where isContent:
                ruleSet.rules[index].flags.noSubject = true
            case _ where isContent && flag.hasPrefix("maxhits="):
                guard let count = Int(flag.dropFirst("maxhits=".count)), count > 0 else { return error(line, "maxhits takes a positive number") }
                ruleSet.rules[index].flags.maxHits = count
            case _ where isContent:
                ruleSet.ignoredFlags[flag, default: 0] += 1
            default:
                warning(line, "tflags \(flag) has no effect on \(ruleSet.rules[index].name)")
            }
        }
    }

    /// After every file: a rule scored 0 is disabled; a meta rule that reads a rule which was
    /// skipped or failed is skipped too (it could not be decided truthfully), and so is one in a
    /// dependency loop; then the content rules are compiled.
    mutating func finishContentRules() {
        var metas: [String: MetaExpression] = [:]
        for rule in ruleSet.rules {
            if case .content(.meta(let expression)) = rule.test { metas[rule.name] = expression }
        }
        for name in Self.metasInLoops(metas) {
            ruleSet.skipped[name] = "meta rules that depend on each other in a loop"
        }
        var changed = true
        while changed {
            changed = false
            for (name, expression) in metas where ruleSet.skipped[name] == nil {
                guard let missing = expression.ruleNames.first(where: { ruleSet.skipped[$0] != nil || ruleSet.failed[$0] != nil }) else { continue }
                ruleSet.skipped[name] = "depends on \(missing), which is not loaded"
                changed = true
            }
        }
        ruleSet.rules.removeAll { rule in
            if case .content(.meta) = rule.test, ruleSet.skipped[rule.name] != nil { return true }
            return false
        }
        indexByName = Dictionary(ruleSet.rules.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { $1 })
        // SpamAssassin's fix_tests: a `nice` rule without a score of its own lowers the score.
        for index in ruleSet.rules.indices where ruleSet.rules[index].flags.nice && !scored.contains(ruleSet.rules[index].name) {
            ruleSet.rules[index].score = -abs(ruleSet.rules[index].score)
        }
        let enabled = ruleSet.rules.filter { rule in
            guard case .content = rule.test else { return false }
            return !(scored.contains(rule.name) && rule.score == 0)
        }
        guard !enabled.isEmpty else { return }
        let others = Set(ruleSet.rules.filter { if case .content = $0.test { false } else { true } }.map(\.name))
        ruleSet.content = ContentRules(rules: enabled, sessionRules: others)
    }

    static func metasInLoops(_ metas: [String: MetaExpression]) -> [String] {
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var looped = Set<String>()
        func visit(_ name: String, _ path: [String]) {
            if state[name] == 2 { return }
            if state[name] == 1 {
                if let start = path.firstIndex(of: name) { looped.formUnion(path[start...]) }
                return
            }
            state[name] = 1
            for next in metas[name]?.ruleNames ?? [] where metas[next] != nil { visit(next, path + [name]) }
            state[name] = 2
        }
        for name in metas.keys.sorted() { visit(name, []) }
        return looped.sorted()
    }
}
