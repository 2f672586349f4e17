#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PCRE2
import WardenPolicy

/// `warden-bench content`: the throughput of the content stage on one thread (the figure per
/// core). Loads a rules directory (SpamAssassin's stock rules by default), builds a fixed mix of
/// messages (the `.eml` files of a directory and generated ones from a fixed seed) and times,
/// for a bounded time each, MIME parsing alone, a full scan with those rules, a full scan with
/// one trivial rule, and full scans with synthetic sets of 100 to 1,600 body rules whose literals
/// never occur (once with a literal the screen can use, once without), to show what rule count
/// costs. Then, more briefly: the cost by rule type, by message class, and the slowest rules.
struct ContentBenchmark {
    var rulesDirectory = "/usr/share/spamassassin"
    var messagesDirectory = "Tests/e2e/content/messages"
    /// Measuring time of each main case, split into three runs whose median is reported.
    var seconds: Double = 5
    var seed: UInt64 = 0x5741_5244_454E  // "WARDEN"

    static let syntheticCounts = [100, 400, 1600]
    static let ruleTypes = ["header", "body", "rawbody", "full", "uri", "meta"]

    func run() {
        printMachine()
        let blocklists = FileManager.default.currentDirectoryPath + "/Blocklists"

        // Rules.
        let clock = ContinuousClock()
        let loadStart = clock.now
        let stock: RuleSet
        do {
            stock = try RuleSetLoader.load(rulesDirectory: rulesDirectory, blocklistsDirectory: blocklists, displayRoot: rulesDirectory)
        } catch {
            print("cannot load \(rulesDirectory):")
            for diagnostic in error.diagnostics.prefix(20) { print("  \(diagnostic)") }
            exit(1)
        }
        let loadSeconds = seconds(clock.now - loadStart)
        guard let stockPolicy = ContentPolicy(ruleSet: stock) else {
            print("\(rulesDirectory) has no content rules")
            exit(1)
        }
        describeRules(stock, policy: stockPolicy, loadSeconds: loadSeconds)

        // Messages.
        let mix = MessageMix.build(directory: messagesDirectory, seed: seed)
        mix.describe(scanBytes: stock.scanBytes)
        let messages = mix.messages.map(\.bytes)
        var literalsToAvoid = messages.map { $0.map(LowerASCII.fold) }

        // Rule sets made here: the trivial baseline and the synthetic sweep.
        let workDirectory = NSTemporaryDirectory() + "warden-bench-content-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: workDirectory) }
        let trivialPolicy = policy(named: "trivial", lines: [Self.trivialRule], in: workDirectory, blocklists: blocklists)
        var random = SplitMix64(seed: seed ^ 0x5359_4E54)  // "SYNT"
        let literals = SyntheticLiterals.make(count: Self.syntheticCounts.max()!, avoiding: &literalsToAvoid, random: &random)

        print("")
        print("== throughput: one thread, every message of the mix in turn, \(Self.format(seconds, 1)) s per case in 3 runs, median run shown")
        print("   (MB = 10^6 bytes of message as received; us = microseconds)")
        let sink = Sink()
        let scanBytes = stock.scanBytes
        func measureCase(_ label: String, _ work: ([UInt8]) -> Int) -> CaseResult {
            let result = CaseResult.measure(messages, seconds: seconds, work)
            print(result.line(label))
            sink.value &+= result.median.messages
            return result
        }
        let parsing = measureCase("(a) MIME parsing only (ContentInput)") { bytes in
            let input = ContentInput(bytes: bytes, envelopeFrom: "sender@example.net", maxBytes: scanBytes)
            return input.message.problems.count
        }
        let full = measureCase("(b) full scan, stock rules (\(stockPolicy.rules.count))") { bytes in
            stockPolicy.scan(bytes, envelopeFrom: "sender@example.net").hits.count
        }
        let baseline = measureCase("(c) full scan, 1 trivial rule (baseline)") { bytes in
            trivialPolicy.scan(bytes, envelopeFrom: "sender@example.net").hits.count
        }
        // Pre-parsed inputs: ContentRules.scan alone, without parsing (the sweep's rules-only
        // figures and the breakdowns below).
        let inputs = messages.map { ContentInput(bytes: $0, envelopeFrom: "sender@example.net", maxBytes: scanBytes) }
        let matcher = RegexMatcher()
        let sweepBudget = max(0.3, seconds / 5)
        let rulesOnlyBase = Self.timeScan(trivialPolicy.rules, inputs: inputs, matcher: matcher, seconds: sweepBudget, sink: sink)
        var screenedRulesOnly: [(Int, Double)] = []
        var unscreenedRulesOnly: [(Int, Double)] = []
        var screened: [(Int, CaseResult)] = []
        var unscreened: [(Int, CaseResult)] = []
        for isScreened in [true, false] {
            for count in Self.syntheticCounts {
                let lines = [Self.trivialRule] + SyntheticLiterals.rules(literals.prefix(count), screened: isScreened)
                let name = isScreened ? "screened-\(count)" : "unscreened-\(count)"
                let policy = self.policy(named: name, lines: lines, in: workDirectory, blocklists: blocklists)
                let required = Self.requiredLiteralCount(policy.ruleSet)
                let label =
                    isScreened
                    ? "(d) baseline + \(count) body rules, literal screened (\(required) with a literal)"
                    : "(e) baseline + \(count) body rules, no usable literal (\(required) with a literal)"
                let result = measureCase(label) { bytes in
                    policy.scan(bytes, envelopeFrom: "sender@example.net").hits.count
                }
                let rulesOnly = Self.timeScan(policy.rules, inputs: inputs, matcher: matcher, seconds: sweepBudget, sink: sink) - rulesOnlyBase
                if isScreened {
                    screened.append((count, result))
                    screenedRulesOnly.append((count, rulesOnly))
                } else {
                    unscreened.append((count, result))
                    unscreenedRulesOnly.append((count, rulesOnly))
                }
            }
        }
        summarise(
            parsing: parsing, full: full, baseline: baseline, ruleCount: stockPolicy.rules.count,
            sweep: (screened, unscreened), rulesOnly: (rulesOnlyBase, screenedRulesOnly, unscreenedRulesOnly), sweepBudget: sweepBudget)

        var reader = RuleFileReader(displayRoot: rulesDirectory)
        reader.readDirectory(rulesDirectory)
        let compiler = Compiler(blocklists: blocklists, displayRoot: rulesDirectory)
        let attributionBaseline = compiler.compile(Self.trivialPerType)
        byClass(mix: mix, policy: stockPolicy, scanBytes: scanBytes, sink: sink)
        byType(reader.lines, compiler: compiler, inputs: inputs, matcher: matcher, baseline: attributionBaseline, sink: sink)
        slowestRules(reader.lines, stock: stockPolicy, compiler: compiler, inputs: inputs, matcher: matcher, baseline: attributionBaseline, sink: sink)
        print("")
        print("checksum: \(sink.value)")
    }

