import NIOCore
import Testing

@testable import NIOSMTP

/// The vector search for the first CR or LF gives what a test of every byte gives, around and
/// across its 512-byte windows.
@Suite struct LineEndingSearchTests {
    @Test func findsTheFirstCarriageReturnOrLineFeed() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let count = Int.random(in: 0...1600, using: &generator)
            var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: count)
            for _ in 0..<Int.random(in: 0...3, using: &generator) where count > 0 {
                bytes[Int.random(in: 0..<count, using: &generator)] = Bool.random(using: &generator) ? 0x0D : 0x0A
            }
            let buffer = ByteBuffer(bytes: bytes)
            let start = Int.random(in: 0...count, using: &generator)
            let expected = bytes[start...].firstIndex { $0 == 0x0D || $0 == 0x0A }
            #expect(SMTPFrameDecoder.firstLineEndingOffset(from: start, of: buffer) == expected, "\(count) from \(start)")
        }
    }
}
