import RedisClient

#if canImport(Glibc)
import Glibc
#endif

/// A redis-server of the test's own on 127.0.0.1, nothing saved to disk, stopped by its own pid.
///
/// Started with posix_spawn and a cleared signal mask: a child inherits the blocked signals of
/// the thread that starts it, and on Swift's concurrency threads SIGTERM is blocked (Foundation's
/// `Process` passes that on, and the server then never hears SIGTERM).
public final class RedisServerProcess: Sendable {
    public static let executable = "/usr/bin/redis-server"
    public let port: Int
    public let pid: pid_t

    private init(port: Int, pid: pid_t) {
        self.port = port
        self.pid = pid
    }

    /// Starts a server on `port` (a free one if nil) and waits (at most 5 s) until it answers PING.
    /// A port found free can be taken by another test's client connection before the server binds
    /// it; then the server exits and is started again (on another port if none was asked for).
    public static func start(port requested: Int? = nil) async throws -> RedisServerProcess {
        var port = try requested ?? freePort()
        for _ in 0..<5 {
            let arguments = [
                executable, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--loglevel", "warning",
            ]
            let server = RedisServerProcess(port: port, pid: try spawn(arguments))
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline && server.isRunning {
                let probe = RedisClient(configuration: RedisConfiguration(port: port, connectTimeout: .milliseconds(200)))
                let reply = try? await probe.run(["PING"])
                await probe.shutdown()
                if reply == .simple("PONG") { return server }
                try await Task.sleep(for: .milliseconds(20))
            }
            await server.stop()
            if requested == nil { port = try freePort() } else { try await Task.sleep(for: .milliseconds(100)) }
        }
        throw ServerDidNotStart(port: port)
    }

    struct ServerDidNotStart: Error { var port: Int }
    struct SpawnFailed: Error { var errno: Int32 }

    private static func spawn(_ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCONT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, &argv, environ)
        guard result == 0 else { throw SpawnFailed(errno: result) }
        return pid
    }

    /// False once the process has exited (and been reaped).
    var isRunning: Bool {
        var status: Int32 = 0
        switch waitpid(pid, &status, WNOHANG) {
        case 0: return true
        case -1: return kill(pid, 0) == 0  // reaped elsewhere, or not ours to wait for
        default: return false
        }
    }

    public func pause() { kill(pid, SIGSTOP) }

    public func resume() { kill(pid, SIGCONT) }

    /// SIGTERM, then waits up to 5 s for it to exit (SIGKILL after that).
    public func stop() async {
        guard isRunning else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        while isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        if isRunning {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    /// A port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SpawnFailed(errno: errno) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw SpawnFailed(errno: errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs `body` with a fresh server and stops it afterwards, whether `body` threw or not.
public func withRedisServer<T>(_ body: (RedisServerProcess) async throws -> T) async throws -> T {
    let server = try await RedisServerProcess.start()
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
