#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Benchmarks of Warden's parts, run in release: `swift run -c release warden-bench lists`.
/// Each prints plain `name: figure` lines and stops by itself.
@main
enum WardenBench {
    static let usage = """
        usage: warden-bench lists [ENTRIES [LOOKUPS]]
          lists   load an address list of ENTRIES random CIDRs (default 100000) and time
                  LOOKUPS lookups (default 1000000)
        """

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "lists":
            let numbers = arguments.dropFirst().map { Int($0) }
            guard numbers.count <= 2, numbers.allSatisfy({ ($0 ?? 0) > 0 }) else { fail() }
            ListsBenchmark(
                entries: numbers.first.flatMap { $0 } ?? 100_000,
                lookups: numbers.dropFirst().first.flatMap { $0 } ?? 1_000_000
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