    // MARK: Sections

    private func printMachine() {
        let model = Self.firstLine(of: "/proc/cpuinfo", startingWith: "model name").map { String($0.drop { $0 != ":" }.dropFirst().drop { $0 == " " }) } ?? "unknown"
        let load = Self.firstLine(of: "/proc/loadavg", startingWith: "")?.split(separator: " ").prefix(3).joined(separator: " ") ?? "unavailable"
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S UTC", &parts)
        let date = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        print("machine: \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs (nproc), \(model)")
        print("date: \(date)")
        print("load average: \(load)")
        #if DEBUG
        print("build: DEBUG (figures are not meaningful; run Benchmarks/content or swift run -c release)")
        #else
        print("build: release; measured on one thread")
        #endif
    }

    private func describeRules(_ ruleSet: RuleSet, policy: ContentPolicy, loadSeconds: Double) {
        let enabled = Set(policy.rules.names)
        var byType: [String: Int] = [:]
        var withLiteral: [String: Int] = [:]
        var disabled = 0
        for rule in ruleSet.rules {
            guard case .content(let test) = rule.test else { continue }
            guard enabled.contains(rule.name) else { disabled += 1; continue }
            byType[test.kind, default: 0] += 1
            if let regex = Self.screenedRegex(of: test), Self.isScreened(regex) {
                withLiteral[test.kind, default: 0] += 1
            }
        }
        let skippedEval = ruleSet.skipped.values.filter { $0.hasPrefix("eval:") }.count
        print("")
        print("rules: \(rulesDirectory): \(ruleSet.files.count) files loaded in \(Self.format(loadSeconds * 1e3, 1)) ms")
        let types = Self.ruleTypes.map { "\($0) \(byType[$0] ?? 0)" }.joined(separator: ", ")
        print("content rules loaded: \(policy.rules.count) (\(types)); \(disabled) more scored 0 (disabled)")
        print("not loaded: \(ruleSet.skipped.count) skipped (\(skippedEval) eval: tests, \(ruleSet.skipped.count - skippedEval) other), \(ruleSet.failed.count) failed to compile; \(ruleSet.warnings.count) warnings")
        let screened = ["header", "body", "rawbody", "full", "uri"].map { "\($0) \(withLiteral[$0] ?? 0) of \(byType[$0] ?? 0)" }.joined(separator: ", ")
        print("rules the literal screen can skip (a required literal of 3+ bytes, or spellings of literals and small classes; header rules with =~): \(screened)")
    }

