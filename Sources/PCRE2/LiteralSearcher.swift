/// Finds a ``Regex8/requiredLiteral`` in a subject with a Boyer-Moore-Horspool scan, over
/// ASCII-folded bytes when the regex is caseless.
struct LiteralSearcher: Sendable {
    /// Folded needle.
    let needle: [UInt8]
    /// Byte to compare as: identity, or ASCII lowercase when caseless.
    let folding: [UInt8]
    /// Horspool shift per subject byte.
    let shifts: [Int]

    init(_ literal: [UInt8], caseless: Bool) {
        precondition(!literal.isEmpty, "an empty required literal says nothing")
        let folding = (0...255).map { UInt8($0) }.map { caseless ? LiteralSearcher.fold($0) : $0 }
        let needle = literal.map { folding[Int($0)] }
        var shifts = [Int](repeating: needle.count, count: 256)
        for byte in 0...255 {
            if let index = needle.dropLast().lastIndex(of: folding[byte]) {
                shifts[byte] = needle.count - 1 - index
            }
        }
        self.needle = needle
        self.folding = folding
        self.shifts = shifts
    }

    static func fold(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }

    func occurs(in subject: UnsafeRawBufferPointer) -> Bool {
        guard let base = subject.baseAddress, subject.count >= needle.count else { return false }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        let count = subject.count
        let last = needle.count - 1
        return needle.withUnsafeBufferPointer { needle in
            folding.withUnsafeBufferPointer { folding in
                shifts.withUnsafeBufferPointer { shifts in
                    let lastByte = needle[last]
                    var position = 0
                    while position + last < count {
                        let tail = bytes[position + last]
                        if folding[Int(tail)] == lastByte {
                            var index = last - 1
                            while index >= 0, folding[Int(bytes[position + index])] == needle[index] {
                                index -= 1
                            }
                            if index < 0 { return true }
                        }
                        position += shifts[Int(tail)]
                    }
                    return false
                }
            }
        }
    }
}
