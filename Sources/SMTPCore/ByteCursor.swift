/// A read position in the bytes of one line, for the recursive-descent parsers.
struct ByteCursor {
    let bytes: [UInt8]
    var index: Int

    init(_ bytes: [UInt8], index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    var isAtEnd: Bool { index >= bytes.endIndex }

    var peek: UInt8? { isAtEnd ? nil : bytes[index] }

    var remaining: ArraySlice<UInt8> { bytes[index...] }

    /// Moves past `byte` if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    /// Moves past `word` (ASCII, any case) if it is next.
    mutating func consume(ignoringCase word: String) -> Bool {
        let end = index + word.utf8.count
        guard end <= bytes.endIndex, ASCII.equalsIgnoringCase(bytes[index..<end], word) else {
            return false
        }
        index = end
        return true
    }

    /// Moves past every byte that satisfies `predicate`; returns the range moved over.
    mutating func consume(while predicate: (UInt8) -> Bool) -> Range<Int> {
        let start = index
        while let byte = peek, predicate(byte) { index += 1 }
        return start..<index
    }
}