    private func summarise(
        parsing: CaseResult, full: CaseResult, baseline: CaseResult, ruleCount: Int,
        sweep: (screened: [(Int, CaseResult)], unscreened: [(Int, CaseResult)]),
        rulesOnly: (base: Double, screened: [(Int, Double)], unscreened: [(Int, Double)]), sweepBudget: Double
    ) {
        let perMessage = full.median.microsecondsPerMessage
        let rulesPart = perMessage - baseline.median.microsecondsPerMessage
        print("")
        print("== what the figures say")
        print("stock rules: \(Self.format(full.median.megabytesPerSecond, 1)) MB/s, \(Self.format(full.median.messagesPerSecond, 0)) messages/s per core on this mix")
        print(
            "of \(Self.format(perMessage, 1)) us per message: parsing and rendering \(Self.format(parsing.median.microsecondsPerMessage, 1)) us, "
                + "baseline scan \(Self.format(baseline.median.microsecondsPerMessage, 1)) us, the \(ruleCount) stock rules "
                + "\(Self.format(rulesPart, 1)) us (\(Self.format(100 * rulesPart / perMessage, 0))%)"
        )
        let base = baseline.median.microsecondsPerMessage
        func overBaseline(_ results: [(Int, CaseResult)]) -> String {
            results.map { "\($0.0): +\(Self.format($0.1.median.microsecondsPerMessage - base, 1))" }.joined(separator: ", ")
        }
        func rulesOnlyFigures(_ results: [(Int, Double)]) -> String {
            let figures = results.map { "\($0.0): +\(Self.format($0.1, 1))" }.joined(separator: ", ")
            guard let first = results.first, let last = results.last, last.0 > first.0 else { return figures }
            let perThousand = (last.1 - first.1) / Double(last.0 - first.0) * 1000
            return figures + "; \(Self.format(perThousand, 1)) us per 1000 rules"
        }
        print("synthetic body rules whose literal never occurs: cost per message over the baseline, in us")
        print("  full scan (noisy: the parse varies more than the rules cost):")
        print("    screened   \(overBaseline(sweep.screened))")
        print("    unscreened \(overBaseline(sweep.unscreened))")
        print("  ContentRules.scan alone on pre-parsed messages (\(Self.format(sweepBudget, 1)) s each; 1 trivial rule: \(Self.format(rulesOnly.base, 1)) us):")
        print("    screened   \(rulesOnlyFigures(rulesOnly.screened))")
        print("    unscreened \(rulesOnlyFigures(rulesOnly.unscreened))")
    }

