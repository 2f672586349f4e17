import Logging

/// How log lines are written; see ``WardenLogHandler``.
public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    /// `ts=... level=info msg="session end" session=ab12cd34 ...`
    case logfmt
    /// One JSON object per line.
    case json
}

/// The `[log]` table.
public struct LogConfiguration: Sendable, Equatable {
    public var format: LogFormat
    /// The starting level; it can be changed at runtime with ``WardenLogging/setLevel(_:)``.
    public var level: Logger.Level

    public init(format: LogFormat = .logfmt, level: Logger.Level = .info) {
        self.format = format
        self.level = level
    }
}
