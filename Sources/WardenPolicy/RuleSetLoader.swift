import Foundation

/// Compiles `Rules/*.cf` (and the lists they name in `Blocklists/`) into a ``RuleSet``. Every
/// problem is a ``RuleDiagnostic`` with file and line; any error fails the whole load, so a
/// broken file never replaces a running policy.
public struct RuleSetLoader {
    static let otherSpamAssassinDirectives: Set<String> = [
        "lang", "report", "report_contact", "required_score", "add_header", "remove_header", "rewrite_header",
        "loadplugin", "test", "redirector_pattern", "util_rb_tld", "util_rb_2tld", "util_rb_3tld",
        "enlist_uri_host", "delist_uri_host", "freemail_domains", "freemail_whitelist", "uridnsbl", "urirhsbl",
        "urirhssub", "uridnssub", "reuse", "clear_report_template", "clear_headers", "report_safe", "whitelist_from",
        "blacklist_from", "welcome_list_from", "block_list_from", "trusted_networks", "internal_networks",
        "bayes_auto_learn", "use_bayes", "dns_available", "skip_rbl_checks", "replace_tag", "replace_rules",
        "replace_start", "replace_end", "replace_pre", "replace_post", "replace_inter", "uri_block_cc", "uri_block_cont",
        "check_rbl_sub", "tflags_default", "version_tag", "unwhitelist_from", "util_rb_tld", "shortcircuit",
    ]

    let blocklists: String
    let displayRoot: String
    var ruleSet = RuleSet()
    var diagnostics: [RuleDiagnostic] = []
    private var lists: [String: AddressList] = [:]
    var indexByName: [String: Int] = [:]
    var scored: Set<String> = []
    /// SpamAssassin directives Warden skips: how many lines, and the first one.
    private var ignoredDirectives: [String: (count: Int, first: RuleLine)] = [:]

    public init(blocklistsDirectory: String, displayRoot: String) {
        self.blocklists = blocklistsDirectory
        self.displayRoot = displayRoot.hasSuffix("/") && displayRoot.count > 1 ? String(displayRoot.dropLast()) : displayRoot
    }

    /// Arguments are separated by spaces or tabs.
    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// Loads the rules of `directory`; throws when anything is an error.
    public static func load(rulesDirectory: String, blocklistsDirectory: String, displayRoot: String) throws(RuleLoadError) -> RuleSet {
        var reader = RuleFileReader(displayRoot: displayRoot)
        reader.readDirectory(rulesDirectory)
        var loader = RuleSetLoader(blocklistsDirectory: blocklistsDirectory, displayRoot: displayRoot)
        return try loader.compile(reader.lines, readerDiagnostics: reader.diagnostics, files: reader.files)
    }

    public mutating func compile(_ lines: [RuleLine], readerDiagnostics: [RuleDiagnostic], files: [String]) throws(RuleLoadError) -> RuleSet {
        diagnostics = readerDiagnostics
        ruleSet.files = files
        var attributes: [RuleLine] = []
        for line in lines {
            if let reason = line.inactive {
                hidden(line, reason)
                continue
            }
            switch line.keyword {
            case "score", "describe", "tflags", "action", "priority":
                attributes.append(line)
            default:
                directive(line)
            }
        }
        for line in attributes { attribute(line) }
        // A rule that decides by its action adds nothing to the score unless given one; a limit
        // without a score or an action answers 451 (421 for connections) when it is exceeded.
        for index in ruleSet.rules.indices {
            let rule = ruleSet.rules[index]
            let isScored = scored.contains(rule.name)
            switch rule.test {
            case .rate(let limit) where rule.action == nil && !isScored:
                ruleSet.rules[index].action = limit.counted == .connections ? .disconnect : .tempfail
            case .bulk where rule.action == nil && !isScored:
                ruleSet.rules[index].action = .tempfail
            default:
                break
            }
            if ruleSet.rules[index].action != nil && !isScored { ruleSet.rules[index].score = 0 }
        }
        for (keyword, seen) in ignoredDirectives.sorted(by: { $0.value.first.file + "\($0.value.first.line)" < $1.value.first.file + "\($1.value.first.line)" }) {
            let lines = seen.count == 1 ? "skipped" : "\(seen.count) lines skipped, the first here"
            let owner = seen.first.plugin.map { " (plugin \($0))" } ?? ""
            warning(seen.first, "SpamAssassin directive \(keyword)\(owner) is not supported; \(lines)")
        }
        finishContentRules()
        ruleSet.files += lists.keys.sorted()
        ruleSet.warnings = diagnostics.filter { $0.severity == .warning }
        guard !diagnostics.contains(where: { $0.severity == .error }) else { throw RuleLoadError(diagnostics: diagnostics) }
        return ruleSet
    }

    // MARK: Directives

