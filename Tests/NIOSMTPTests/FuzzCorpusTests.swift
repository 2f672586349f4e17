import Foundation
import SMTPFuzzing
import Testing

/// The fuzz target's seed corpus, replayed on every test run: each seed must pass the
/// invariants SMTPFuzzing checks (a broken invariant stops the test process).
@Suite struct FuzzCorpusTests {
    static let seeds: [URL] = {
        guard let directory = Bundle.module.url(forResource: "FuzzCorpus", withExtension: nil) else { return [] }
        return (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil))?.sorted { $0.path < $1.path } ?? []
    }()

    @Test func corpusIsPresent() {
        #expect(Self.seeds.count >= 7)
    }

    @Test(arguments: seeds)
    func seedKeepsTheInvariants(seed: URL) throws {
        let bytes = Array(try Data(contentsOf: seed))
        SMTPFuzzing.run(bytes)
        // Every prefix too: truncated input is what a decoder sees most.
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 16)) {
            SMTPFuzzing.run(Array(bytes.prefix(length)))
        }
    }
}
