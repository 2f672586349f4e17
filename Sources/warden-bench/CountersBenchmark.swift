#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import WardenPolicy

/// `warden-bench counters`: the cost of one rate-limit counter operation and of one
/// `RateLimiter` check, in `MemoryCounterStore` and in `RedisCounterStore` (directly, and behind
/// `FallbackCounterStore` as `warden run` uses it with `[store] redis`), against a private
/// `redis-server` this command starts on a free loopback port and stops again by its pid.
///
/// Every loop runs a fixed number of operations over `keys` keys (client addresses and users from
/// a fixed seed). Redis is timed one operation at a time (latency: what a session waits) and with
/// 64 operations in flight (throughput of the one pipelined connection).
///
/// The benchmark names no `RedisClient` type: WardenPolicy does not re-export the RedisClient
/// module and warden-bench depends on WardenPolicy only, so the client is built through
/// `RedisCounterStore.init(client:)`'s parameter type (`.init(configuration: .init(...))`).
struct CountersBenchmark {
    var memoryOperations: Int
    var redisOperations: Int
    var keys: Int
    var seed: UInt64 = 0x5741_5244_454E  // "WARDEN"

    static let inFlight = 64

    func run() async {
        let clients = makeClients()
        let users = (0..<keys).map { "user\($0)@example.test" }
        let window = Duration.seconds(3600)
        print("keys: \(keys) client addresses and \(keys) users; window 1h")

        // MARK: memory
        let memory = MemoryCounterStore()
        print("memory operations: \(memoryOperations) each")
        report("memory add", memoryOperations) { index in
            _ = memory.add("MSG_IP:\(clients[index % keys])", amount: 1, window: window, now: nil)
        }
        report("memory addDistinct", memoryOperations) { index in
            _ = memory.addDistinct("DR:\(users[index % keys])", member: "rcpt\(index % 97)@example.org", window: window, now: nil)
        }
        report("memory count", memoryOperations) { index in
            _ = memory.count("MSG_IP:\(clients[index % keys])", window: window, now: nil)
        }
        let memoryLimiter = makeLimiter(store: memory)
        await reportAsync("memory limiter check at MAIL (3 rules)", memoryOperations / 4) { index in
            _ = await memoryLimiter.check(.mail, facts: facts(clients, users, index))
        }
        await reportAsync("memory limiter release of a check's counts (3 rules)", memoryOperations / 4) { index in
            let outcome = await memoryLimiter.check(.mail, facts: facts(clients, users, index))
            await memoryLimiter.release(outcome.reservations)
        }
        print("memory keys held: \(memory.keyCount)")

        // MARK: Redis
        guard let server = RedisServerProcess.start() else {
            print("redis: skipped (no redis-server could be started; set WARDEN_BENCH_REDIS_SERVER to its path)")
            return
        }
        defer { server.stop() }
        print("redis-server: \(server.version) on 127.0.0.1:\(server.port) (pid \(server.pid)), \(redisOperations) operations each")
        let redis = RedisCounterStore(client: .init(configuration: .init(host: "127.0.0.1", port: server.port)))
        do {
            try await redis.ping()
        } catch {
            print("redis: PING failed: \(error)")
            return
        }
        await reportRedis("redis add", redisOperations) { index in
            _ = try await redis.add("MSG_IP:\(clients[index % keys])", amount: 1, window: window, now: nil)
        }
        await reportRedis("redis addDistinct", redisOperations) { index in
            _ = try await redis.addDistinct("DR:\(users[index % keys])", member: "rcpt\(index % 97)@example.org", window: window, now: nil)
        }
        await reportRedis("redis count", redisOperations) { index in
            _ = try await redis.count("MSG_IP:\(clients[index % keys])", window: window, now: nil)
        }
        let redisLimiter = makeLimiter(store: redis)
        await reportRedis("redis limiter check at MAIL (3 rules)", redisOperations / 4) { index in
            _ = await redisLimiter.check(.mail, facts: facts(clients, users, index))
        }

        let fallback = FallbackCounterStore(primary: redis, fallback: MemoryCounterStore()) { shared, why in
            print("fallback store switched: shared=\(shared) (\(why))")
        }
        await reportRedis("redis via FallbackCounterStore add", redisOperations) { index in
            _ = try await fallback.add("MSG_IP:\(clients[index % keys])", amount: 1, window: window, now: nil)
        }
        let fallbackLimiter = makeLimiter(store: fallback)
        await reportRedis("redis via FallbackCounterStore limiter check at MAIL (3 rules)", redisOperations / 4) { index in
            _ = await fallbackLimiter.check(.mail, facts: facts(clients, users, index))
        }
        print("fallback store still shared: \(fallback.isUsingPrimary)")

        if let size = try? await redis.client.run(["DBSIZE"]).integer {
            print("redis keys held: \(size)")
        }
        await redis.client.shutdown()
    }

    // MARK: Timing

    private func report(_ name: String, _ operations: Int, _ body: (Int) -> Void) {
        let clock = ContinuousClock()
        let start = clock.now
        for index in 0..<operations { body(index) }
        printFigure(name, operations, clock.now - start)
    }

    private func reportAsync(_ name: String, _ operations: Int, _ body: (Int) async -> Void) async {
        let clock = ContinuousClock()
        let start = clock.now
        for index in 0..<operations { await body(index) }
        printFigure(name, operations, clock.now - start)
    }

