import Testing

@testable import WardenProxy

@Suite struct SessionIDTests {
    /// Consecutive sessions never share an identifier: the scrambling is one to one.
    @Test func consecutiveSessionsGetDistinctIdentifiers() {
        var seen = Set<UInt64>()
        let start: UInt64 = 0xff_ffff_0000  // across the 40-bit wrap as well
        for offset in 0..<200_000 as Range<UInt64> {
            #expect(seen.insert(SessionID.scrambled(start &+ offset)).inserted)
        }
        let ids = (0..<1000).map { _ in SessionID.make() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.utf8.count == 10 && $0.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) } })
    }
}
