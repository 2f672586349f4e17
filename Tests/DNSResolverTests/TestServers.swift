import DNSResolver
import Foundation
import Glibc
import Testing

/// A DNS server process of the tests' own, on a loopback port of its own, stopped by its pid.
///
/// Started with `posix_spawn` and an emptied signal mask, not Foundation's `Process`: a child
/// spawned from a Swift concurrency thread inherits that thread's blocked signals, SIGTERM
/// among them, so `terminate()` never stopped it and `waitUntilExit()` hung the test.
final class ServerProcess: @unchecked Sendable {
    let port: UInt16
    let directory: URL
    let executable: String
    private let pid: pid_t
    private var exited = false

    /// How long a freshly started server may take to answer its first query.
    static let startupBudget: Duration = .seconds(10)
    /// How long a server may take to exit after SIGTERM before it gets SIGKILL.
    static let stopBudget: Duration = .seconds(5)

    private init(port: UInt16, directory: URL, executable: String, pid: pid_t) {
        self.port = port
        self.directory = directory
        self.executable = executable
        self.pid = pid
    }

    var server: String { "127.0.0.1:\(port)" }

    /// Starts `executable` with the arguments `makeArguments(port, directory)` builds, its
    /// output in `server.log`, and waits until `probe` (a name that must resolve) answers.
    static func start(
        _ executable: String,
        files: [String: String] = [:],
        probe: String,
        makeArguments: (UInt16, URL) -> [String]
    ) async throws -> ServerProcess {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("dnsresolver-tests-\(UUID().uuidString)")
        // rbldnsd started as root drops to its own user: the directory must be readable.
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        for (name, content) in files {
            try content.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let port = try freeLoopbackPort()
        let pid = try spawn(
            executable, arguments: makeArguments(port, directory),
            log: directory.appendingPathComponent("server.log").path)
        let server = ServerProcess(port: port, directory: directory, executable: executable, pid: pid)
        do {
            try await server.waitUntilAnswering(probe)
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    private static func spawn(_ executable: String, arguments: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard status == 0 else {
            throw ServerFailure("posix_spawn \(executable): error \(status)")
        }
        return pid
    }

    private func waitUntilAnswering(_ probe: String) async throws {
        let resolver = try DNSResolver(
            configuration: .init(servers: [server], timeout: .milliseconds(200), tries: 1))
        defer { resolver.shutdown() }
        let deadline = ContinuousClock.now + Self.startupBudget
        var lastError: DNSError? = nil
        while ContinuousClock.now < deadline {
            guard !reapIfExited() else {
                throw ServerFailure("\(executable) exited: \(logText)")
            }
            do {
                _ = try await resolver.queryA(probe)
                return
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServerFailure("no answer to \(probe) on \(server): \(String(describing: lastError)) \(logText)")
    }

    var logText: String {
        (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
    }

    /// Whether the process has exited (and is reaped).
    private func reapIfExited() -> Bool {
        if !exited {
            var status: Int32 = 0
            exited = waitpid(pid, &status, WNOHANG) == pid
        }
        return exited
    }

    /// SIGTERM to our own pid, SIGKILL if it is still there after `stopBudget`; reaps it and
    /// removes its directory.
    func stop() {
        if !reapIfExited() {
            kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + Self.stopBudget
            while !reapIfExited() && ContinuousClock.now < deadline {
                usleep(5_000)
            }
            if !reapIfExited() {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                _ = waitpid(pid, &status, 0)
                exited = true
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

struct ServerFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A port free for both UDP and TCP on 127.0.0.1 at the time of asking: the kernel picks it
/// for UDP, then TCP must bind it too (dnsmasq listens on both).
func freeLoopbackPort() throws -> UInt16 {
    for _ in 0..<20 {
        let udp = try LoopbackSocket(.udp, port: 0)
        let port = udp.port
        let tcp = try? LoopbackSocket(.tcp, port: port)
        udp.close()
        tcp?.close()
        if tcp != nil {
            return port
        }
    }
    throw ServerFailure("no free loopback port")
}

/// A socket bound to 127.0.0.1; as a UDP "server" that never reads, it is a DNS server that
/// never answers.
final class LoopbackSocket: @unchecked Sendable {
    private(set) var fd: Int32
    let port: UInt16

    enum Transport {
        case udp, tcp
    }

    init(_ transport: Transport, port: UInt16) throws {
        let type = transport == .udp ? SOCK_DGRAM : SOCK_STREAM
        let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ServerFailure("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            Glibc.close(fd)
            throw ServerFailure("bind 127.0.0.1:\(port): errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = UInt16(bigEndian: address.sin_port)
    }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    deinit { close() }
}