    /// One at a time, then `inFlight` at a time; an operation that throws is counted and reported.
    private func reportRedis(_ name: String, _ operations: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async {
        let clock = ContinuousClock()
        var failures = 0
        var start = clock.now
        for index in 0..<operations {
            do { try await body(index) } catch { failures += 1 }
        }
        printFigure("\(name), 1 in flight", operations, clock.now - start, failures: failures)

        let lanes = Self.inFlight
        let perLane = max(1, operations / lanes)
        start = clock.now
        failures = await withTaskGroup(of: Int.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    var failed = 0
                    for step in 0..<perLane {
                        do { try await body(lane * perLane + step) } catch { failed += 1 }
                    }
                    return failed
                }
            }
            var total = 0
            for await failed in group { total += failed }
            return total
        }
        printFigure("\(name), \(lanes) in flight", perLane * lanes, clock.now - start, failures: failures)
    }

    private func printFigure(_ name: String, _ operations: Int, _ elapsed: Duration, failures: Int = 0) {
        let total = benchSeconds(elapsed)
        let perOperation = total / Double(operations)
        let cost = perOperation >= 1e-6 ? "\(benchFormat(perOperation * 1e6, decimals: 2)) µs" : "\(benchFormat(perOperation * 1e9, decimals: 1)) ns"
        let failed = failures > 0 ? " (\(failures) failed)" : ""
        print("\(name): \(cost) per operation, \(Int(Double(operations) / total)) per second\(failed)")
    }

    // MARK: Inputs

    private func makeClients() -> [IPAddress] {
        var random = SplitMix64(seed: seed)
        return (0..<keys).map { _ in .v4(0x0A00_0000 | UInt32(truncatingIfNeeded: random.next()) & 0x00FF_FFFF) }
    }

    private func facts(_ clients: [IPAddress], _ users: [String], _ index: Int) -> SessionFacts {
        SessionFacts(
            sessionID: "bench", listener: "submission", clientAddress: clients[index % keys], clientPort: 40000,
            authenticatedUser: users[index % keys])
    }

    /// Three message limits, as an ISP's submission policy might have: per address, per /24 and
    /// per user (limits high enough never to refuse, so every check does the full work).
    private func makeLimiter(store: any CounterStore) -> RateLimiter {
        let rules = """
            ratelimit MSG_IP   key=client_ip count=messages limit=100000000/1h
            ratelimit MSG_NET  key=client_net/24/64 count=messages limit=100000000/1h
            ratelimit MSG_USER key=user count=messages limit=100000000/1h

            """
        let directory = NSTemporaryDirectory() + "warden-bench-counters-\(getpid())"
        let rulesDirectory = directory + "/Rules"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            try FileManager.default.createDirectory(atPath: rulesDirectory, withIntermediateDirectories: true)
            try rules.write(toFile: rulesDirectory + "/10-limits.cf", atomically: true, encoding: .utf8)
            let ruleSet = try RuleSetLoader.load(
                rulesDirectory: rulesDirectory, blocklistsDirectory: directory + "/Blocklists", displayRoot: directory)
            return RateLimiter(rules: ruleSet, store: store)
        } catch {
            print("cannot load the benchmark's rules: \(error)")
            exit(1)
        }
    }
}

/// A `redis-server` of our own: `--port P --bind 127.0.0.1 --save "" --appendonly no
/// --daemonize no` (in the foreground, so the pid is the server's), stopped by SIGTERM to that
/// pid (SIGKILL after 5 s).
final class RedisServerProcess {
    let process: Process
    let port: Int
    let version: String

    var pid: Int32 { process.processIdentifier }

    private init(process: Process, port: Int, version: String) {
        self.process = process
        self.port = port
        self.version = version
    }

    static func start() -> RedisServerProcess? {
        guard let binary = executable() else { return nil }
        let port: Int
        do {
            port = try freePort()
        } catch {
            print("redis: no free port: \(error)")
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", NSTemporaryDirectory(),
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            print("redis: cannot start \(binary): \(error)")
            return nil
        }
        let server = RedisServerProcess(process: process, port: port, version: versionOf(binary))
        // Up to 10 s for the port to accept.
        for _ in 0..<200 {
            if !process.isRunning {
                print("redis: \(binary) exited with status \(process.terminationStatus)")
                return nil
            }
            if accepts(port: port) { return server }
            usleep(50_000)
        }
        print("redis: \(binary) did not listen on 127.0.0.1:\(port) within 10 s")
        server.stop()
        return nil
    }

    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        for _ in 0..<100 where process.isRunning { usleep(50_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            for _ in 0..<100 where process.isRunning { usleep(50_000) }
        }
    }

    private static func executable() -> String? {
        if let path = ProcessInfo.processInfo.environment["WARDEN_BENCH_REDIS_SERVER"], !path.isEmpty {
            return FileManager.default.isExecutableFile(atPath: path) ? path : nil
        }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return (directories + ["/usr/bin", "/usr/local/bin", "/usr/sbin"])
            .map { $0 + "/redis-server" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static func versionOf(_ binary: String) -> String {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--version"]
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "redis-server" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: " ").first { $0.hasPrefix("v=") }.map { "Redis \($0.dropFirst(2))" } ?? "redis-server"
    }

    /// Binds 127.0.0.1:0, reads the port the kernel chose, closes.
    private static func freePort() throws -> Int {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(socketDescriptor) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketDescriptor, $0, length) }
        }
        guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketDescriptor, $0, &length) }
        }
        guard named == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func accepts(port: Int) -> Bool {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { return false }
        defer { close(socketDescriptor) }
        var address = loopback(port: port)
        let connected = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return connected == 0
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}

private func benchSeconds(_ duration: Duration) -> Double {
    let (whole, fraction) = duration.components
    return Double(whole) + Double(fraction) / 1e18
}

private func benchFormat(_ value: Double, decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}
