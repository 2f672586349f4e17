import Logging
import Synchronization

/// The process-wide logging setup: every `Logger` made after ``bootstrap(format:level:)`` writes
/// through a ``WardenLogHandler`` to stderr.
public enum WardenLogging {
    /// The level shared by every handler that ``bootstrap(format:level:)`` makes.
    public static let level = LogLevelBox(.info)

    private static let state = Mutex<(bootstrapped: Bool, format: LogFormat)>((false, .logfmt))

    /// Sets the format and level. `LoggingSystem.bootstrap` may run once per process, so only the
    /// first call installs the handler; later calls change the level everywhere and the format
    /// of loggers made after them.
    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        Self.level.set(level)
        let first = state.withLock { state in
            defer { state = (true, format) }
            return !state.bootstrapped
        }
        guard first else { return }
        LoggingSystem.bootstrap { _ in
            WardenLogHandler(format: state.withLock { $0.format }, level: Self.level)
        }
    }

    /// Changes the level of every logger that has not set its own.
    public static func setLevel(_ level: Logger.Level) {
        Self.level.set(level)
    }
}