    /// The stock scan by message class (short runs; parsing and full scan).
    private func byClass(mix: MessageMix, policy: ContentPolicy, scanBytes: Int, sink: Sink) {
        print("")
        let budget = max(0.3, seconds / 10)
        print("== by message class, stock rules (\(Self.format(budget, 1)) s each, median of 3)")
        print(Self.padded(["class", "messages", "bytes each", "parse us", "scan us", "scan MB/s", "hits", "score"], [44, 9, 11, 10, 10, 10, 6, 7]))
        for name in mix.classNames {
            let members = mix.messages.filter { $0.className == name }.map(\.bytes)
            let parse = CaseResult.measure(members, seconds: budget) { bytes in
                ContentInput(bytes: bytes, envelopeFrom: "sender@example.net", maxBytes: scanBytes).message.problems.count
            }
            let scan = CaseResult.measure(members, seconds: budget) { policy.scan($0, envelopeFrom: "sender@example.net").hits.count }
            let results = members.map { policy.scan($0, envelopeFrom: "sender@example.net") }
            let hits = results.map { $0.hits.filter { !$0.rule.isSubRule }.count }.reduce(0, +)
            let score = results.map(\.score).reduce(0, +) / Double(members.count)
            sink.value &+= parse.median.messages &+ scan.median.messages
            let sizes = members.map(\.count)
            let size = sizes.min() == sizes.max() ? "\(sizes[0])" : "\(sizes.reduce(0, +) / sizes.count) avg"
            print(
                Self.padded(
                    [
                        name, "\(members.count)", size, Self.format(parse.median.microsecondsPerMessage, 1),
                        Self.format(scan.median.microsecondsPerMessage, 1), Self.format(scan.median.megabytesPerSecond, 1),
                        Self.format(Double(hits) / Double(members.count), 1), Self.format(score, 1),
                    ], [44, 9, 11, 10, 10, 10, 6, 7]))
        }
        print("(hits: scored rules that hit, per message; score: mean content score)")
    }

    /// The stock rules by type: each type alone (with the metas, the other types absent), its
    /// cost over a baseline with one trivial rule of each type, on pre-parsed messages.
    private func byType(_ lines: [RuleLine], compiler: Compiler, inputs: [ContentInput], matcher: RegexMatcher, baseline: ContentRules?, sink: Sink) {
        guard let baseline else { return }
        print("")
        let budget = max(0.3, seconds / 10)
        print("== stock rules by type: ContentRules.scan on pre-parsed messages (no parsing), cost over a baseline of one trivial rule per type, \(Self.format(budget, 1)) s each")
        let base = Self.timeScan(baseline, inputs: inputs, matcher: matcher, seconds: budget, sink: sink)
        print("baseline: \(Self.format(base, 1)) us per message")
        let types = Set(Self.ruleTypes)
        var total = 0.0
        for type in Self.ruleTypes {
            // eval: definitions stay: they are skipped either way, and metas that read them must be too.
            let subset = lines.filter { line in
                guard types.contains(line.keyword), line.keyword != type else { return true }
                let rest = line.nameAndRest.1
                return rest.hasPrefix("eval:") || rest.hasPrefix("rbleval:")
            } + Self.trivialPerType
            guard let rules = compiler.compile(subset) else {
                print("\(type): did not compile")
                continue
            }
            let cost = Self.timeScan(rules, inputs: inputs, matcher: matcher, seconds: budget, sink: sink) - base
            total += cost
            print("\(type) rules only (\(rules.count - Self.trivialPerType.count) rules): +\(Self.format(cost, 1)) us per message")
        }
        let all = lines + Self.trivialPerType
        if let rules = compiler.compile(all) {
            let cost = Self.timeScan(rules, inputs: inputs, matcher: matcher, seconds: budget, sink: sink) - base
            print("all stock rules together: +\(Self.format(cost, 1)) us per message (the types one by one add up to \(Self.format(total, 1)) us)")
        }
    }

