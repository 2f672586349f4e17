import Foundation
import PCRE2
import WardenPolicy

// MARK: Measuring

struct Run {
    var messages = 0
    var bytes = 0
    var seconds = 0.0

    var microsecondsPerMessage: Double { seconds * 1e6 / Double(max(messages, 1)) }
    var messagesPerSecond: Double { Double(messages) / seconds }
    var megabytesPerSecond: Double { Double(bytes) / 1e6 / seconds }
}

struct CaseResult {
    var runs: [Run]

    var median: Run { runs.sorted { $0.microsecondsPerMessage < $1.microsecondsPerMessage }[runs.count / 2] }

    static func measure(_ messages: [[UInt8]], seconds: Double, _ work: ([UInt8]) -> Int) -> CaseResult {
        measure(count: messages.count, bytes: messages.reduce(0) { $0 + $1.count }, seconds: seconds) { work(messages[$0]) }
    }

    /// Three runs of `seconds / 3` each, after one warm-up pass. A run calls `work` for every
    /// message position in turn (`bytes`: their total size) and stops after the pass during
    /// which its time ran out.
    static func measure(count: Int, bytes: Int, seconds: Double, _ work: (Int) -> Int) -> CaseResult {
        var checksum = 0
        for position in 0..<count { checksum &+= work(position) }
        let clock = ContinuousClock()
        let budget = Duration.nanoseconds(Int64(seconds / 3 * 1e9))
        var runs: [Run] = []
        for _ in 0..<3 {
            var run = Run()
            let start = clock.now
            repeat {
                for position in 0..<count { checksum &+= work(position) }
                run.messages += count
                run.bytes += bytes
            } while clock.now - start < budget
            run.seconds = ContentBenchmark.seconds(clock.now - start)
            runs.append(run)
        }
        if checksum == Int.min { print("") }
        return CaseResult(runs: runs)
    }

    func line(_ label: String) -> String {
        let figures = runs.map { ContentBenchmark.format($0.microsecondsPerMessage, 1) }.joined(separator: " / ")
        let cells = [
            label, ContentBenchmark.format(median.messagesPerSecond, 0) + " msg/s", ContentBenchmark.format(median.megabytesPerSecond, 1) + " MB/s",
            ContentBenchmark.format(median.microsecondsPerMessage, 1) + " us/msg",
        ]
        return ContentBenchmark.padded(cells, [84, 12, 11, 14]) + "   (runs: \(figures) us)"
    }
}

// MARK: Synthetic rules

enum SyntheticLiterals {
    /// Starts of common English words, so the screen's 3-byte prefixes are as busy as with real
    /// rules; then rare letters, so the literal never occurs.
    static let stems = [
        "the", "for", "and", "pro", "con", "inf", "com", "ser", "acc", "off", "new", "sta", "pre", "rep", "int", "man", "sal",
        "mar", "bus", "dis", "res", "per", "sup", "tra", "inv", "ord", "pay", "cli", "opp", "upd", "you", "wit", "fre", "cas",
    ]
    static let tailLetters = Array("bcdfghjkmnpqvwxz".utf8)

    /// `count` distinct lowercase literals of 8-10 bytes, none in `avoiding` (lowercased messages).
    static func make(count: Int, avoiding texts: inout [[UInt8]], random: inout SplitMix64) -> [String] {
        var result: [String] = []
        var seen = Set<String>()
        while result.count < count {
            let stem = stems[Int(random.next() % UInt64(stems.count))]
            let tailLength = 5 + Int(random.next() % 3)
            let tail = (0..<tailLength).map { _ in tailLetters[Int(random.next() % UInt64(tailLetters.count))] }
            let literal = stem + String(decoding: tail, as: UTF8.self)
            guard !seen.contains(literal), !occurs(Array(literal.utf8), in: texts) else { continue }
            seen.insert(literal)
            result.append(literal)
        }
        return result
    }

    /// Whether `needle` occurs in one of `texts`: `memchr` to its first byte, then a comparison.
    private static func occurs(_ needle: [UInt8], in texts: [[UInt8]]) -> Bool {
        texts.contains { text in
            text.withUnsafeBufferPointer { haystack in
                guard let base = haystack.baseAddress, haystack.count >= needle.count else { return false }
                var position = 0
                let last = haystack.count - needle.count
                while position <= last {
                    guard let found = memchr(base + position, Int32(needle[0]), last - position + 1) else { return false }
                    let start = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if needle.indices.allSatisfy({ haystack[start + $0] == needle[$0] }) { return true }
                    position = start + 1
                }
                return false
            }
        }
    }

    /// Body rules shaped like SpamAssassin's phrase rules. Screened: the literal is required.
    /// Unscreened: the same words in an alternation, which has no single required literal, so
    /// every rule runs on every message, as all would without the screen.
    static func rules(_ literals: ArraySlice<String>, screened: Bool) -> [String] {
        literals.enumerated().map { index, literal in
            let number = String(format: "%04d", index)
            if screened {
                return "body WB_S\(number) /\\b\(literal)(?:s|ed|ing)?\\b/i\nscore WB_S\(number) 0.5"
            }
            let reversed = String(literal.reversed())
            return "body WB_U\(number) /\\b(?:\(literal)|\(reversed))(?:s|ed|ing)?\\b/i\nscore WB_U\(number) 0.5"
        }
    }
}
