import Testing

@testable import WardenPolicy

/// The byte-level shortcuts of the MIME reader give what the slower, obvious forms give.
@Suite struct MIMEFastPathTests {
    @Test func whitespaceLengthIsUnicodeWhiteSpace() {
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let bytes = Array(String(Character(scalar)).utf8)
            let length = bytes.withUnsafeBufferPointer { MIMEBodyText.whitespaceLength($0, at: 0) }
            #expect(length == (scalar.properties.isWhitespace ? bytes.count : 0), "U+\(String(value, radix: 16))")
        }
    }

    @Test func collapsingWhitespaceMatchesScalarForm() {
        let pieces = [
            "a", "bc", "\u{0}", " ", "  ", "\t", "\n", "\n\n", "\r\n", " \n \n ", "\u{0B}", "\u{0C}", "\u{85}",
            "\u{A0}", "\u{1680}", "\u{2003}", "\u{200B}", "\u{2019}", "\u{2028}", "\u{202F}", "\u{205F}",
            "\u{3000}", "\u{3001}", "é", "日本",
        ]
        var random = SplitMix(seed: 11)
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<Int.random(in: 0..<12, using: &random) { text += pieces.randomElement(using: &random)! }
            let bytes = MIMEBodyText.collapsingWhitespace(Array(text.utf8))
            #expect(String(decoding: bytes, as: UTF8.self) == Self.collapsed(text), "\(Array(text.unicodeScalars))")
        }
    }

    @Test func linkShortcutMissesNoLink() {
        let pieces = [
            "www", ".", ". ", "ftp", "http", "://", ":", "@", "example", "com", "a", " ", ",", "(", ")", "/", "-",
            "1", "x.y", "\u{1B}(", "mailto", "e.g.", "3.5", "net", "<", ">",
        ]
        var random = SplitMix(seed: 29)
        var checked = 0
        for _ in 0..<20000 {
            var line: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<10, using: &random) { line += pieces.randomElement(using: &random)!.utf8 }
            var seenFast = Set<[UInt8]>()
            var seenFull = Set<[UInt8]>()
            let fast = MIMETextURIScanner.scan(line, seen: &seenFast)
            let full = MIMETextURIScanner.scanEveryPosition(line, seen: &seenFull)
            #expect(fast == full, "\(String(decoding: line, as: UTF8.self))")
            if !MIMETextURIScanner.mayHoldLink(line) { checked += 1 }
        }
        #expect(checked > 1000)
    }

    /// The scalar form the byte form replaced: `s/\n+\s*\n+/\0/gs; s/\s+/ /gs; tr/\0/\n/`.
    static func collapsed(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            guard scalars[index].properties.isWhitespace else {
                output.append(scalars[index] == "\u{0}" ? "\n" : scalars[index])
                index += 1
                continue
            }
            var end = index
            var newlineIndices: [Int] = []
            while end < scalars.count, scalars[end].properties.isWhitespace {
                if scalars[end] == "\n" { newlineIndices.append(end) }
                end += 1
            }
            if newlineIndices.count >= 2 {
                if newlineIndices[0] > index { output.append(" ") }
                output.append("\n")
                if end > newlineIndices[newlineIndices.count - 1] + 1 { output.append(" ") }
            } else {
                output.append(" ")
            }
            index = end
        }
        return String(output)
    }
}