    /// Each stock rule alone (with the trivial rule of each type): its cost over those, on one
    /// pass of the mix, the least of 5 passes. Bounded to 3 times the case time.
    private func slowestRules(
        _ lines: [RuleLine], stock: ContentPolicy, compiler: Compiler, inputs: [ContentInput], matcher: RegexMatcher, baseline: ContentRules?, sink: Sink
    ) {
        guard let baseline else { return }
        print("")
        print("== slowest stock rules, each timed alone over one pass of the mix (least of 5 passes, minus the baseline)")
        let clock = ContinuousClock()
        let start = clock.now
        let limit = max(5, 3 * seconds)
        let attributes: Set<String> = ["tflags", "priority", "score"]
        let definitions: Set<String> = ["header", "body", "rawbody", "full", "uri"]
        var linesByName: [String: [RuleLine]] = [:]
        for line in lines where (definitions.contains(line.keyword) || attributes.contains(line.keyword)) && line.inactive == nil {
            linesByName[line.nameAndRest.0, default: []].append(line)
        }
        var kindByName: [String: String] = [:]
        for rule in stock.ruleSet.rules {
            if case .content(let test) = rule.test, test.kind != "meta" { kindByName[rule.name] = test.kind }
        }
        let names = stock.rules.names.filter { kindByName[$0] != nil }
        func pass(_ rules: ContentRules) -> Double {
            var best = Double.infinity
            for _ in 0..<5 {
                let begin = clock.now
                for input in inputs { sink.value &+= rules.scan(input, matcher: matcher).hits.count }
                best = min(best, Self.seconds(clock.now - begin))
            }
            return best * 1e6
        }
        var base = pass(baseline)
        var costs: [(name: String, microseconds: Double)] = []
        var measured = 0
        for name in names {
            if Self.seconds(clock.now - start) > limit { break }
            guard let own = linesByName[name], let rules = compiler.compile(Self.trivialPerType + own) else { continue }
            costs.append((name, pass(rules)))
            measured += 1
            if measured % 500 == 0 { base = min(base, pass(baseline)) }
        }
        base = min(base, pass(baseline))
        let passMicroseconds = costs.map { $0.microseconds - base }
        let sum = passMicroseconds.filter { $0 > 0 }.reduce(0, +)
        print(
            "timed \(measured) of \(names.count) header/body/rawbody/full/uri rules in \(Self.format(Self.seconds(clock.now - start), 1)) s; "
                + "one pass = \(inputs.count) messages, baseline \(Self.format(base, 1)) us per pass; sum of the positive costs \(Self.format(sum, 1)) us per pass"
        )
        print(Self.padded(["rule", "type", "us per pass", "us per message", "share of sum"], [34, 8, 12, 15, 12]))
        for (name, cost) in costs.map({ ($0.name, $0.microseconds - base) }).sorted(by: { $0.1 > $1.1 }).prefix(10) {
            print(
                Self.padded(
                    [name, kindByName[name] ?? "?", Self.format(cost, 1), Self.format(cost / Double(inputs.count), 2), Self.format(100 * cost / max(sum, 1e-9), 1) + "%"],
                    [34, 8, 12, 15, 12]))
        }
    }

    // MARK: Rule sets

    static let trivialRule = "body WB_TRIVIAL /wardenbenchtrivial/"
    /// One trivial rule of each type, so that every type's screen runs in an attribution baseline.
    static let trivialPerType: [RuleLine] = [
        "header WB_TRIVIAL_HEADER Subject =~ /wardenbenchtrivial/", "body WB_TRIVIAL_BODY /wardenbenchtrivial/",
        "rawbody WB_TRIVIAL_RAWBODY /wardenbenchtrivial/", "full WB_TRIVIAL_FULL /wardenbenchtrivial/",
        "uri WB_TRIVIAL_URI /wardenbenchtrivial/",
    ].enumerated().map { index, text in
        let keyword = String(text.prefix { $0 != " " })
        return RuleLine(file: "warden-bench", line: index + 1, keyword: keyword, arguments: String(text.dropFirst(keyword.count + 1)))
    }

