import PCRE2

extension ContentRules {
    /// Runs every content rule over `input`: regex rules first (a rule that needs a literal only
    /// when its type's screen found it), then the meta rules. `sessionHits` are the hits of the
    /// session's other rules by name, for meta rules that combine stages. `matcher` belongs to
    /// the calling thread.
    public func scan(_ input: ContentInput, sessionHits: [String: Int] = [:], matcher: RegexMatcher) -> ContentResult {
        var counts = [Double](repeating: 0, count: names.count)
        var evidence = [String](repeating: "", count: names.count)
        var result = ContentResult()
        result.scannedBytes = input.message.fullBytes.count
        result.problems = input.message.problems
        var index = 0
        // Each header value once, and which of its rules' literals it holds: query q's screen
        // results are `headerFound[headerFoundStart[q]...]` (flat, so that screening a rule copies
        // no array).
        var headerValues = [[UInt8]?](repeating: nil, count: headerQueries.count)
        var headerPresent = [Bool](repeating: false, count: headerQueries.count)
        var headerFoundStart = [Int](repeating: -1, count: headerQueries.count)
        var headerFound: [Bool] = []
        let headerEntries = entries[Kind.header.rawValue]
        let headerGates = gates[Kind.header.rawValue]
        for position in headerEntries.indices {
            defer { index += 1 }
            let query = headerRuleQueries[position]
            if headerFoundStart[query] < 0 {
                let value = input.headerValue(headerQueries[query])
                headerValues[query] = value
                headerPresent[query] = value != nil
                headerFoundStart[query] = headerFound.count
                headerFound += headerScreens[query].occurrences(in: value.map { [$0] } ?? [])
            }
            // Without the literal the regex cannot match the value; an absent field with an
            // [if-unset:] text is matched against that text instead.
            if headerPresent[query] || !headerRuleIfUnset[position],
                headerGates.screensOut(position, found: headerFound, offset: headerFoundStart[query])
            {
                continue
            }
            let value = headerValues[query]
            let entry = headerEntries[position]
            guard case .header(let query, let operation, let ifUnset) = entry.test else { continue }
            // An absent field is Perl's undef: it matches as the empty string.
            let subject = value ?? ifUnset.map { Array($0.utf8) } ?? []
            let outcome: (Int, String?)
            switch operation {
            case .exists:
                outcome = value == nil ? (0, nil) : (1, "header \(Self.describe(query)) exists")
            case .matches(let regex):
                outcome = run(regex, over: CollectionOfOne(subject), flags: entry.flags, matcher: matcher, errors: &result.ruleErrors, rule: entry.name)
            case .notMatches(let regex):
                let (found, _) = run(regex, over: CollectionOfOne(subject), flags: RuleFlags(), matcher: matcher, errors: &result.ruleErrors, rule: entry.name)
                outcome = found == 0 && !result.ruleErrors.contains(entry.name) ? (1, "") : (0, nil)
            }
            guard outcome.0 > 0 else { continue }
            counts[index] = Double(outcome.0)
            evidence[index] =
                outcome.1.map { $0.hasPrefix("header") ? $0 : "header \(Self.describe(query)) \($0)" }
                ?? "header \(Self.describe(query))"
            if case .notMatches = operation { evidence[index] = "header \(Self.describe(query)) does not match" }
        }
        for kind in [Kind.body, .rawBody, .full, .uri] {
            let subjects: [[UInt8]]
            switch kind {
            case .body: subjects = input.bodyLines
            case .rawBody: subjects = input.rawBodyParagraphs
            case .full: subjects = [input.full]
            case .uri: subjects = input.uris
            case .header: preconditionFailure("header rules ran above")
            }
            let list = entries[kind.rawValue]
            let kindGates = gates[kind.rawValue]
            let found = screens[kind.rawValue].occurrences(in: subjects)
            for position in list.indices {
                defer { index += 1 }
                if kindGates.screensOut(position, found: found) { continue }
                let entry = list[position]
                guard let regex = entry.regex else { continue }
                let lines = kind == .body && entry.flags.noSubject ? subjects.dropFirst() : subjects[...]
                let (count, matched) = run(regex, over: lines, flags: entry.flags, matcher: matcher, errors: &result.ruleErrors, rule: entry.name)
                guard count > 0 else { continue }
                counts[index] = Double(count)
                evidence[index] = "\(entry.test.kind) \(matched ?? "")"
            }
        }
        for meta in metas {
            defer { index += 1 }
            let values = meta.references.map { reference -> Double in
                switch reference {
                case .rule(let position): return counts[position]
                case .session(let name): return Double(sessionHits[name] ?? 0)
                case .constant(let value): return value
                }
            }
            let value = meta.expression.evaluate(counts: values)
            guard value != 0, value.isFinite else { continue }
            counts[index] = value > 0 ? value.rounded(.up) : 1
            let parts = zip(meta.expression.ruleNames, values).filter { $0.1 != 0 }.map(\.0)
            evidence[index] = "meta " + (parts.isEmpty ? "(no rule hit)" : parts.joined(separator: ", "))
        }
        for position in counts.indices where counts[position] > 0 {
            result.hits.append(ContentHit(rule: rulesInOrder[position], count: Int(counts[position]), evidence: evidence[position]))
        }
        return result
    }

    /// Matches over each subject in turn: the first match, or with `multiple` every match up to
    /// `maxhits` in all subjects together. Returns the count and the first match as evidence.
    private func run(
        _ regex: Regex8, over subjects: some Collection<[UInt8]>, flags: RuleFlags, matcher: RegexMatcher, errors: inout [String], rule: String
    ) -> (Int, String?) {
        var total = 0
        var first: String?
        let maximum = flags.multiple ? (flags.maxHits ?? Int.max) : 1
        for subject in subjects {
            let outcome = subject.withUnsafeBytes { bytes -> (Int, Range<Int>?, Bool) in
                switch matcher.firstMatch(regex, in: bytes) {
                case .match(let range):
                    guard maximum - total > 1 else { return (1, range, false) }
                    let (count, failed) = matcher.countMatches(regex, in: bytes, maximum: maximum - total)
                    return (count, range, failed)
                case .noMatch:
                    return (0, nil, false)
                case .limitExceeded, .error:
                    return (0, nil, true)
                }
            }
            if let range = outcome.1, first == nil { first = Self.snippet(subject[range]) }
            total += outcome.0
            if outcome.2 {
                // A rule that reached the match limits is not run again on this message: a
                // crafted message could otherwise make it fail on every paragraph.
                if !errors.contains(rule) { errors.append(rule) }
                break
            }
            if total >= maximum { break }
        }
        return (total, first)
    }

    /// The matched text for a log line: at most 60 bytes, control characters as spaces, quoted.
    static func snippet(_ bytes: ArraySlice<UInt8>) -> String {
        let cut = bytes.prefix(60).map { $0 < 0x20 || $0 == 0x7F ? 0x20 : $0 }
        return "\"" + String(decoding: cut, as: UTF8.self) + (bytes.count > 60 ? "...\"" : "\"")
    }

    static func describe(_ query: HeaderQuery) -> String {
        var text: String
        switch query.source {
        case .field(let name): text = name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "-")
        case .all: text = "ALL"
        case .toCc: text = "ToCc"
        case .envelopeFrom: text = "EnvelopeFrom"
        case .messageID: text = "MESSAGEID"
        }
        if query.raw { text += ":raw" }
        if query.part == .addresses { text += ":addr" }
        if query.part == .names { text += ":name" }
        if query.first { text += ":first" }
        if query.last { text += ":last" }
        return text
    }
}
