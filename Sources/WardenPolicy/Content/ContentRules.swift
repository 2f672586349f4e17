import PCRE2

/// The content rules of a rule set, compiled for scanning: the regex rules by type with a
/// ``LiteralScreen`` for each, and the meta rules in an order where each follows what it reads.
///
/// A rule whose score is 0 is disabled and never runs, as in SpamAssassin; meta rules see it as
/// not hit. Sub-rules (`__NAME`) run for the meta rules and add nothing to the score.
public final class ContentRules: Sendable {
    enum Kind: Int, CaseIterable { case header, body, rawBody, full, uri }

    /// A class, so that walking the rules of a scan copies a reference, not the rule.
    final class Entry: Sendable {
        let rule: Rule
        let test: ContentTest
        // Read for every rule that runs: kept apart so that reading them copies nothing.
        let name: String
        let flags: RuleFlags
        let regex: Regex8?

        init(rule: Rule, test: ContentTest) {
            self.rule = rule
            self.test = test
            name = rule.name
            flags = rule.flags
            regex = test.regex
        }
    }

    /// What a name in a meta expression stands for.
    enum Reference: Sendable {
        case rule(Int)
        /// A rule of another stage (a client rule): its hits in the session so far.
        case session(String)
        case constant(Double)
    }

    struct Meta: Sendable {
        let rule: Rule
        let expression: MetaExpression
        let references: [Reference]
    }

    let entries: [[Entry]]
    /// For each kind, which of its rules may run once its screen has spoken (the entries'
    /// literals laid out flat, read on every scan without touching the entries).
    let gates: [RuleGates]
    let screens: [LiteralScreen]
    /// Each header rule's index in `headerQueries`, and whether it has an `[if-unset: ...]` text.
    let headerRuleQueries: [Int]
    let headerRuleIfUnset: [Bool]
    /// The header values the header rules read, each once per message, and for each the
    /// screen of the literals its `=~` rules require.
    let headerQueries: [HeaderQuery]
    let headerScreens: [LiteralScreen]
    let metas: [Meta]
    /// Names of entries then metas, the index of a rule in a scan's counts.
    public let names: [String]
    /// The rules in the same order as `names`.
    let rulesInOrder: [Rule]

    public var count: Int { entries.reduce(0) { $0 + $1.count } + metas.count }

    /// Whether any rule of `kind` is loaded (its subject must be made for a scan).
    func reads(_ kind: Kind) -> Bool { !entries[kind.rawValue].isEmpty }
    public var isEmpty: Bool { count == 0 }

    /// `rules` are the rule set's content rules (enabled ones only), `sessionRules` the names of
    /// its other rules, which meta rules may combine with content rules.
    init(rules: [Rule], sessionRules: Set<String>) {
        var byKind = [[Entry]](repeating: [], count: Kind.allCases.count)
        var literals = [[[UInt8]]](repeating: [], count: Kind.allCases.count)
        // Per kind and rule: the indices of the rule's required literal, or of its spellings
        // (one of which every match holds), in its kind's screen (a header rule's: in its
        // query's screen); the rule runs when one of them was found, always when there is none.
        var screenIndicesByKind = [[[Int]]](repeating: [], count: Kind.allCases.count)
        var ruleQueries: [Int] = []
        var ruleIfUnset: [Bool] = []
        var metaRules: [Rule] = []
        var queries: [HeaderQuery] = []
        var headerLiterals: [[[UInt8]]] = []
        for rule in rules.sorted(by: { $0.priority < $1.priority }) {
            guard case .content(let test) = rule.test else { continue }
            let kind: Kind
            switch test {
            case .meta: metaRules.append(rule); continue
            case .header: kind = .header
            case .body: kind = .body
            case .rawBody: kind = .rawBody
            case .full: kind = .full
            case .uri: kind = .uri
            }
            // A negated rule needs every run. A rule is screened by its required literal, or
            // else by the spellings of its literals and small classes.
            var screenIndices: [Int] = []
            if case .header(let query, let operation, let ifUnset) = test {
                let queryIndex = queries.firstIndex(of: query) ?? queries.count
                if queryIndex == queries.count {
                    queries.append(query)
                    headerLiterals.append([])
                }
                if case .matches(let regex) = operation, let required = Self.screened(regex) {
                    screenIndices = Array(headerLiterals[queryIndex].count..<(headerLiterals[queryIndex].count + required.count))
                    headerLiterals[queryIndex] += required
                }
                ruleQueries.append(queryIndex)
                ruleIfUnset.append(ifUnset != nil)
            } else if let regex = test.regex, let required = Self.screened(regex) {
                screenIndices = Array(literals[kind.rawValue].count..<(literals[kind.rawValue].count + required.count))
                literals[kind.rawValue] += required
            }
            byKind[kind.rawValue].append(Entry(rule: rule, test: test))
            screenIndicesByKind[kind.rawValue].append(screenIndices)
        }
        headerQueries = queries
        headerScreens = headerLiterals.map(LiteralScreen.init)
        entries = byKind
        gates = screenIndicesByKind.map(RuleGates.init)
        headerRuleQueries = ruleQueries
        headerRuleIfUnset = ruleIfUnset
        screens = literals.map(LiteralScreen.init)
        var names = byKind.flatMap { $0.map(\.rule.name) }
        let indexByName = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let ordered = Self.dependencyOrder(metaRules)
        var metaIndex: [String: Int] = [:]
        for (offset, rule) in ordered.enumerated() { metaIndex[rule.name] = names.count + offset }
        metas = ordered.map { rule in
            guard case .content(.meta(let expression)) = rule.test else { preconditionFailure("meta") }
            let references = expression.ruleNames.map { name -> Reference in
                if let index = indexByName[name] ?? metaIndex[name] { return .rule(index) }
                if name == "local_tests_only" { return .constant(1) }
                if sessionRules.contains(name) { return .session(name) }
                return .constant(0)
            }
            return Meta(rule: rule, expression: expression, references: references)
        }
        names += ordered.map(\.name)
        self.names = names
        rulesInOrder = byKind.flatMap { $0.map(\.rule) } + ordered
    }

