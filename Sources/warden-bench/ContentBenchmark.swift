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
        for count in Self.syntheticCounts {
            let lines = [Self.trivialRule] + SyntheticLiterals.rules(literals.prefix(count), screened: true)
            let policy = self.policy(named: "screened-\(count)", lines: lines, in: workDirectory, blocklists: blocklists)
            let required = Self.requiredLiteralCount(policy.ruleSet)
            let result = measureCase("(d) baseline + \(count) body rules, literal screened (\(required) with a literal)") { bytes in
                policy.scan(bytes, envelopeFrom: "sender@example.net").hits.count
            }
            screened.append((count, result))
            screenedRulesOnly.append((count, Self.timeScan(policy.rules, inputs: inputs, matcher: matcher, seconds: sweepBudget, sink: sink) - rulesOnlyBase))
        }
        for count in Self.syntheticCounts {
            let lines = [Self.trivialRule] + SyntheticLiterals.rules(literals.prefix(count), screened: false)
            let policy = self.policy(named: "unscreened-\(count)", lines: lines, in: workDirectory, blocklists: blocklists)
            let required = Self.requiredLiteralCount(policy.ruleSet)
            let result = measureCase("(e) baseline + \(count) body rules, no usable literal (\(required) with a literal)") { bytes in
                policy.scan(bytes, envelopeFrom: "sender@example.net").hits.count
            }
            unscreened.append((count, result))
            unscreenedRulesOnly.append((count, Self.timeScan(policy.rules, inputs: inputs, matcher: matcher, seconds: sweepBudget, sink: sink) - rulesOnlyBase))
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
            if test.kind != "header", let literal = Self.regex(of: test)?.requiredLiteral, literal.count >= 3 {
                withLiteral[test.kind, default: 0] += 1
            }
        }
        let skippedEval = ruleSet.skipped.values.filter { $0.hasPrefix("eval:") }.count
        print("")
        print("rules: \(rulesDirectory): \(ruleSet.files.count) files loaded in \(Self.format(loadSeconds * 1e3, 1)) ms")
        let types = Self.ruleTypes.map { "\($0) \(byType[$0] ?? 0)" }.joined(separator: ", ")
        print("content rules loaded: \(policy.rules.count) (\(types)); \(disabled) more scored 0 (disabled)")
        print("not loaded: \(ruleSet.skipped.count) skipped (\(skippedEval) eval: tests, \(ruleSet.skipped.count - skippedEval) other), \(ruleSet.failed.count) failed to compile; \(ruleSet.warnings.count) warnings")
        let screened = ["body", "rawbody", "full", "uri"].map { "\($0) \(withLiteral[$0] ?? 0) of \(byType[$0] ?? 0)" }.joined(separator: ", ")
        print("rules the literal screen can skip (a required literal of 3+ bytes): \(screened); header rules always run")
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

    private static func regex(of test: ContentTest) -> Regex8? {
        switch test {
        case .body(let regex), .rawBody(let regex), .full(let regex), .uri(let regex): return regex
        case .header(_, .matches(let regex), _), .header(_, .notMatches(let regex), _): return regex
        case .header, .meta: return nil
        }
    }

    private static func requiredLiteralCount(_ ruleSet: RuleSet) -> Int {
        ruleSet.rules.filter { rule in
            guard case .content(let test) = rule.test, test.kind != "header", rule.name.hasPrefix("WB_S") || rule.name.hasPrefix("WB_U") else { return false }
            return (regex(of: test)?.requiredLiteral?.count ?? 0) >= 3
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
private struct Compiler {
    let blocklists: String
    let displayRoot: String

    func compile(_ lines: [RuleLine]) -> ContentRules? {
        var loader = RuleSetLoader(blocklistsDirectory: blocklists, displayRoot: displayRoot)
        return (try? loader.compile(lines, readerDiagnostics: [], files: []))?.content
    }
}

/// Keeps results alive so the optimiser cannot drop the work.
private final class Sink {
    var value = 0
}

private enum LowerASCII {
    static func fold(_ byte: UInt8) -> UInt8 { byte &- 65 < 26 ? byte | 0x20 : byte }
}

// MARK: Measuring

private struct Run {
    var messages = 0
    var bytes = 0
    var seconds = 0.0

    var microsecondsPerMessage: Double { seconds * 1e6 / Double(max(messages, 1)) }
    var messagesPerSecond: Double { Double(messages) / seconds }
    var megabytesPerSecond: Double { Double(bytes) / 1e6 / seconds }
}

private struct CaseResult {
    var runs: [Run]

    var median: Run { runs.sorted { $0.microsecondsPerMessage < $1.microsecondsPerMessage }[runs.count / 2] }

    static func measure(_ messages: [[UInt8]], seconds: Double, _ work: ([UInt8]) -> Int) -> CaseResult {
        measure(count: messages.count, bytes: messages.reduce(0) { $0 + $1.count }, seconds: seconds) { work(messages[$0]) }
    }

    /// Three runs of `seconds / 3` each, after one warm-up pass. A run calls `work` for every
    /// message position in turn (`bytes`: their total size) and stops after the pass during
    /// which its time ran out.
    static func measure(count: Int, bytes: Int, seconds: Double, _ work: (Int) -> Int) -> CaseResult {
        var checksum = 0
        for position in 0..<count { checksum &+= work(position) }
        let clock = ContinuousClock()
        let budget = Duration.nanoseconds(Int64(seconds / 3 * 1e9))
        var runs: [Run] = []
        for _ in 0..<3 {
            var run = Run()
            let start = clock.now
            repeat {
                for position in 0..<count { checksum &+= work(position) }
                run.messages += count
                run.bytes += bytes
            } while clock.now - start < budget
            run.seconds = ContentBenchmark.seconds(clock.now - start)
            runs.append(run)
        }
        if checksum == Int.min { print("") }
        return CaseResult(runs: runs)
    }

    func line(_ label: String) -> String {
        let figures = runs.map { ContentBenchmark.format($0.microsecondsPerMessage, 1) }.joined(separator: " / ")
        let cells = [
            label, ContentBenchmark.format(median.messagesPerSecond, 0) + " msg/s", ContentBenchmark.format(median.megabytesPerSecond, 1) + " MB/s",
            ContentBenchmark.format(median.microsecondsPerMessage, 1) + " us/msg",
        ]
        return ContentBenchmark.padded(cells, [84, 12, 11, 14]) + "   (runs: \(figures) us)"
    }
}

// MARK: Synthetic rules

private enum SyntheticLiterals {
    /// Starts of common English words, so the screen's 3-byte prefixes are as busy as with real
    /// rules; then rare letters, so the literal never occurs.
    static let stems = [
        "the", "for", "and", "pro", "con", "inf", "com", "ser", "acc", "off", "new", "sta", "pre", "rep", "int", "man", "sal",
        "mar", "bus", "dis", "res", "per", "sup", "tra", "inv", "ord", "pay", "cli", "opp", "upd", "you", "wit", "fre", "cas",
    ]
    static let tailLetters = Array("bcdfghjkmnpqvwxz".utf8)

    /// `count` distinct lowercase literals of 8-10 bytes, none in `avoiding` (lowercased messages).
    static func make(count: Int, avoiding texts: inout [[UInt8]], random: inout SplitMix64) -> [String] {
        var result: [String] = []
        var seen = Set<String>()
        while result.count < count {
            let stem = stems[Int(random.next() % UInt64(stems.count))]
            let tailLength = 5 + Int(random.next() % 3)
            let tail = (0..<tailLength).map { _ in tailLetters[Int(random.next() % UInt64(tailLetters.count))] }
            let literal = stem + String(decoding: tail, as: UTF8.self)
            guard !seen.contains(literal), !occurs(Array(literal.utf8), in: texts) else { continue }
            seen.insert(literal)
            result.append(literal)
        }
        return result
    }

    /// Whether `needle` occurs in one of `texts`: `memchr` to its first byte, then a comparison.
    private static func occurs(_ needle: [UInt8], in texts: [[UInt8]]) -> Bool {
        texts.contains { text in
            text.withUnsafeBufferPointer { haystack in
                guard let base = haystack.baseAddress, haystack.count >= needle.count else { return false }
                var position = 0
                let last = haystack.count - needle.count
                while position <= last {
                    guard let found = memchr(base + position, Int32(needle[0]), last - position + 1) else { return false }
                    let start = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if needle.indices.allSatisfy({ haystack[start + $0] == needle[$0] }) { return true }
                    position = start + 1
                }
                return false
            }
        }
    }

    /// Body rules shaped like SpamAssassin's phrase rules. Screened: the literal is required.
    /// Unscreened: the same words in an alternation, which has no single required literal, so
    /// every rule runs on every message, as all would without the screen.
    static func rules(_ literals: ArraySlice<String>, screened: Bool) -> [String] {
        literals.enumerated().map { index, literal in
            let number = String(format: "%04d", index)
            if screened {
                return "body WB_S\(number) /\\b\(literal)(?:s|ed|ing)?\\b/i\nscore WB_S\(number) 0.5"
            }
            let reversed = String(literal.reversed())
            return "body WB_U\(number) /\\b(?:\(literal)|\(reversed))(?:s|ed|ing)?\\b/i\nscore WB_U\(number) 0.5"
        }
    }
}

// MARK: The mix

/// The messages of one pass: the `.eml` files of a directory once each, and generated messages
/// in realistic proportions (each copy different), with CRLF line ends as received over SMTP.
private struct MessageMix {
    struct Message {
        let className: String
        let bytes: [UInt8]
    }

    var messages: [Message] = []
    var classNames: [String] = []

    static let generated: [(name: String, copies: Int)] = [
        ("plain-text business mail (~5 KB)", 6),
        ("newsletter, text+HTML alternative (~20 KB)", 4),
        ("spam-like HTML with URIs (~3 KB)", 6),
        ("business mail with base64 PDF (~60 KB)", 2),
        ("report, HTML + base64 PNG (~300 KB)", 1),
    ]

    static func build(directory: String, seed: UInt64) -> MessageMix {
        var mix = MessageMix()
        let corpusName = "\(directory)/*.eml"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        for name in names {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            mix.messages.append(Message(className: corpusName, bytes: Array(data)))
        }
        if mix.messages.isEmpty {
            print("warning: no .eml files in \(directory); the mix has only generated messages")
        } else {
            mix.classNames.append(corpusName)
        }
        var maker = MailMaker(random: SplitMix64(seed: seed))
        for (index, (name, copies)) in generated.enumerated() {
            mix.classNames.append(name)
            for copy in 0..<copies {
                let text: String
                switch index {
                case 0: text = maker.businessMail(copy)
                case 1: text = maker.newsletter(copy)
                case 2: text = maker.spam(copy)
                case 3: text = maker.pdfMail(copy)
                default: text = maker.largeReport(copy)
                }
                mix.messages.append(Message(className: name, bytes: Array(text.utf8)))
            }
        }
        return mix
    }

    func describe(scanBytes: Int) {
        let total = messages.reduce(0) { $0 + $1.bytes.count }
        print("")
        print("mix: one pass = \(messages.count) messages, \(total) bytes (mean \(total / max(messages.count, 1)) bytes); each scanned up to \(scanBytes / 1024) KiB (scan_size)")
        for name in classNames {
            let sizes = messages.filter { $0.className == name }.map(\.bytes.count)
            print("  \(String(sizes.count).leftPadded(2)) x \(name): \(sizes.min()!)-\(sizes.max()!) bytes, \(sizes.reduce(0, +)) in all")
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

/// Generates the messages of the mix from a seeded generator: the same text on every run.
private struct MailMaker {
    var random: SplitMix64

    /// Everyday business vocabulary, most frequent first (the order sets how often each is used).
    static let words = """
        the of and to a in for is on that by this with you it not or be are from at as your all have we will can \
        about if our one other do no time they also now more new some these their which would there been when what \
        please thanks team project meeting next week report budget plan review customer client contract supplier \
        order invoice payment delivery schedule update draft version document attached file figures quarter month year \
        sales revenue cost costs price margin forecast target results numbers account office market product service \
        services support issue question answer agree discuss decision approval sign signed legal terms details changes \
        share shared drive folder link call phone tomorrow today monday tuesday wednesday thursday friday morning \
        afternoon agenda minutes notes action items owner deadline status progress risk risks open closed done pending \
        team members manager director board staff training hiring onboarding office travel trip hotel flight visit site \
        warehouse stock inventory shipment logistics vendor vendors partner partners proposal offer quote quotes terms \
        renewal annual monthly weekly daily summary overview analysis data system systems software release testing test \
        server migration database backup security access password account accounts process processes policy policies \
        compliance audit auditor finance financial tax taxes payroll expenses expense claim claims receipt receipts \
        department operations marketing campaign event events conference presentation slides webinar customers feedback \
        survey quality standard standards improvement improvements efficiency capacity resources headcount estimate \
        estimates assumption assumptions scope requirement requirements milestone milestones phase delay delays \
        confirm confirmed check checked send sent receive received prepare prepared review reviewed need needs \
        should could might must before after during while until since because however therefore although just only \
        still already again soon later early late first last second third final current previous following several \
        many most each every both either few less more much very good great better best important clear possible \
        available necessary likely simple quick short long small large high low total net gross average regional \
        global local internal external European national north south east west central
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)

    static let firstNames = ["Anna", "Ben", "Chloe", "David", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Karin", "Luis", "Maya", "Nils", "Olga", "Pavel"]
    static let lastNames = ["Berger", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ivanov", "Jensen", "Kowalski", "Larsen", "Moreau"]
    static let companies = ["northwind", "contoso", "fabrikam", "tailspin", "adatum", "litware", "proseware", "wingtip"]
    static let spamPhrases = [
        "Dear Friend, you have been specially selected to receive this exclusive offer.",
        "This is a one-time mailing and you will not receive further offers.",
        "100% FREE - no credit card required, no hidden fees, risk free!",
        "Click here to claim your prize before it expires.",
        "Limited time offer: act now while supplies last!",
        "Earn extra cash from home, make money fast with our proven system.",
        "Lowest prices on V1AGRA and C1ALIS, no prescription needed, discreet shipping.",
        "Congratulations! You are the lucky winner of our monthly draw.",
        "Lose weight fast with our amazing miracle formula, satisfaction guaranteed.",
        "Consolidate your debt and lower your monthly payments today.",
        "Get a free quote now, unbelievable rates for you only.",
        "Meet hot singles in your area tonight, 100% anonymous.",
        "Your account has been suspended, verify your password immediately.",
        "Why pay more? Order now and save up to 80% off retail.",
        "To be removed from our mailing list, reply with REMOVE in the subject line.",
    ]

    mutating func number(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(random.next() % UInt64(range.count))
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }

    mutating func hex(_ count: Int) -> String {
        String((0..<count).map { _ in Array("0123456789abcdef")[Int(random.next() % 16)] })
    }

    mutating func sentence() -> String {
        // Words near the top of the list come far more often, roughly as in English.
        let words = (0..<number(7...20)).map { _ -> String in
            let rank = Int(Double(Self.words.count) * pow(Double(random.next() % 10_000) / 10_000, 3))
            return Self.words[min(rank, Self.words.count - 1)]
        }
        let text = words.joined(separator: " ")
        return text.prefix(1).uppercased() + text.dropFirst() + (random.next() % 8 == 0 ? "?" : ".")
    }

    mutating func paragraph(_ sentences: ClosedRange<Int>) -> String {
        (0..<number(sentences)).map { _ in sentence() }.joined(separator: " ")
    }

    /// Words of `text` in lines of at most `width` characters.
    static func wrapped(_ text: String, width: Int = 72, prefix: String = "") -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(prefix + line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty { lines.append(prefix + line) }
        return lines
    }

    mutating func person() -> (name: String, address: String, domain: String) {
        let first = pick(Self.firstNames)
        let last = pick(Self.lastNames)
        let domain = pick(Self.companies) + ".example"
        return ("\(first) \(last)", "\(first.lowercased()).\(last.lowercased())@\(domain)", domain)
    }

    mutating func date(_ copy: Int) -> String {
        let days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
        return "\(days[copy % 5]), \(number(1...28)) Mar 2024 \(String(format: "%02d:%02d:%02d", number(7...18), number(0...59), number(0...59))) +0100"
    }

    mutating func received(from domain: String, ip: String) -> String {
        "Received: from mail.\(domain) (mail.\(domain) [\(ip)])\r\n\tby mx1.example.com (Postfix) with ESMTPS id \(hex(10).uppercased())\r\n\tfor <inbox@example.com>; \(date(number(0...4)))"
    }

    mutating func dkim(_ domain: String) -> String {
        let signature = (0..<4).map { _ in Data((0..<48).map { _ in UInt8(truncatingIfNeeded: random.next()) }).base64EncodedString() }
        return "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=\(domain); s=s2024;\r\n\th=from:to:subject:date:message-id;\r\n\tbh=\(Data((0..<32).map { _ in UInt8(truncatingIfNeeded: random.next()) }).base64EncodedString());\r\n\tb="
            + signature.joined(separator: "\r\n\t ")
    }

    static func crlf(_ lines: [String]) -> String { lines.joined(separator: "\r\n") + "\r\n" }

    mutating func base64(_ count: Int, header: [UInt8] = []) -> [String] {
        var bytes = header
        while bytes.count < count { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
        let text = Data(bytes).base64EncodedString()
        return stride(from: 0, to: text.count, by: 76).map { start in
            let from = text.index(text.startIndex, offsetBy: start)
            let to = text.index(from, offsetBy: min(76, text.count - start))
            return String(text[from..<to])
        }
    }

    /// Quoted-printable in lines of at most 76 characters.
    static func quotedPrintable(_ text: String) -> [String] {
        var lines: [String] = []
        for sourceLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for byte in sourceLine.utf8 {
                let piece = byte == UInt8(ascii: "=") || byte > 126 || (byte < 32 && byte != 9) ? String(format: "=%02X", byte) : String(UnicodeScalar(byte))
                if line.count + piece.count > 75 {
                    lines.append(line + "=")
                    line = ""
                }
                line += piece
            }
            lines.append(line)
        }
        return lines
    }

    // MARK: Messages

    mutating func businessMail(_ copy: Int) -> String {
        let sender = person()
        let recipient = person()
        let colleague = person()
        let topic = pick(["Q3 budget review", "supplier contract renewal", "project timeline", "invoice 2024-\(number(100...999))", "meeting notes", "onboarding plan"])
        var lines = [
            "Return-Path: <\(sender.address)>",
            received(from: sender.domain, ip: "198.51.100.\(number(2...250))"),
            "Received: from [10.\(number(0...9)).\(number(0...255)).\(number(2...250))] by mail.\(sender.domain) (Postfix) with ESMTPSA id \(hex(8).uppercased()); \(date(copy))",
            dkim(sender.domain),
            "From: \(sender.name) <\(sender.address)>",
            "To: \(recipient.name) <\(recipient.address)>",
            "Cc: \(colleague.name) <\(colleague.address)>",
            "Subject: Re: \(topic)",
            "Date: \(date(copy))",
            "Message-ID: <\(hex(16))@mail.\(sender.domain)>",
            "In-Reply-To: <\(hex(16))@mail.\(recipient.domain)>",
            "References: <\(hex(16))@mail.\(recipient.domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=\"utf-8\"; format=flowed",
            "Content-Transfer-Encoding: 8bit",
            "",
            "Hi \(recipient.name.split(separator: " ")[0]),",
            "",
        ]
        var size = lines.joined().count
        var paragraphs = 0
        while size < 3200 {
            let text = paragraphs == 1 ? "The figures are on the shared drive at https://files.\(sender.domain)/share/\(hex(12)) - " + paragraph(2...3) : paragraph(3...6)
            let wrapped = Self.wrapped(text) + [""]
            size += wrapped.joined().count + 2 * wrapped.count
            lines += wrapped
            paragraphs += 1
        }
        lines += ["Best regards,", sender.name, "Head of Operations, \(sender.domain.split(separator: ".")[0].capitalized) Ltd.", "Phone +44 20 7946 0\(number(100...999))", ""]
        lines += ["On \(date(copy)), \(recipient.name) wrote:"]
        var quoted = 0
        while size + quoted < 5000 {
            let wrapped = Self.wrapped(paragraph(2...4), prefix: "> ") + [">"]
            quoted += wrapped.joined().count + 2 * wrapped.count
            lines += wrapped
        }
        return Self.crlf(lines)
    }

    mutating func newsletter(_ copy: Int) -> String {
        let domain = pick(Self.companies) + "-news.example"
        let boundary = "----=_Part_\(hex(8))_\(number(1000...9999))"
        var text: [String] = ["\(domain.uppercased()) WEEKLY - issue \(100 + copy)", ""]
        var html = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Weekly issue \(100 + copy)</title>
            <style>body{font-family:Arial,sans-serif;color:#333}.article h2{font-size:18px;color:#0a5}td{padding:8px}</style></head>
            <body><table width="600" align="center" cellpadding="0" cellspacing="0" border="0">
            <tr><td><img src="https://cdn.\(domain)/img/logo.png" width="200" height="50" alt="\(domain)"></td></tr>

            """
        var article = 0
        while text.joined().count + html.count < 15_500 {
            let title = sentence().dropLast().split(separator: " ").prefix(6).joined(separator: " ")
            let body = paragraph(3...5)
            let link = "https://click.\(domain)/t/\(hex(24))?u=\(hex(8))&a=\(article)&utm_source=newsletter&utm_medium=email"
            text += [title.uppercased()] + Self.wrapped(body) + ["Read more: \(link)", ""]
            html += """
                <tr><td class="article"><h2>\(title)</h2>
                <p>\(body)</p>
                <p><a href="\(link)" style="color:#0a5;font-weight:bold">Read more &raquo;</a>
                &nbsp;|&nbsp;<a href="https://www.\(domain)/share?id=\(hex(10))">Share</a></p>
                <img src="https://cdn.\(domain)/img/\(hex(12)).jpg" width="560" alt="">
                </td></tr>

                """
            article += 1
        }
        let unsubscribe = "https://www.\(domain)/unsubscribe?e=\(hex(20))"
        text += ["You receive this because you subscribed at www.\(domain).", "Unsubscribe: \(unsubscribe)"]
        html += """
            <tr><td style="font-size:11px;color:#999">You receive this because you subscribed at www.\(domain).
            <a href="\(unsubscribe)">Unsubscribe</a> &middot; <a href="https://www.\(domain)/privacy">Privacy policy</a></td></tr>
            </table></body></html>
            """
        let lines: [String] =
            [
                "Return-Path: <bounce-\(hex(12))@mail.\(domain)>",
                received(from: domain, ip: "203.0.113.\(number(2...250))"),
                dkim(domain),
                "From: \(domain.split(separator: ".")[0].capitalized) Weekly <news@\(domain)>",
                "To: inbox@example.com",
                "Subject: Weekly issue \(100 + copy): \(sentence().split(separator: " ").prefix(5).joined(separator: " "))",
                "Date: \(date(copy))",
                "Message-ID: <\(hex(20))@mail.\(domain)>",
                "List-Unsubscribe: <\(unsubscribe)>, <mailto:unsubscribe@\(domain)>",
                "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                "Precedence: bulk",
                "MIME-Version: 1.0",
                "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
                "",
                "--\(boundary)",
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 7bit",
                "",
            ] + text + [
                "",
                "--\(boundary)",
                "Content-Type: text/html; charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
                "",
            ] + Self.quotedPrintable(html) + ["", "--\(boundary)--"]
        return Self.crlf(lines)
    }

    mutating func spam(_ copy: Int) -> String {
        let domain = "\(hex(4))-\(pick(["promo", "deals", "rx", "win", "offer"])).example"
        let ip = "192.0.2.\(number(2...250))"
        var parts = [
            "<html><body bgcolor=\"#ffffff\">",
            "<center><font face=\"Arial\" size=\"5\" color=\"#ff0000\"><b>\(pick(Self.spamPhrases))</b></font></center>",
        ]
        var size = 0
        var index = 0
        while size < 2000 {
            let phrase = pick(Self.spamPhrases)
            let link = pick([
                "http://\(ip)/\(hex(6))/index.php?id=\(hex(8))", "https://bit.ly/\(hex(7))", "http://www.\(domain)/claim?ref=\(hex(10))",
                "http://\(hex(5)).\(domain):8080/r/\(hex(6))",
            ])
            let piece = index % 3 == 2
                ? "<p><a href=\"\(link)\"><font size=\"4\">CLICK HERE</font></a> &nbsp; <font color=\"#ffffff\">\(sentence())</font></p>"
                : "<p><font face=\"Verdana\">\(phrase) <a href=\"\(link)\">\(phrase.split(separator: " ").prefix(3).joined(separator: " "))</a></font></p>"
            parts.append(piece)
            size += piece.count
            index += 1
        }
        parts += [
            "<img src=\"http://\(ip)/open.gif?u=\(hex(8))\" width=\"1\" height=\"1\">",
            "<p><font size=\"1\">To unsubscribe <a href=\"http://www.\(domain)/remove\">click here</a>.</font></p></body></html>",
        ]
        let lines =
            [
                "Return-Path: <\(hex(8))@\(domain)>",
                "Received: from \(domain) (unknown [\(ip)])\r\n\tby mx1.example.com (Postfix) with ESMTP id \(hex(10).uppercased())\r\n\tfor <inbox@example.com>; \(date(copy))",
                "From: \"Special Offers\" <offers@\(domain)>",
                "To: undisclosed-recipients:;",
                "Subject: =?UTF-8?B?\(Data("You have been selected: 100% FREE gift inside!!! #\(hex(4))".utf8).base64EncodedString())?=",
                "Date: \(date(copy))",
                "Message-ID: <\(hex(12)).\(hex(6))@\(domain)>",
                "X-Mailer: Microsoft Outlook Express 6.00.2600.0000",
                "X-Priority: 1 (Highest)",
                "MIME-Version: 1.0",
                "Content-Type: text/html; charset=\"iso-8859-1\"",
                "Content-Transfer-Encoding: 7bit",
                "",
            ] + parts
        return Self.crlf(lines)
    }

    mutating func pdfMail(_ copy: Int) -> String {
        let sender = person()
        let recipient = person()
        let boundary = "=_mixed_\(hex(12))"
        let pdfHeader = Array("%PDF-1.5\n%\u{E2}\u{E3}\u{CF}\u{D3}\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n4 0 obj\n<< /Length 41000 /Filter /FlateDecode >>\nstream\n".utf8)
        let lines =
            [
                "Return-Path: <\(sender.address)>",
                received(from: sender.domain, ip: "198.51.100.\(number(2...250))"),
                dkim(sender.domain),
                "From: \(sender.name) <\(sender.address)>",
                "To: \(recipient.name) <\(recipient.address)>",
                "Subject: Invoice \(number(10000...99999)) for March",
                "Date: \(date(copy))",
                "Message-ID: <\(hex(16))@mail.\(sender.domain)>",
                "MIME-Version: 1.0",
                "Content-Type: multipart/mixed; boundary=\"\(boundary)\"",
                "",
                "--\(boundary)",
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 7bit",
                "",
                "Dear \(recipient.name),",
                "",
            ] + Self.wrapped(paragraph(4...6)) + ["", "Please find the invoice attached; payment terms are 30 days.", "", "Kind regards,", sender.name, ""]
            + [
                "--\(boundary)",
                "Content-Type: application/pdf; name=\"invoice-\(copy).pdf\"",
                "Content-Disposition: attachment; filename=\"invoice-\(copy).pdf\"",
                "Content-Transfer-Encoding: base64",
                "",
            ] + base64(43_000, header: pdfHeader) + ["", "--\(boundary)--"]
        return Self.crlf(lines)
    }

    mutating func largeReport(_ copy: Int) -> String {
        let sender = person()
        let recipient = person()
        let boundary = "=_report_\(hex(12))"
        var html = "<html><head><title>Monthly report</title></head><body><h1>Monthly operations report</h1>\n"
        var row = 0
        while html.count < 95_000 {
            if row % 40 == 0 {
                html += "<h2>\(sentence().dropLast())</h2>\n<p>\(paragraph(3...6))</p>\n<table border=\"1\" cellpadding=\"4\">\n"
            }
            html += "<tr><td>\(row)</td><td>\(pick(Self.words)) \(pick(Self.words))</td><td align=\"right\">\(number(100...99_999)).\(number(10...99))</td><td>\(pick(["ok", "late", "open", "closed"]))</td></tr>\n"
            if row % 40 == 39 { html += "</table>\n" }
            row += 1
        }
        html += "</table>\n<p>Details: <a href=\"https://reports.\(sender.domain)/2024/03/\(hex(10))\">full report</a></p></body></html>"
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let lines =
            [
                "Return-Path: <\(sender.address)>",
                received(from: sender.domain, ip: "198.51.100.\(number(2...250))"),
                dkim(sender.domain),
                "From: \(sender.name) <\(sender.address)>",
                "To: \(recipient.name) <\(recipient.address)>",
                "Subject: Monthly operations report, March 2024",
                "Date: \(date(copy))",
                "Message-ID: <\(hex(16))@mail.\(sender.domain)>",
                "MIME-Version: 1.0",
                "Content-Type: multipart/mixed; boundary=\"\(boundary)\"",
                "",
                "--\(boundary)",
                "Content-Type: text/html; charset=utf-8",
                "Content-Transfer-Encoding: 7bit",
                "",
            ] + html.split(separator: "\n").map(String.init) + [
                "",
                "--\(boundary)",
                "Content-Type: image/png; name=\"chart.png\"",
                "Content-Disposition: attachment; filename=\"chart.png\"",
                "Content-Transfer-Encoding: base64",
                "",
            ] + base64(148_000, header: png) + ["", "--\(boundary)--"]
        return Self.crlf(lines)
    }
}
