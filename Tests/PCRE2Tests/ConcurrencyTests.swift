import Dispatch
import PCRE2
import Synchronization
import Testing

@Suite struct ConcurrencyTests {
    @Test func oneRegexSharedByThreadsWithTheirOwnMatchers() throws {
        let regex = try Regex8(#"\b(?:free|cheap)\s+\w+"#, options: .caseless)
        #expect(regex.isJITCompiled)
        let subjects = (0..<200).map { index in
            [UInt8](String(repeating: "lorem ipsum ", count: index % 17) + (index % 3 == 0 ? "FREE money" : "paid money"))
        }
        let single = RegexMatcher()
        let expected = subjects.map { single.firstMatch(regex, in: $0) }
        let threads = 8
        let results = Mutex<[[RegexMatcher.Outcome]]>([])
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let matcher = RegexMatcher()
            var outcomes: [RegexMatcher.Outcome] = []
            for _ in 0..<50 {
                outcomes = subjects.map { matcher.firstMatch(regex, in: $0) }
            }
            results.withLock { $0.append(outcomes) }
        }
        let collected = results.withLock { $0 }
        #expect(collected.count == threads)
        for outcomes in collected {
            #expect(outcomes == expected)
        }
        #expect(expected.filter { $0 != .noMatch }.count == 67)
    }

    @Test func tasksEachWithAMatcher() async throws {
        let regex = try Regex8("(a+)+$")
        let subject = [UInt8](String(repeating: "a", count: 30) + "b")
        let outcomes = await withTaskGroup(of: RegexMatcher.Outcome.self) { group in
            for _ in 0..<4 {
                group.addTask { RegexMatcher().firstMatch(regex, in: subject) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes == Array(repeating: .limitExceeded, count: 4))
    }
}
