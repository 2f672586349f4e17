import SMTPCore
import Testing

@Suite struct ByteSearchTests {
    /// The memchr search gives what a test of every byte gives, for any range.
    @Test func findsTheFirstByteInARange() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...3, using: &generator) }
            let lower = Int.random(in: 0...bytes.count, using: &generator)
            let upper = Int.random(in: lower...bytes.count, using: &generator)
            let expected = bytes[lower..<upper].firstIndex(of: 2)
            #expect(bytes.withUnsafeBytes { $0.firstOffset(of: 2, in: lower..<upper) } == expected)
        }
    }
}