    /// Writes `lines` to `directory/name/bench.cf` and loads them as `warden run` would.
    private func policy(named name: String, lines: [String], in directory: String, blocklists: String) -> ContentPolicy {
        let folder = directory + "/" + name
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try (lines.joined(separator: "\n") + "\n").write(toFile: folder + "/bench.cf", atomically: false, encoding: .utf8)
        } catch {
            print("cannot write \(folder)/bench.cf: \(error)")
            exit(1)
        }
        do {
            let ruleSet = try RuleSetLoader.load(rulesDirectory: folder, blocklistsDirectory: blocklists, displayRoot: folder)
            guard let policy = ContentPolicy(ruleSet: ruleSet) else {
                print("\(name): no content rules")
                exit(1)
            }
            return policy
        } catch {
            print("\(name): \(error.diagnostics.prefix(5).map { "\($0)" }.joined(separator: "; "))")
            exit(1)
        }
    }

    /// Whether the scan screens `regex` (as `ContentRules` chooses).
    private static func isScreened(_ regex: Regex8) -> Bool {
        (regex.requiredLiteral?.count ?? 0) >= 3 || regex.requiredAlternatives != nil
    }

    /// The regex whose required literal the scan screens for: not a negated header rule's.
    private static func screenedRegex(of test: ContentTest) -> Regex8? {
        switch test {
        case .body(let regex), .rawBody(let regex), .full(let regex), .uri(let regex): return regex
        case .header(_, .matches(let regex), _): return regex
        case .header, .meta: return nil
        }
    }

    private static func requiredLiteralCount(_ ruleSet: RuleSet) -> Int {
        ruleSet.rules.filter { rule in
            guard case .content(let test) = rule.test, test.kind != "header", rule.name.hasPrefix("WB_S") || rule.name.hasPrefix("WB_U") else { return false }
            return screenedRegex(of: test).map(isScreened) ?? false
        }.count
    }

    /// Microseconds per message of `rules.scan` over `inputs` (median of 3 runs).
    private static func timeScan(_ rules: ContentRules, inputs: [ContentInput], matcher: RegexMatcher, seconds: Double, sink: Sink) -> Double {
        let result = CaseResult.measure(count: inputs.count, bytes: 0, seconds: seconds) { rules.scan(inputs[$0], matcher: matcher).hits.count }
        sink.value &+= result.median.messages
        return result.median.microsecondsPerMessage
    }

    // MARK: Helpers

    static func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }

    private func seconds(_ duration: Duration) -> Double { Self.seconds(duration) }

    static func format(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "n/a" }
        return String(format: "%.\(decimals)f", value)
    }

    static func padded(_ cells: [String], _ widths: [Int]) -> String {
        zip(cells, widths).enumerated().map { index, pair in
            let (cell, width) = pair
            let padding = String(repeating: " ", count: max(0, width - cell.count))
            return index == 0 ? cell + padding : padding + cell
        }.joined(separator: " ")
    }

    private static func firstLine(of path: String, startingWith prefix: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
    }
}

/// Compiles rule lines (as `RuleFileReader` gives them) into content rules, warnings ignored.
struct Compiler {
    let blocklists: String
    let displayRoot: String

    func compile(_ lines: [RuleLine]) -> ContentRules? {
        var loader = RuleSetLoader(blocklistsDirectory: blocklists, displayRoot: displayRoot)
        return (try? loader.compile(lines, readerDiagnostics: [], files: []))?.content
    }
}

/// Keeps results alive so the optimiser cannot drop the work.
final class Sink {
    var value = 0
}

enum LowerASCII {
    static func fold(_ byte: UInt8) -> UInt8 { byte &- 65 < 26 ? byte | 0x20 : byte }
}
