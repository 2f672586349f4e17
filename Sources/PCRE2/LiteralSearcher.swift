#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds a ``Regex8/requiredLiteral`` in a subject: `memchr` (vectorised in libc) jumps between
/// occurrences of the literal's rarest byte, in both cases when the regex is caseless, and each
/// candidate is compared in full.
struct LiteralSearcher: Sendable {
    /// ASCII-lowercased when caseless.
    let needle: [UInt8]
    let caseless: Bool
    /// Position in `needle` of the byte `memchr` looks for.
    let anchorIndex: Int
    /// The anchor byte as it may appear in the subject: one byte, or two for a caseless letter.
    let anchors: [UInt8]

    init(_ literal: [UInt8], caseless: Bool) {
        precondition(!literal.isEmpty, "an empty required literal says nothing")
        let needle = caseless ? literal.map(LiteralSearcher.fold) : literal
        let anchorIndex = needle.indices.min { Self.commonness(needle[$0]) < Self.commonness(needle[$1]) }!
        let anchor = needle[anchorIndex]
        self.needle = needle
        self.caseless = caseless
        self.anchorIndex = anchorIndex
        self.anchors = caseless && (0x61...0x7A).contains(anchor) ? [anchor, anchor & ~0x20] : [anchor]
    }

    static func fold(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }

    /// Rough frequency per mille in English mail text; only the order matters.
    static func commonness(_ byte: UInt8) -> Int {
        switch fold(byte) {
        case 0x20: 180
        case UInt8(ascii: "e"): 100
        case UInt8(ascii: "t"): 70
        case UInt8(ascii: "a"), UInt8(ascii: "o"), UInt8(ascii: "i"), UInt8(ascii: "n"): 60
        case UInt8(ascii: "s"), UInt8(ascii: "h"), UInt8(ascii: "r"): 50
        case UInt8(ascii: "d"), UInt8(ascii: "l"): 35
        case UInt8(ascii: "u"), UInt8(ascii: "c"): 25
        case UInt8(ascii: "m"), UInt8(ascii: "w"), UInt8(ascii: "f"), 0x0A, 0x0D: 20
        case UInt8(ascii: "g"), UInt8(ascii: "y"), UInt8(ascii: "p"): 17
        case UInt8(ascii: "b"), UInt8(ascii: "."), UInt8(ascii: ","): 12
        case UInt8(ascii: "v"), UInt8(ascii: "k"): 8
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: ":"): 5
        case UInt8(ascii: "x"), UInt8(ascii: "j"), UInt8(ascii: "q"), UInt8(ascii: "z"): 1
        default: 2
        }
    }

    func occurs(in subject: UnsafeRawBufferPointer) -> Bool {
        guard let base = subject.baseAddress, subject.count >= needle.count else { return false }
        // Where the anchor can sit for the whole literal to fit.
        let end = subject.count - (needle.count - 1 - anchorIndex)
        let lower = anchors[0]
        let upper = anchors.count > 1 ? anchors[1] : nil
        var nextLower = find(lower, base, from: anchorIndex, to: end)
        var nextUpper = upper.flatMap { find($0, base, from: anchorIndex, to: end) }
        return needle.withUnsafeBufferPointer { needle in
            while true {
                let position: Int
                switch (nextLower, nextUpper) {
                case (nil, nil):
                    return false
                case (let found?, nil), (nil, let found?):
                    position = found
                case (let a?, let b?):
                    position = min(a, b)
                }
                if matches(needle, base, at: position - anchorIndex) { return true }
                if nextLower == position { nextLower = find(lower, base, from: position + 1, to: end) }
                if nextUpper == position, let upper { nextUpper = find(upper, base, from: position + 1, to: end) }
            }
        }
    }

    @inline(__always)
    private func find(_ byte: UInt8, _ base: UnsafeRawPointer, from start: Int, to end: Int) -> Int? {
        guard start < end, let found = memchr(base + start, Int32(byte), end - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    @inline(__always)
    private func matches(_ needle: UnsafeBufferPointer<UInt8>, _ base: UnsafeRawPointer, at start: Int) -> Bool {
        let bytes = base.assumingMemoryBound(to: UInt8.self) + start
        if caseless {
            for index in needle.indices where Self.fold(bytes[index]) != needle[index] { return false }
        } else {
            for index in needle.indices where bytes[index] != needle[index] { return false }
        }
        return true
    }
}