    private mutating func directive(_ line: RuleLine) {
        let (name, rest) = line.nameAndRest
        switch line.keyword {
        case "client_list":
            guard let (list, shown) = list(rest, line) else { return }
            define(name, .client(.list(list, file: shown)), line)
        case "dnsbl", "dnswl":
            let parts = Self.words(rest)
            guard (1...2).contains(parts.count), Self.isZone(parts[0]) else {
                return error(line, "\(line.keyword) takes a zone and an optional answer filter: \(line.keyword) NAME ZONE [127.0.0.2-3]")
            }
            var filter = DNSListFilter.anyListing
            if parts.count == 2 {
                do { filter = try DNSListFilter(parsing: parts[1]) } catch { return self.error(line, error.message) }
            }
            define(name, .client(.dnsList(zone: parts[0].lowercased(), filter: filter)), line)
        case "country", "continent":
            let codes = Self.codes(rest)
            guard !codes.isEmpty, codes.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isLetter) }) else {
                return error(line, "\(line.keyword) takes two-letter codes separated by commas")
            }
            define(name, .client(line.keyword == "country" ? .country(Set(codes)) : .continent(Set(codes))), line)
        case "asn":
            let numbers = Self.codes(rest).map { $0.hasPrefix("AS") ? String($0.dropFirst(2)) : $0 }
                .map { $0.allSatisfy(\.isNumber) ? Int($0) : nil }
            guard !numbers.isEmpty, numbers.allSatisfy({ (0...4_294_967_295).contains($0 ?? -1) }) else {
                return error(line, "asn takes AS numbers separated by commas, like 64500 or AS64500")
            }
            define(name, .client(.asn(Set(numbers.compactMap { $0 }))), line)
        case "client_no_rdns", "early_talker":
            guard rest.isEmpty else { return error(line, "\(line.keyword) takes only a rule name") }
            define(name, .client(line.keyword == "early_talker" ? .earlyTalker : .noReverseDNS), line)
        case "ratelimit", "bulk":
            let isRate = line.keyword == "ratelimit"
            do {
                let options = try RateLimitParser.parse(rest, allowCount: isRate) { file in list(file, line) }
                let (limit, window) = (options.limit!, options.windowSeconds!)
                let test: Rule.Test = isRate
                    ? .rate(RateLimit(key: options.key, counted: options.counted!, limit: limit, windowSeconds: window, scope: options.scope))
                    : .bulk(BulkLimit(key: options.key, limit: limit, windowSeconds: window, scope: options.scope))
                define(name, test, line)
            } catch {
                self.error(line, "\(line.keyword): \(error.message)")
            }
        case _ where ContentRuleParser.supportedTypes.contains(line.keyword):
            contentRule(line)
        case "helo":
            guard let condition = HeloCondition(rawValue: rest) else {
                return error(line, "helo takes one of \(HeloCondition.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            define(name, .helo(condition), line)
        default:
            setting(line)
        }
    }

    private mutating func setting(_ line: RuleLine) {
        let words = Self.words(line.arguments)
        switch line.keyword {
        case "threshold":
            guard words.count == 2, let value = Double(words[1]), value.isFinite else { return error(line, "threshold takes tempfail, reject or allow and a number") }
            switch words[0] {
            case "tempfail": ruleSet.tempfailThreshold = value
            case "reject": ruleSet.rejectThreshold = value
            case "allow": ruleSet.allowThreshold = value
            default: error(line, "threshold takes tempfail, reject or allow and a number")
            }
        case "reject_at":
            guard words.count == 1, let point = RuleSet.RefusalPoint(rawValue: words[0]) else { return error(line, "reject_at takes rcpt or greeting") }
            ruleSet.refusalPoint = point
        case "shadow":
            guard words.count == 1, ["on", "off"].contains(words[0]) else { return error(line, "shadow takes on or off") }
            ruleSet.shadow = words[0] == "on"
        case "greeting_delay":
            guard words.count == 1, let seconds = Double(words[0]), (0...60).contains(seconds) else {
                return error(line, "greeting_delay takes seconds from 0 to 60")
            }
            ruleSet.greetingDelaySeconds = seconds
        case "dns_zone":
            zoneSettings(words, line)
        case "scan_size", "tag_headers", "tag_threshold", "tag_header":
            contentSetting(line, words)
        default:
            if ContentRuleParser.unsupportedTypes.contains(line.keyword) {
                let (name, _) = line.nameAndRest
                skip(name, "\(line.keyword) rules are not supported", line)
            } else if SpamAssassinDirectives.names.contains(line.keyword) || Self.otherSpamAssassinDirectives.contains(line.keyword)
                || line.plugin != nil
            {
                // One warning per directive, not per line: stock files repeat some hundreds of times.
                if let known = ignoredDirectives[line.keyword] {
                    ignoredDirectives[line.keyword] = (known.count + 1, known.first)
                } else {
                    ignoredDirectives[line.keyword] = (1, line)
                }
            } else {
                error(line, "unknown directive \(line.keyword)")
            }
        }
    }

    private mutating func zoneSettings(_ words: [String], _ line: RuleLine) {
        guard let zone = words.first, Self.isZone(zone) else { return error(line, "dns_zone takes a zone, then timeout=SECONDS and on_error=ignore|tempfail") }
        var settings = ruleSet.zones[zone.lowercased()] ?? ZoneSettings()
        for option in words.dropFirst() {
            let pair = option.split(separator: "=", maxSplits: 1).map(String.init)
            switch (pair.first, pair.count == 2 ? pair[1] : nil) {
            case ("timeout", let value?):
                guard let seconds = Double(value.hasSuffix("s") ? String(value.dropLast()) : value), seconds > 0, seconds <= 30 else {
                    return error(line, "timeout must be seconds from 0 to 30")
                }
                settings.timeoutSeconds = seconds
            case ("on_error", let value?):
                guard let policy = ZoneSettings.OnError(rawValue: value) else { return error(line, "on_error must be ignore or tempfail") }
                settings.onError = policy
            default:
                return error(line, "unknown dns_zone option \(option)")
            }
        }
        ruleSet.zones[zone.lowercased()] = settings
    }

    // MARK: Rule attributes

    private mutating func attribute(_ line: RuleLine) {
        let (name, rest) = line.nameAndRest
        guard let index = indexByName[name] else {
            if ruleSet.skipped[name] != nil || ruleSet.failed[name] != nil { return }
            // SpamAssassin's stock files score and describe rules of plugins that may not be
            // loaded: as in SpamAssassin, an unknown rule there is a warning, not a failed load.
            if line.keyword != "action" {
                warning(line, "\(line.keyword) for undefined rule \(name); ignored")
            } else {
                error(line, "\(line.keyword) for undefined rule \(name)")
            }
            return
        }
        switch line.keyword {
        case "score":
            // One score, or SpamAssassin's four score sets: Warden runs network tests and has no
            // Bayes, so it takes set 1 (the second number).
            let numbers = Self.words(rest).map { Double($0) }
            guard numbers.count == 1 || numbers.count == 4, numbers.allSatisfy({ $0?.isFinite == true }) else {
                return error(line, "score takes one number or four")
            }
            ruleSet.rules[index].score = numbers.count == 4 ? numbers[1]! : numbers[0]!
            scored.insert(name)
        case "describe":
            ruleSet.rules[index].summary = rest
        case "action":
            guard let action = RuleAction(rawValue: rest) else {
                return error(line, "action takes one of \(RuleAction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            ruleSet.rules[index].action = action
        case "tflags":
            contentFlags(Self.words(rest), index: index, line: line)
        case "priority":
            guard let value = Int(rest) else { return error(line, "priority takes a whole number") }
            ruleSet.rules[index].priority = value
        default:
            preconditionFailure("attribute \(line.keyword)")
        }
    }

    // MARK: Helpers

    mutating func define(_ name: String, _ test: Rule.Test, _ line: RuleLine) {
        guard Self.isRuleName(name) else {
            return error(line, "\(name.isEmpty ? "a rule name is missing" : "\(name) is not a rule name (letters, digits, _; at most 100)")")
        }
        if let existing = indexByName[name] {
            let first = ruleSet.rules[existing]
            return error(line, "rule \(name) is already defined at \(first.file):\(first.line)")
        }
        indexByName[name] = ruleSet.rules.count
        ruleSet.rules.append(Rule(name: name, test: test, file: line.file, line: line.line))
    }

    private mutating func list(_ file: String, _ line: RuleLine) -> (AddressList, String)? {
        guard !file.isEmpty, !file.contains(" ") else {
            error(line, "client_list takes a rule name and one list file")
            return nil
        }
        let path = file.hasPrefix("/") ? file : (blocklists as NSString).appendingPathComponent(file)
        let shown = path.hasPrefix(displayRoot + "/") ? String(path.dropFirst(displayRoot.count + 1)) : path
        if let known = lists[path] { return (known, shown) }
        do {
            let list = try AddressListLoader.load(path: path, displayName: shown)
            lists[path] = list
            return (list, shown)
        } catch {
            // The list's own error names its file and line; say where it was used too.
            diagnostics.append(RuleDiagnostic(.error, file: shown, line: error.line, error.message + " (used by \(line.file):\(line.line))"))
            return nil
        }
    }

    mutating func error(_ line: RuleLine, _ message: String) {
        diagnostics.append(RuleDiagnostic(.error, file: line.file, line: line.line, message))
    }

    mutating func warning(_ line: RuleLine, _ message: String) {
        diagnostics.append(RuleDiagnostic(.warning, file: line.file, line: line.line, message))
    }

    static func isRuleName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 100 && name.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 || ($0 >= 97 && $0 <= 122) }
    }

    static func isZone(_ zone: String) -> Bool {
        let labels = zone.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty && $0.count <= 63 && $0.utf8.allSatisfy { ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 } }
    }

    static func codes(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map { $0.uppercased() }
    }
}
