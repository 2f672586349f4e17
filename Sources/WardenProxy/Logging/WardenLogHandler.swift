import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log handler that writes one line per event, in logfmt or JSON (see ``LogLineFormatter``):
///
///     ts=2026-11-21T23:59:01.123Z level=info msg="session end" session=ab12cd34 client=127.0.0.1
///
/// The level follows a shared ``LogLevelBox`` until a logger sets its own, so
/// ``WardenLogging/setLevel(_:)`` reaches every logger that did not.
public struct WardenLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public var logLevel: Logger.Level {
        get { ownLevel ?? sharedLevel.level }
        set { ownLevel = newValue }
    }

    private var ownLevel: Logger.Level?
    private let sharedLevel: LogLevelBox
    private let formatter: LogLineFormatter
    private let now: @Sendable () -> Date
    private let sink: @Sendable (String) -> Void

    /// - Parameters:
    ///   - now: the clock for `ts`; tests pass a fixed one.
    ///   - sink: receives each line without its newline; by default ``standardError``.
    public init(
        format: LogFormat,
        level: LogLevelBox,
        metadataProvider: Logger.MetadataProvider? = nil,
        now: @escaping @Sendable () -> Date = { Date() },
        sink: @escaping @Sendable (String) -> Void = WardenLogHandler.standardError
    ) {
        self.formatter = LogLineFormatter(format: format)
        self.sharedLevel = level
        self.metadataProvider = metadataProvider
        self.now = now
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // The logger's metadata, then the provider's, then the event's own, each over the one
        // before; the common case (no provider) merges nothing.
        var base = metadata
        if let provided = metadataProvider?.get() {
            base.merge(provided) { _, provided in provided }
        }
        var own = event.metadata
        if let error = event.error, own?["error"] == nil, base["error"] == nil {
            own = (own ?? [:]).merging(["error": .string(String(describing: error))]) { own, _ in own }
        }
        sink(
            formatter.line(
                time: now(), level: event.level, message: event.message.description, metadata: base, overrides: own))
    }

    /// Writes a line and a newline to file descriptor 2 in one piece, so that lines from
    /// different threads never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        let bytes = Array((line + "\n").utf8)
        standardErrorLock.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EINTR {
                        continue
                    } else {
                        return  // stderr is gone; there is nowhere left to say so
                    }
                }
            }
        }
    }

    private static let standardErrorLock = Mutex(())
}
