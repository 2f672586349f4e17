/// A problem in a rule or list file, reported as `FILE:LINE: reason` (DESIGN.md section 4).
/// Errors keep a file from loading; warnings name what is skipped.
public struct RuleDiagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var severity: Severity
    public var file: String
    public var line: Int?
    public var message: String

    public init(_ severity: Severity, file: String, line: Int?, _ message: String) {
        self.severity = severity
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return severity == .warning ? "\(place): warning: \(message)" : "\(place): \(message)"
    }
}

/// Everything that went wrong while loading a rule set; thrown when it holds an error.
public struct RuleLoadError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [RuleDiagnostic]

    public var errors: [RuleDiagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
