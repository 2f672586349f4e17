import WardenPolicy

/// What `warden check` says about the content rules: how many of each type loaded, how many
/// were skipped or failed and why, grouped by reason.
public enum ContentReport {
    public static func summary(_ rules: RuleSet) -> String {
        var counts: [String: Int] = [:]
        var disabled = 0
        let running = Set(rules.content?.names ?? [])
        for rule in rules.rules {
            guard case .content(let test) = rule.test else { continue }
            counts[test.kind, default: 0] += 1
            if !running.contains(rule.name) { disabled += 1 }
        }
        let types = ["header", "body", "rawbody", "full", "uri", "meta"]
        let loaded = counts.values.reduce(0, +)
        var lines = ["content rules: \(loaded) loaded (" + types.map { "\(counts[$0] ?? 0) \($0)" }.joined(separator: ", ") + ")"
            + (disabled > 0 ? ", \(disabled) of them disabled by score 0" : "")]
        lines.append("content rules skipped: \(rules.skipped.count)")
        for (reason, count) in grouped(rules.skipped) { lines.append("  \(count) \(reason)") }
        lines.append("content rules failed: \(rules.failed.count)")
        for (name, reason) in rules.failed.sorted(by: { $0.key < $1.key }) { lines.append("  \(name): \(reason)") }
        if !rules.ignoredFlags.isEmpty {
            let flags = rules.ignoredFlags.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
            lines.append("tflags without effect in Warden: \(flags)")
        }
        if rules.content != nil {
            let tagging = rules.tagging
            lines.append("scan size: \(rules.scanBytes / 1024) KiB; tag headers: "
                + (tagging.enabled ? "\(tagging.names.joined(separator: ", ")) (flag at \(TagHeaders.format(tagging.threshold)))" : "off"))
        }
        return lines.joined(separator: "\n")
    }

    /// Reasons with their counts, most frequent first; eval: tests grouped by function.
    static func grouped(_ reasons: [String: String]) -> [(String, Int)] {
        var counts: [String: Int] = [:]
        for reason in reasons.values {
            let group = reason.hasPrefix("depends on ") ? "meta rules that depend on a rule not loaded" : reason
            counts[group, default: 0] += 1
        }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
