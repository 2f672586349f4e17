/// Finds which of many literals occur in a text in one pass, so that a rule whose regex
/// requires a literal (``Regex8/requiredLiteral``) runs only when the literal is there: the cost
/// of a scan then grows with the rules that can match, not with the rules loaded.
///
/// Literals are compared ignoring ASCII case (a case-sensitive literal found in another case
/// only lets its regex run, which then decides). Each position of the text costs one probe of
/// an 8 KiB bitmap of hashed three-byte prefixes; only a probe that hits looks further.
struct LiteralScreen: Sendable {
    private static let hashBits = 16
    private var bitmap = [UInt64](repeating: 0, count: (1 << LiteralScreen.hashBits) / 64)
    /// Three-byte prefix (lowercased, packed in 24 bits) to the literals starting with it.
    private var byPrefix: [UInt32: [Int]] = [:]
    private(set) var literals: [[UInt8]] = []

    init(_ literals: [[UInt8]]) {
        for literal in literals {
            precondition(literal.count >= 3, "a screened literal has at least 3 bytes")
            let lowered = literal.map(Self.lower)
            let index = self.literals.count
            self.literals.append(lowered)
            let key = Self.key(lowered[0], lowered[1], lowered[2])
            byPrefix[key, default: []].append(index)
            let slot = Self.hash(key)
            bitmap[slot >> 6] |= 1 << UInt64(slot & 63)
        }
    }

    var isEmpty: Bool { literals.isEmpty }

    /// For each literal, whether it occurs in any of `texts` (a literal never spans two texts).
    func occurrences(in texts: [[UInt8]]) -> [Bool] {
        var found = [Bool](repeating: false, count: literals.count)
        guard !literals.isEmpty else { return found }
        var remaining = literals.count
        for text in texts where text.count >= 3 {
            text.withUnsafeBufferPointer { bytes in bitmap.withUnsafeBufferPointer { bitmap in
                var key = UInt32(Self.lower(bytes[0])) << 8 | UInt32(Self.lower(bytes[1]))
                var position = 2
                while position < bytes.count {
                    key = ((key << 8) | UInt32(Self.lower(bytes[position]))) & 0xFF_FFFF
                    let slot = Self.hash(key)
                    if bitmap[slot >> 6] & (1 << UInt64(slot & 63)) != 0, let candidates = byPrefix[key] {
                        let start = position - 2
                        for index in candidates where !found[index] && Self.matches(literals[index], bytes, at: start) {
                            found[index] = true
                            remaining -= 1
                        }
                        if remaining == 0 { return }
                    }
                    position += 1
                }
            } }
            if remaining == 0 { break }
        }
        return found
    }

    private static func matches(_ literal: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard start + literal.count <= bytes.count else { return false }
        var index = 3
        while index < literal.count {
            if lower(bytes[start + index]) != literal[index] { return false }
            index += 1
        }
        return true
    }

    @inline(__always) private static func key(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt32 {
        UInt32(a) << 16 | UInt32(b) << 8 | UInt32(c)
    }

    @inline(__always) private static func hash(_ key: UInt32) -> Int {
        Int((key &* 2_654_435_761) >> UInt32(32 - hashBits))
    }

    @inline(__always) static func lower(_ byte: UInt8) -> UInt8 {
        byte &- 65 < 26 ? byte | 0x20 : byte
    }
}
