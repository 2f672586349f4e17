import RedisTestServer
import Testing

@testable import RedisClient

@Suite struct RedisClientTests {
    static func client(port: Int, reconnectDelay: Duration = .seconds(1)) -> RedisClient {
        RedisClient(
            configuration: RedisConfiguration(
                port: port, connectTimeout: .milliseconds(500), commandTimeout: .seconds(2),
                reconnectDelay: reconnectDelay, maximumReconnectDelay: .seconds(4)))
    }

    @Test func concurrentFirstCallsShareOneConnection() async throws {
        try await withRedisServer { server in
            let client = Self.client(port: server.port)
            try await withThrowingTaskGroup(of: RESPValue.self) { group in
                for _ in 0..<100 { group.addTask { try await client.run(["PING"]) } }
                for try await reply in group { #expect(reply == .simple("PONG")) }
            }
            // The start-up probe's connection may take a moment to be gone from the server's list.
            var info = ""
            let deadline = ContinuousClock.now + .seconds(2)
            repeat {
                info = try await client.run(["INFO", "clients"]).string ?? ""
                if info.contains("connected_clients:1\r\n") { break }
                try await Task.sleep(for: .milliseconds(20))
            } while ContinuousClock.now < deadline
            #expect(info.contains("connected_clients:1\r\n"), "one connection, not one per caller: \(info)")
            await client.shutdown()
            await expectRedisError(.shutDown) { _ = try await client.run(["PING"]) }
        }
    }

    @Test func afterAFailedConnectTheNextAttemptWaitsForTheDelay() async throws {
        let port = try RedisServerProcess.freePort()
        let client = Self.client(port: port)
        await expectRedisError(.connectFailed) { _ = try await client.run(["PING"]) }
        let failedAt = ContinuousClock.now
        await expectRedisError(.reconnectBackoff) { _ = try await client.run(["PING"]) }

        let server = try await RedisServerProcess.start(port: port)
        if ContinuousClock.now - failedAt < .milliseconds(900) {
            await expectRedisError(.reconnectBackoff) { _ = try await client.run(["PING"]) }
        }
        try await Task.sleep(until: failedAt + .milliseconds(1050))
        #expect(try await client.run(["PING"]) == .simple("PONG"))
        await client.shutdown()
        await server.stop()
    }

    @Test func reconnectsAfterTheServerRestarts() async throws {
        let first = try await RedisServerProcess.start()
        let port = first.port
        let client = Self.client(port: port, reconnectDelay: .milliseconds(100))
        #expect(try await client.run(["SET", "k", "1"]) == .simple("OK"))
        await first.stop()
        let second = try await RedisServerProcess.start(port: port)
        var reply: RESPValue?
        var errors: [RedisError.Code] = []
        let deadline = ContinuousClock.now + .seconds(3)
        while reply == nil && ContinuousClock.now < deadline {
            do {
                reply = try await client.run(["GET", "k"])
            } catch let error as RedisError {
                errors.append(error.code)
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(reply == .bulk(nil), "a new, empty server")
        #expect(errors.allSatisfy { [.connectionClosed, .connectFailed, .reconnectBackoff].contains($0) }, "\(errors)")
        await client.shutdown()
        await second.stop()
    }

    @Test func scriptsRunBySHAAndFallBackToEvalOnNOSCRIPT() async throws {
        try await withRedisServer { server in
            let client = Self.client(port: server.port)
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(try await client.run(["SCRIPT", "LOAD", script.source]) == .bulk(Array(script.sha1.utf8)))
            #expect(try await client.evalScript(script, keys: ["n"], args: ["2"]) == .integer(2))
            #expect(try await client.run(["SCRIPT", "FLUSH"]) == .simple("OK"))
            #expect(try await client.run(["SCRIPT", "EXISTS", script.sha1]) == .array([.integer(0)]))
            #expect(try await client.evalScript(script, keys: ["n"], args: ["3"]) == .integer(5), "EVAL after NOSCRIPT")
            #expect(try await client.run(["SCRIPT", "EXISTS", script.sha1]) == .array([.integer(1)]), "EVAL cached it")
            let broken = RedisScript("return redis.call('NOSUCH')")
            guard case .error = try await client.evalScript(broken, keys: [], args: []) else {
                Issue.record("a failing script is an error reply")
                return
            }
            await client.shutdown()
        }
    }
}
