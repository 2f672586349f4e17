import NIOCore
import NIOPosix

/// One TCP connection to a Redis server speaking RESP2. Commands may be sent concurrently; they
/// are pipelined on the one connection and each caller gets its own reply (Redis answers in
/// order). When the connection ends, every command still waiting fails with
/// `RedisError.Code.connectionClosed`; a command without a reply in `commandTimeout` fails with
/// `.commandTimeout` and closes the connection.
///
/// ```
/// C: *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n
/// S: +OK\r\n$1\r\n1\r\n
/// ```
public final class RedisConnection: Sendable {
    /// Commands a single connection holds in flight before refusing more.
    public static let defaultMaximumPendingCommands = 10_000

    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    public static func connect(
        host: String,
        port: Int,
        on group: any EventLoopGroup,
        timeout: Duration = RedisConfiguration.defaultConnectTimeout,
        commandTimeout: Duration = RedisConfiguration.defaultCommandTimeout,
        maximumPendingCommands: Int = defaultMaximumPendingCommands,
        limits: RESPDecoder.Limits = RESPDecoder.Limits()
    ) async throws -> RedisConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = RedisCommandHandler(
                        commandTimeout: TimeAmount(commandTimeout),
                        maximumPending: maximumPendingCommands,
                        limits: limits
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            return RedisConnection(channel: channel)
        } catch {
            throw RedisError(.connectFailed, "connect to \(host):\(port): \(error)")
        }
    }

    /// Sends one command (`["INCRBY", "key", "1"]`) and returns its reply. An error reply from
    /// the server is returned as `.error`, not thrown; thrown errors are `RedisError`s about the
    /// connection.
    public func send(_ arguments: [String]) async throws -> RESPValue {
        precondition(!arguments.isEmpty, "a Redis command needs at least its name")
        let reply = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.writeAndFlush(RedisCommand(arguments: arguments, reply: reply)).whenFailure { error in
            // Also covers a write after the handler was removed from a closed channel. A promise
            // completed twice keeps its first result.
            reply.fail(error as? RedisError ?? RedisError(.connectionClosed, "write failed: \(error)"))
        }
        return try await reply.futureResult.get()
    }

    /// False once the connection has closed for any reason.
    public var isActive: Bool { channel.isActive }

    /// Closes the connection; commands still waiting fail with `.connectionClosed`.
    public func close() async {
        try? await channel.close()
    }
}
