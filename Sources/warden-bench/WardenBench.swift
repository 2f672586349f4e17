#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Benchmarks of Warden's parts, run in release: `swift run -c release warden-bench lists`
/// (or `counters`, `content`).
/// Each prints plain `name: figure` lines and stops by itself.
@main
enum WardenBench {
    static let usage = """
        usage: warden-bench lists [ENTRIES [LOOKUPS]]
               warden-bench counters [MEMORY_OPS [REDIS_OPS [KEYS]]]
               warden-bench content [--rules DIR] [--messages DIR] [--seconds N]
          lists     load an address list of ENTRIES random CIDRs (default 100000) and time
                    LOOKUPS lookups (default 1000000)
          counters  time rate-limit counters: MemoryCounterStore (MEMORY_OPS operations each,
                    default 1000000) and RedisCounterStore (REDIS_OPS, default 20000) against
                    a redis-server started on a free 127.0.0.1 port and stopped afterwards
                    (WARDEN_BENCH_REDIS_SERVER: its path), over KEYS keys (default 10000)
          content   time the content stage on one thread: MIME parsing, a full scan with the rules
                    of DIR (default /usr/share/spamassassin), with one trivial rule, and with
                    100-1600 synthetic rules, over the .eml files of --messages (default
                    Tests/e2e/content/messages) and generated mail; N seconds per case (default 5)
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
        case "content":
            var benchmark = ContentBenchmark()
            var options = arguments.dropFirst()
            while let option = options.popFirst() {
                guard let value = options.popFirst() else { fail() }
                switch option {
                case "--rules": benchmark.rulesDirectory = value
                case "--messages": benchmark.messagesDirectory = value
                case "--seconds":
                    guard let seconds = Double(value), seconds > 0, seconds <= 600 else { fail() }
                    benchmark.seconds = seconds
                default: fail()
                }
            }
            benchmark.run()
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