    /// What screens `regex`: the rarer of its required literal and the spellings one of which
    /// every match holds; nil when it must always run.
    ///
    /// The spellings win when they are longer: in `/l[o0]an +t[o0]d[a@]y/i` the literal is `an `,
    /// found in nearly every message, the spellings ` today`, ` t0day`, ` tod@y` and ` t0d@y`.
    /// (At most 16 spellings weigh less than one more letter: 16 is under 26.)
    static func screened(_ regex: Regex8) -> [[UInt8]]? {
        let literal = regex.requiredLiteral.flatMap { $0.count >= 3 ? $0 : nil }
        if let alternatives = regex.requiredAlternatives, let spelling = alternatives.first,
            spelling.count > literal?.count ?? 0
        {
            return alternatives
        }
        return literal.map { [$0] }
    }

    /// Metas after the metas they read; the loader has removed those in a cycle.
    static func dependencyOrder(_ metas: [Rule]) -> [Rule] {
        let byName = Dictionary(metas.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var ordered: [Rule] = []
        var state: [String: Bool] = [:]  // false: in progress, true: done
        func visit(_ rule: Rule) {
            if state[rule.name] != nil { return }
            state[rule.name] = false
            if case .content(.meta(let expression)) = rule.test {
                for name in expression.ruleNames { if let dependency = byName[name] { visit(dependency) } }
            }
            state[rule.name] = true
            ordered.append(rule)
        }
        for rule in metas { visit(rule) }
        return ordered
    }
}

/// One content rule that hit.
public struct ContentHit: Sendable {
    public let rule: Rule
    /// Times it hit (above 1 only for `tflags multiple`), or a meta rule's value.
    public let count: Int
    /// Where and what it matched, for the log and `warden scan`.
    public let evidence: String

    /// Each hit of a `multiple` rule adds its score; a meta rule's value (its count) does not
    /// multiply it, as in SpamAssassin. Sub-rules add nothing.
    public var score: Double {
        guard !rule.isSubRule else { return 0 }
        return rule.flags.multiple ? rule.score * Double(max(count, 1)) : rule.score
    }
}

/// What the content rules found in one message.
public struct ContentResult: Sendable {
    public var hits: [ContentHit] = []
    /// Rules stopped by the regex match limits (a catastrophic pattern): counted as not hit.
    public var ruleErrors: [String] = []
    /// How much of the message was read, and what was wrong with its MIME structure.
    public var scannedBytes = 0
    public var problems: [String] = []

    public var score: Double { hits.reduce(0) { $0 + $1.score } }

    public init() {}
}

/// Which rules of one kind may run, given what their kind's (or header query's) screen found:
/// a rule without literals always runs, any other when one of its literals was found. Plain
/// integer arrays, so that screening 400 rules per message copies and counts no reference.
struct RuleGates: Sendable {
    /// Rule `i`'s literals are `literals[starts[i]..<starts[i + 1]]`.
    private let starts: [Int]
    private let literals: [Int]

    init(_ literalsByRule: [[Int]]) {
        var starts = [0]
        for rule in literalsByRule { starts.append(starts[starts.count - 1] + rule.count) }
        self.starts = starts
        literals = literalsByRule.flatMap { $0 }
    }

    /// Whether the rule at `position` has literals, none of them found: `found[offset + i]`
    /// tells whether the screen found its literal `i`.
    func screensOut(_ position: Int, found: [Bool], offset: Int = 0) -> Bool {
        let range = starts[position]..<starts[position + 1]
        guard !range.isEmpty else { return false }
        for index in range where found[offset + literals[index]] { return false }
        return true
    }
}
