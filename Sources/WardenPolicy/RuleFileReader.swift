import Foundation

/// One directive line of a rule file, with where it came from.
public struct RuleLine: Sendable, Hashable {
    public var file: String
    public var line: Int
    public var keyword: String
    /// The rest of the line after the keyword, comments removed, trimmed.
    public var arguments: String
    /// The SpamAssassin plugin whose `ifplugin` block holds the line, if any: its own
    /// directives are then reported and skipped rather than refused as unknown.
    public var plugin: String?
    /// Set for a rule definition inside the block of a plugin Warden does not have: why the
    /// rule is not loaded. Such lines are kept only so that the rule can be reported.
    public var inactive: String?

    public init(file: String, line: Int, keyword: String, arguments: String, plugin: String? = nil, inactive: String? = nil) {
        self.file = file
        self.line = line
        self.keyword = keyword
        self.arguments = arguments
        self.plugin = plugin
        self.inactive = inactive
    }

    /// The first word of `arguments` (a rule name for most directives) and what follows it.
    public var nameAndRest: (String, String) {
        let trimmed = arguments.drop { $0 == " " || $0 == "\t" }
        let name = trimmed.prefix { $0 != " " && $0 != "\t" }
        let rest = trimmed.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
        return (String(name), String(rest))
    }
}

/// Reads `Rules/*.cf` into directive lines: comments, `include`, and the conditional blocks
/// `ifplugin NAME` / `if EXPR` / `else` / `endif` (SpamAssassin's Mail::SpamAssassin::Conf).
/// A block whose condition does not hold is skipped whole.
public struct RuleFileReader {
    /// The plugin names whose `ifplugin` blocks are read: Warden, and the SpamAssassin plugins
    /// Debian's package loads by default whose rules are regexes Warden runs or `eval:` tests it
    /// reports one by one. ReplaceTags is not among them: its rules are templates that would
    /// run wrongly as written, so they are reported as skipped.
    public static let plugins: Set<String> = [
        "Warden", "Check", "URIDNSBL", "SPF", "Rule2XSBody", "Pyzor", "Razor2", "SpamCop", "AutoLearnThreshold",
        "WelcomeListSubject", "MIMEHeader", "DKIM", "HTTPSMismatch", "URIDetail", "Bayes", "BodyEval", "DNSEval",
        "HTMLEval", "HeaderEval", "MIMEEval", "RelayEval", "URIEval", "WLBLEval", "VBounce", "ImageInfo", "FreeMail",
        "AskDNS", "HashBL", "DMARC",
    ]
    /// Directives that define a rule, reported when a plugin block hides them.
    static let ruleKeywords: Set<String> = ["header", "body", "rawbody", "full", "uri", "meta", "mimeheader", "uri_detail", "askdns"]
    public static let maxIncludeDepth = 8

    public private(set) var lines: [RuleLine] = []
    public private(set) var diagnostics: [RuleDiagnostic] = []
    /// Every file read, for reload on change.
    public private(set) var files: [String] = []
    private let displayRoot: String

    /// `displayRoot` is removed from paths in messages (the directory holding `Rules/`).
    public init(displayRoot: String) {
        self.displayRoot = displayRoot.hasSuffix("/") ? displayRoot : displayRoot + "/"
    }

