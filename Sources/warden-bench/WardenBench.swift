#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Benchmarks of Warden's parts, run in release: `swift run -c release warden-bench lists`
/// (or `counters`).
/// Each prints plain `name: figure` lines and stops by itself.
@main
enum WardenBench {
    static let usage = """
        usage: warden-bench lists [ENTRIES [LOOKUPS]]
               warden-bench counters [MEMORY_OPS [REDIS_OPS [KEYS]]]
          lists     load an address list of ENTRIES random CIDRs (default 100000) and time
                    LOOKUPS lookups (default 1000000)
          counters  time rate-limit counters: MemoryCounterStore (MEMORY_OPS operations each,
                    default 1000000) and RedisCounterStore (REDIS_OPS, default 20000) against
                    a redis-server started on a free 127.0.0.1 port and stopped afterwards
                    (WARDEN_BENCH_REDIS_SERVER: its path), over KEYS keys (default 10000)
        """

    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "lists":
            let numbers = arguments.dropFirst().map { Int($0) }
            guard numbers.count <= 2, numbers.allSatisfy({ ($0 ?? 0) > 0 }) else { fail() }
            ListsBenchmark(
                entries: numbers.first.flatMap { $0 } ?? 100_000,
                lookups: numbers.dropFirst().first.flatMap { $0 } ?? 1_000_000
            ).run()
        case "counters":
            let numbers = arguments.dropFirst().map { Int($0) }
            guard numbers.count <= 3, numbers.allSatisfy({ ($0 ?? 0) > 0 }) else { fail() }
            let given = numbers.compactMap { $0 }
            await CountersBenchmark(
                memoryOperations: given.first ?? 1_000_000,
                redisOperations: given.count > 1 ? given[1] : 20_000,
                keys: given.count > 2 ? given[2] : 10_000
            ).run()
        default:
            fail()
        }
    }

    static func fail() -> Never {
        let message = Array((usage + "\n").utf8)
        _ = message.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        exit(2)
    }
}
