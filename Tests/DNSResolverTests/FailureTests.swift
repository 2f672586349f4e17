import DNSResolver
import Testing

/// Servers that never answer or are not there, shutdown and cancellation: each query still
/// ends, once, within its bound.
@Suite("DNSResolver failures")
struct FailureTests {
    @Test func silentServerTimesOutAfterAllTries() async throws {
        let silent = try LoopbackSocket(.udp, port: 0)
        defer { silent.close() }
        let timeout = Duration.milliseconds(300)
        let resolver = try DNSResolver(
            configuration: .init(servers: ["127.0.0.1:\(silent.port)"], timeout: timeout, tries: 2))
        defer { resolver.shutdown() }
        let start = ContinuousClock.now
        let error = await #expect(throws: DNSError.self) { try await resolver.queryA("2.0.0.127.bl.test") }
        let elapsed = ContinuousClock.now - start
        #expect(error?.kind == .timeout)
        #expect(elapsed >= timeout * 2 - .milliseconds(50))
        #expect(elapsed < timeout * 2 + .milliseconds(500))
    }

    @Test func portWithNothingListeningFailsFast() async throws {
        let port = try freeLoopbackPort()
        let resolver = try DNSResolver(
            configuration: .init(servers: ["127.0.0.1:\(port)"], timeout: .seconds(2), tries: 2))
        defer { resolver.shutdown() }
        let start = ContinuousClock.now
        let error = await #expect(throws: DNSError.self) { try await resolver.queryA("2.0.0.127.bl.test") }
        #expect(error?.kind == .serverFailure, "\(String(describing: error))")
        // Loopback reports the closed port (ICMP), so no try waits its timeout out.
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test func shutdownFailsPendingAndLaterQueries() async throws {
        let silent = try LoopbackSocket(.udp, port: 0)
        defer { silent.close() }
        let resolver = try DNSResolver(
            configuration: .init(servers: ["127.0.0.1:\(silent.port)"], timeout: .seconds(5), tries: 2))
        let start = ContinuousClock.now
        let errors = await withTaskGroup(of: DNSError?.self) { group in
            for index in 0..<20 {
                group.addTask {
                    do throws(DNSError) {
                        _ = try await resolver.queryA("\(index).example.test")
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(200))
                resolver.shutdown()
                return DNSError(kind: .other, detail: "shut down")
            }
            var errors: [DNSError?] = []
            for await error in group {
                errors.append(error)
            }
            return errors
        }
        #expect(errors.count == 21)
        #expect(errors.allSatisfy { $0 == DNSError(kind: .other, detail: "shut down") })
        #expect(ContinuousClock.now - start < .seconds(2))
        let after = await #expect(throws: DNSError.self) { try await resolver.queryTXT("late.example.test") }
        #expect(after == DNSError(kind: .other, detail: "shut down"))
        resolver.shutdown()
    }

    @Test func cancellationEndsTheQuery() async throws {
        let silent = try LoopbackSocket(.udp, port: 0)
        defer { silent.close() }
        let resolver = try DNSResolver(
            configuration: .init(servers: ["127.0.0.1:\(silent.port)"], timeout: .seconds(5), tries: 2))
        defer { resolver.shutdown() }
        let start = ContinuousClock.now
        let task = Task { () -> Result<DNSAddressAnswer, DNSError> in
            do throws(DNSError) {
                return .success(try await resolver.queryA("cancelled.example.test"))
            } catch {
                return .failure(error)
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = await task.value
        #expect(ContinuousClock.now - start < .seconds(1))
        guard case .failure(let error) = result else {
            Issue.record("a query to a silent server answered: \(result)")
            return
        }
        #expect(error == DNSError(kind: .other, detail: "cancelled"))
    }
}

/// Answers that say the server failed, or that do not parse.
@Suite("DNSResolver against broken answers")
struct BrokenAnswerTests {
    @Test func servfailIsServerFailure() async throws {
        let responder = try ScriptedResponder(.rcode(2))
        defer { responder.stop() }
        let resolver = try DNSResolver(configuration: .init(servers: [responder.server], timeout: .seconds(1)))
        defer { resolver.shutdown() }
        let error = await #expect(throws: DNSError.self) { try await resolver.queryA("2.0.0.127.bl.test") }
        #expect(error?.kind == .serverFailure, "\(String(describing: error))")
    }

    @Test func cutRecordIsMalformed() async throws {
        let responder = try ScriptedResponder(.truncatedRecord)
        defer { responder.stop() }
        let resolver = try DNSResolver(configuration: .init(servers: [responder.server], timeout: .seconds(1)))
        defer { resolver.shutdown() }
        let error = await #expect(throws: DNSError.self) { try await resolver.queryA("2.0.0.127.bl.test") }
        #expect(error?.kind == .malformed, "\(String(describing: error))")
    }
}