    /// Reads every `*.cf` file of `directory`, in name order.
    public mutating func readDirectory(_ directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            diagnostics.append(RuleDiagnostic(.error, file: display(directory), line: nil, "cannot read the rules directory"))
            return
        }
        for name in names.sorted() where name.hasSuffix(".cf") {
            readFile((directory as NSString).appendingPathComponent(name), depth: 0)
        }
    }

    public mutating func readFile(_ path: String, depth: Int) {
        let shown = display(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            diagnostics.append(RuleDiagnostic(.error, file: shown, line: nil, "cannot read the file"))
            return
        }
        files.append(path)
        let text = String(decoding: data, as: UTF8.self)
        var conditions: [Bool] = []
        // For each open condition, the plugin an `ifplugin` names (nil for `if` and after `else`).
        var blockPlugins: [String?] = []
        // Any line ending: "\r\n" is one Character in Swift, so splitting on "\n" alone would not see it.
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = index + 1
            let content = Self.stripComment(raw)
            guard !content.isEmpty else { continue }
            let keyword = String(content.prefix { $0 != " " && $0 != "\t" }).lowercased()
            let arguments = String(content.dropFirst(keyword.count)).trimmingCharacters(in: .whitespaces)
            switch keyword {
            case "ifplugin":
                let plugin = Self.pluginName(arguments)
                conditions.append(Self.plugins.contains(plugin))
                blockPlugins.append(plugin == "Warden" ? nil : plugin)
                continue
            case "if":
                let (holds, unknown) = Self.condition(arguments)
                if unknown, conditions.allSatisfy({ $0 }) {
                    diagnostics.append(RuleDiagnostic(.warning, file: shown, line: number, "condition '\(arguments)' is not understood; its block is skipped"))
                }
                conditions.append(holds)
                blockPlugins.append(nil)
                continue
            case "else":
                guard let last = conditions.popLast() else {
                    diagnostics.append(RuleDiagnostic(.error, file: shown, line: number, "else without if"))
                    continue
                }
                conditions.append(!last)
                blockPlugins[blockPlugins.count - 1] = nil
                continue
            case "endif":
                _ = blockPlugins.popLast()
                if conditions.popLast() == nil {
                    diagnostics.append(RuleDiagnostic(.error, file: shown, line: number, "endif without if"))
                }
                continue
            default:
                break
            }
            guard let closed = conditions.firstIndex(of: false) else {
                if keyword == "include" {
                    include(arguments, from: path, line: number, depth: depth)
                } else {
                    let plugin = blockPlugins.last { $0 != nil } ?? nil
                    lines.append(RuleLine(file: shown, line: number, keyword: keyword, arguments: arguments, plugin: plugin))
                }
                continue
            }
            if let plugin = blockPlugins[closed], Self.ruleKeywords.contains(keyword) {
                lines.append(RuleLine(
                    file: shown, line: number, keyword: keyword, arguments: arguments, plugin: plugin,
                    inactive: "needs the SpamAssassin plugin \(plugin), which Warden does not have"))
            }
        }
        if !conditions.isEmpty {
            diagnostics.append(RuleDiagnostic(.error, file: shown, line: nil, "\(conditions.count) if/ifplugin block(s) without endif"))
        }
    }

    private mutating func include(_ target: String, from path: String, line: Int, depth: Int) {
        guard !target.isEmpty else {
            diagnostics.append(RuleDiagnostic(.error, file: display(path), line: line, "include needs a file name"))
            return
        }
        guard depth < Self.maxIncludeDepth else {
            diagnostics.append(RuleDiagnostic(.error, file: display(path), line: line, "includes nested deeper than \(Self.maxIncludeDepth)"))
            return
        }
        let resolved = target.hasPrefix("/") ? target : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(target)
        guard FileManager.default.fileExists(atPath: resolved) else {
            diagnostics.append(RuleDiagnostic(.error, file: display(path), line: line, "included file \(target) does not exist"))
            return
        }
        readFile(resolved, depth: depth + 1)
    }

    func display(_ path: String) -> String {
        path.hasPrefix(displayRoot) ? String(path.dropFirst(displayRoot.count)) : path
    }

    /// The line without its comment: `#` starts one unless escaped as `\#`, which is a `#`.
    static func stripComment(_ raw: Substring) -> String {
        var result = ""
        var escaped = false
        for character in raw {
            if character == "#" && !escaped { break }
            // SpamAssassin reads `\#` as `#` (Conf::Parser: `s/\\#/#/g`).
            if character == "#" { result.removeLast() }
            escaped = character == "\\" && !escaped
            result.append(character)
        }
        return result.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `Mail::SpamAssassin::Plugin::Foo` and `Foo` both name the plugin `Foo`.
    static func pluginName(_ text: String) -> String {
        String(text.split(separator: ":").last ?? "").trimmingCharacters(in: .whitespaces)
    }

    /// SpamAssassin's `if` conditions as stock rule files use them: version comparisons hold
    /// (Warden reads rules written for SpamAssassin 3.4 and 4.0), `can(...)` names a Perl feature
    /// Warden does not have. Returns whether the block is read and whether the condition was
    /// understood at all.
    static func condition(_ expression: String) -> (holds: Bool, unknown: Bool) {
        let compact = expression.replacingOccurrences(of: " ", with: "")
        if compact.hasPrefix("!"), !compact.contains("can("), !compact.contains("plugin(") {
            let inner = condition(String(compact.dropFirst()))
            return (!inner.holds, inner.unknown)
        }
        let bare = compact.drop { $0 == "(" }
        if bare.hasPrefix("version>=") { return (true, false) }
        if bare.hasPrefix("version<") { return (false, false) }
        if compact.contains("can(") || compact.contains("plugin(") {
            return (compact.hasPrefix("!") || compact.hasPrefix("(!"), false)
        }
        return (false, true)
    }
}
