import NIOCore
import NIOPosix
import Synchronization

/// A Redis client for a long-running process: it owns one pipelined connection, opens it on first
/// use and again after it is lost. At most one connect attempt is in flight (concurrent callers
/// wait for the same one); after a failed attempt the next is not made before `reconnectDelay`
/// (doubling per consecutive failure up to `maximumReconnectDelay`), and calls in between fail at
/// once with `.reconnectBackoff`, so callers with a fallback never wait on a dead server.
///
/// Nothing is retried: a command that fails (connection lost, timeout) throws, because `INCRBY`
/// sent twice counts twice.
public final class RedisClient: Sendable {
    private enum State {
        case idle(failures: Int, retryAt: ContinuousClock.Instant?)
        case connecting(Task<RedisConnection, any Error>)
        case connected(RedisConnection)
        case shutDown
    }

    private enum Next {
        case use(RedisConnection)
        case wait(Task<RedisConnection, any Error>)
        case fail(RedisError)
    }

    public let configuration: RedisConfiguration
    private let group: any EventLoopGroup
    private let state = Mutex<State>(.idle(failures: 0, retryAt: nil))

    public init(configuration: RedisConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
    }

    public convenience init(host: String = "127.0.0.1", port: Int = RedisConfiguration.defaultPort) {
        self.init(configuration: RedisConfiguration(host: host, port: port))
    }

    /// Sends one command and returns its reply (an error reply is returned as `.error`).
    public func run(_ arguments: [String]) async throws -> RESPValue {
        try await connection().send(arguments)
    }

    /// Runs `script` by SHA-1, and by source if the server answers `NOSCRIPT` (after a restart or
    /// `SCRIPT FLUSH`; `EVAL` also caches it for the next call).
    public func evalScript(_ script: RedisScript, keys: [String], args: [String]) async throws -> RESPValue {
        let tail = [String(keys.count)] + keys + args
        let reply = try await run(["EVALSHA", script.sha1] + tail)
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            return try await run(["EVAL", script.source] + tail)
        }
        return reply
    }

    /// Closes the connection; later calls fail with `.shutDown`.
    public func shutdown() async {
        let previous = state.withLock { state in
            defer { state = .shutDown }
            return state
        }
        switch previous {
        case .connected(let connection): await connection.close()
        case .connecting(let task): if let connection = try? await task.value { await connection.close() }
        case .idle, .shutDown: break
        }
    }

    private func connection() async throws -> RedisConnection {
        let next = state.withLock { state -> Next in
            switch state {
            case .connected(let connection) where connection.isActive:
                return .use(connection)
            case .connected:
                return .wait(startConnecting(&state, failures: 0))
            case .connecting(let task):
                return .wait(task)
            case .idle(let failures, let retryAt):
                if let retryAt, ContinuousClock.now < retryAt {
                    return .fail(RedisError(.reconnectBackoff, "last connect to \(configuration.host):\(configuration.port) failed; next attempt after the reconnect delay"))
                }
                return .wait(startConnecting(&state, failures: failures))
            case .shutDown:
                return .fail(RedisError(.shutDown, "the client was shut down"))
            }
        }
        switch next {
        case .use(let connection): return connection
        case .wait(let task): return try await task.value
        case .fail(let error): throw error
        }
    }

    /// Called with the lock held; the task records its own outcome.
    private func startConnecting(_ state: inout State, failures: Int) -> Task<RedisConnection, any Error> {
        let configuration = configuration
        let group = group
        let task = Task<RedisConnection, any Error> {
            do {
                let connection = try await RedisConnection.connect(
                    host: configuration.host,
                    port: configuration.port,
                    on: group,
                    timeout: configuration.connectTimeout,
                    commandTimeout: configuration.commandTimeout,
                    maximumPendingCommands: configuration.maximumPendingCommands
                )
                let kept = self.state.withLock { state -> Bool in
                    guard case .connecting = state else { return false }
                    state = .connected(connection)
                    return true
                }
                if !kept {
                    await connection.close()
                    throw RedisError(.shutDown, "the client was shut down")
                }
                return connection
            } catch {
                self.state.withLock { state in
                    guard case .connecting = state else { return }
                    state = .idle(failures: failures + 1, retryAt: .now + self.reconnectDelay(afterFailures: failures + 1))
                }
                throw error
            }
        }
        state = .connecting(task)
        return task
    }

    private func reconnectDelay(afterFailures failures: Int) -> Duration {
        var delay = configuration.reconnectDelay
        for _ in 1..<max(1, min(failures, 16)) where delay < configuration.maximumReconnectDelay {
            delay *= 2
        }
        return min(delay, configuration.maximumReconnectDelay)
    }
}
