import SMTPCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What to do with a bare CR or LF inside message data (RFC 5321 2.3.8 forbids them).
public enum BareLineEndingSetting: String, Sendable, Equatable, CaseIterable {
    /// Refuse the message.
    case reject
    /// Turn each into CRLF before relaying.
    case normalize
}

/// The `[limits]` table: the sizes and counts a session may use.
public struct LimitsConfiguration: Sendable, Equatable {
    /// 25 MiB, the size most public providers accept.
    public static let defaultMessageSize = 26_214_400
    /// Failed commands in one session before `421`.
    public static let defaultErrors = 10
    /// Commands in one session before `421`.
    public static let defaultCommands = 10_000
    /// Bytes of one message held in memory before it spills to ``spoolDirectory``.
    public static let defaultMemorySpool = 1_048_576

    /// A command line including CRLF; at least RFC 5321 4.5.3.1.4's 512.
    public var lineLength: Int
    /// RCPT per message (RFC 5321 4.5.3.1.8); `452 4.5.3` past it.
    public var recipients: Int
    /// Bytes of message data; `552 5.3.4` past it.
    public var messageSize: Int
    public var errors: Int
    public var commands: Int
    public var memorySpool: Int
    /// Absolute path of the directory spilled messages go to (removed after use).
    public var spoolDirectory: String
    public var bareLineEndings: BareLineEndingSetting

    public init(
        lineLength: Int = SMTPLimits.commandLineLength,
        recipients: Int = SMTPLimits.recipients,
        messageSize: Int = LimitsConfiguration.defaultMessageSize,
        errors: Int = LimitsConfiguration.defaultErrors,
        commands: Int = LimitsConfiguration.defaultCommands,
        memorySpool: Int = LimitsConfiguration.defaultMemorySpool,
        spoolDirectory: String = LimitsConfiguration.systemTemporaryDirectory(),
        bareLineEndings: BareLineEndingSetting = .reject
    ) {
        self.lineLength = lineLength
        self.recipients = recipients
        self.messageSize = messageSize
        self.errors = errors
        self.commands = commands
        self.memorySpool = memorySpool
        self.spoolDirectory = spoolDirectory
        self.bareLineEndings = bareLineEndings
    }

    /// `$TMPDIR` when it is an absolute path, else `/tmp`, without a trailing slash.
    public static func systemTemporaryDirectory() -> String {
        if let value = getenv("TMPDIR") {
            var path = String(cString: value)
            while path.count > 1, path.hasSuffix("/") { path.removeLast() }
            if path.hasPrefix("/") { return path }
        }
        return "/tmp"
    }
}
