import Logging
import Synchronization

/// A log level shared by many handlers, so that one call changes what every logger emits
/// (for example on SIGHUP or from an admin command) without restarting anything.
///
/// Read on every log call, so it is one atomic load rather than a lock.
public final class LogLevelBox: Sendable {
    private static let levels = Logger.Level.allCases
    private let index: Atomic<Int>

    public init(_ level: Logger.Level) {
        index = Atomic(Self.levels.firstIndex(of: level)!)
    }

    public var level: Logger.Level {
        Self.levels[index.load(ordering: .relaxed)]
    }

    public func set(_ level: Logger.Level) {
        index.store(Self.levels.firstIndex(of: level)!, ordering: .relaxed)
    }
}
