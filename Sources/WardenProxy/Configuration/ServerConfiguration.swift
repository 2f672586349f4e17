#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `[server]` table: who Warden says it is and how many sessions it holds at once.
public struct ServerConfiguration: Sendable, Equatable {
    /// Concurrent sessions in total before new clients get `421 4.7.0`.
    public static let defaultMaxSessions = 2000
    /// Concurrent sessions from one client address before it gets `421 4.7.0`.
    public static let defaultMaxSessionsPerClient = 50
    /// After SIGTERM, how long open transactions may run before their sessions are closed.
    public static let defaultShutdownGraceSeconds = 30

    /// Name in the `220` greeting and the EHLO reply (RFC 5321 4.1.1.1, 4.2).
    public var hostname: String
    public var maxSessions: Int
    public var maxSessionsPerClient: Int
    public var shutdownGraceSeconds: Int
    /// New connections from one client address per minute before it gets `421 4.7.0`; 0: no limit.
    public var connectionRatePerClient: Int = 0

    public init(
        hostname: String = ServerConfiguration.machineHostname(),
        maxSessions: Int = ServerConfiguration.defaultMaxSessions,
        maxSessionsPerClient: Int = ServerConfiguration.defaultMaxSessionsPerClient,
        shutdownGraceSeconds: Int = ServerConfiguration.defaultShutdownGraceSeconds
    ) {
        self.hostname = hostname
        self.maxSessions = maxSessions
        self.maxSessionsPerClient = maxSessionsPerClient
        self.shutdownGraceSeconds = shutdownGraceSeconds
    }

    /// The machine's name: `/proc/sys/kernel/hostname` where Linux has it, else `gethostname(2)`,
    /// else `localhost`.
    public static func machineHostname() -> String {
        if let file = fopen("/proc/sys/kernel/hostname", "r") {
            defer { fclose(file) }
            var buffer = [CChar](repeating: 0, count: 256)
            if fgets(&buffer, Int32(buffer.count), file) != nil {
                let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let trimmed = name.trimmingASCIIWhitespace()
                if !trimmed.isEmpty { return trimmed }
            }
        }
        var buffer = [CChar](repeating: 0, count: 256)
        if gethostname(&buffer, buffer.count - 1) == 0 {
            let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !name.isEmpty { return name }
        }
        return "localhost"
    }
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        return String(self.drop(while: isBlank).reversed().drop(while: isBlank).reversed())
    }
}
