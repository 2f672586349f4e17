/// A header field as SpamAssassin stores it: the name as sent and the raw value after the colon,
/// folds and final line feed included.
struct MIMEHeaderField: Sendable {
    var name: [UInt8]
    var rawValue: [UInt8]

    var nameText: String { String(decoding: name, as: UTF8.self) }
    var lowercasedName: String { String(decoding: name.map(MIMEContentType.asciiLowercase), as: UTF8.self) }

    /// Builds a field from its lines: the name up to the first colon and, unless `keepsSpace`,
    /// the value after the whitespace that follows the colon. Nil when there is no colon.
    init?(lines: [MIMELine], in buffer: [UInt8], keepsSpaceAfterColon: Bool) {
        var text: [UInt8] = []
        for line in lines {
            text.append(contentsOf: buffer[line.range])
            if line.hasNewline { text.append(0x0A) }
        }
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        var valueStart = colon + 1
        if !keepsSpaceAfterColon {
            while valueStart < text.count, MIMEContentType.isSpace(text[valueStart]) { valueStart += 1 }
        }
        name = Array(text[..<colon])
        rawValue = Array(text[valueStart...])
    }
}

extension [MIMEHeaderField] {
    /// The decoded value of the last field named `name` (lowercase), as `Node::header` returns
    /// in scalar context; nil when there is none.
    func lastDecoded(_ name: String) -> String? {
        guard let field = last(where: { $0.lowercasedName == name }) else { return nil }
        return MIMEHeaderText.decoded(field.rawValue, name: name)
    }
}
