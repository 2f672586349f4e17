/// What went wrong talking to Redis. The code is for callers to act on; the detail (peer
/// address, underlying error) is for logs only.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// TCP connect failed or timed out.
        case connectFailed
        /// A command got no reply within the command timeout; the connection is closed with it.
        case commandTimeout
        /// The connection closed (or was closed) with the command still unanswered.
        case connectionClosed
        /// The server sent bytes that are not RESP2, or a reply nobody asked for.
        case protocolError
        /// More commands in flight on one connection than `maximumPendingCommands`.
        case tooManyPendingCommands
        /// The last connect attempt failed less than the reconnect delay ago; not tried again yet.
        case reconnectBackoff
        /// The server answered with an error reply where a value was needed.
        case serverError
        /// The client was shut down.
        case shutDown
    }

    public let code: Code
    private let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "Redis \(code): \(detail)" }
}
