import RedisTestServer
import NIOPosix
import Testing

@testable import RedisClient

/// Against a real redis-server on loopback, one per test.
@Suite struct RedisConnectionTests {
    static func connect(_ server: RedisServerProcess, commandTimeout: Duration = .seconds(2)) async throws -> RedisConnection {
        try await RedisConnection.connect(
            host: "127.0.0.1", port: server.port, on: MultiThreadedEventLoopGroup.singleton,
            timeout: .seconds(1), commandTimeout: commandTimeout)
    }

    @Test func commandsAndReplies() async throws {
        try await withRedisServer { server in
            let connection = try await Self.connect(server)
            #expect(try await connection.send(["PING"]) == .simple("PONG"))
            #expect(try await connection.send(["SET", "k", "a\r\nb"]) == .simple("OK"))
            #expect(try await connection.send(["GET", "k"]) == .bulk(Array("a\r\nb".utf8)))
            #expect(try await connection.send(["GET", "missing"]) == .bulk(nil))
            #expect(try await connection.send(["INCRBY", "n", "5"]) == .integer(5))
            #expect(try await connection.send(["MGET", "n", "missing"]) == .array([.bulk(Array("5".utf8)), .bulk(nil)]))
            guard case .error(let message) = try await connection.send(["NOSUCHCOMMAND"]) else {
                Issue.record("an unknown command is an error reply")
                return
            }
            #expect(message.hasPrefix("ERR"))
            #expect(try await connection.send(["PING"]) == .simple("PONG"), "an error reply leaves the connection usable")
            await connection.close()
        }
    }

    @Test func pipelinedCommandsGetTheirOwnReplies() async throws {
        try await withRedisServer { server in
            let connection = try await Self.connect(server)
            try await withThrowingTaskGroup(of: (Int, RESPValue).self) { group in
                for index in 0..<2000 {
                    group.addTask { (index, try await connection.send(["ECHO", "value-\(index)"])) }
                }
                var seen = 0
                for try await (index, reply) in group {
                    #expect(reply == .bulk(Array("value-\(index)".utf8)))
                    seen += 1
                }
                #expect(seen == 2000)
            }
            await connection.close()
        }
    }

    @Test func aCommandWithoutReplyTimesOutAndClosesTheConnection() async throws {
        try await withRedisServer { server in
            let connection = try await Self.connect(server, commandTimeout: .milliseconds(200))
            let start = ContinuousClock.now
            let blocked = Task { try await connection.send(["BLPOP", "nothing", "5"]) }
            try await Task.sleep(for: .milliseconds(20))
            let behind = Task { try await connection.send(["PING"]) }
            await expectRedisError(.commandTimeout) { _ = try await blocked.value }
            await expectRedisError(.connectionClosed) { _ = try await behind.value }
            #expect(ContinuousClock.now - start < .seconds(2))
            await expectRedisError(.connectionClosed) { _ = try await connection.send(["PING"]) }
            #expect(!connection.isActive)
        }
    }

    @Test func losingTheServerFailsEveryPendingCommand() async throws {
        let server = try await RedisServerProcess.start()
        let connection = try await Self.connect(server, commandTimeout: .seconds(10))
        let start = ContinuousClock.now
        let first = Task { try await connection.send(["BLPOP", "nothing", "10"]) }
        let second = Task { try await connection.send(["BLPOP", "nothing", "10"]) }
        try await Task.sleep(for: .milliseconds(100))
        await server.stop()
        await expectRedisError(.connectionClosed) { _ = try await first.value }
        await expectRedisError(.connectionClosed) { _ = try await second.value }
        #expect(ContinuousClock.now - start < .seconds(5))
        await expectRedisError(.connectionClosed) { _ = try await connection.send(["PING"]) }
    }

    @Test func connectingToNothingFailsQuickly() async throws {
        let port = try RedisServerProcess.freePort()
        await expectRedisError(.connectFailed) {
            _ = try await RedisConnection.connect(host: "127.0.0.1", port: port, on: MultiThreadedEventLoopGroup.singleton)
        }
    }
}

/// Expects `body` to throw a `RedisError` with `code`.
func expectRedisError(
    _ code: RedisError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async {
    let error = await #expect(throws: RedisError.self, sourceLocation: sourceLocation) { try await body() }
    #expect(error?.code == code, "\(String(describing: error))", sourceLocation: sourceLocation)
}
