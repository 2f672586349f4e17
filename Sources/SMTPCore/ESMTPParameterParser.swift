/// Reads the parameters after a MAIL or RCPT path,
/// [RFC 5321 section 4.1.2](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.2) with the
/// UTF-8 values of [RFC 6531 section 3.3](https://www.rfc-editor.org/rfc/rfc6531#section-3.3):
///
///     Mail-parameters  = esmtp-param *(SP esmtp-param)
///     Rcpt-parameters  = esmtp-param *(SP esmtp-param)
///     esmtp-param    = esmtp-keyword ["=" esmtp-value]
///     esmtp-keyword  = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
///     esmtp-value    = 1*(%d33-60 / %d62-126)
///     esmtp-value    =/ UTF8-non-ascii        ; RFC 6531
///
/// Like Postfix it takes several spaces where the RFC has one. Keywords are uppercased; a
/// keyword given twice is an error (RFC 1869 6 leaves it undefined, and no extension repeats).
enum ESMTPParameterParser {
    enum Failure: Error {
        case syntax
        case duplicate
    }

    /// `text` is everything after the path; it is empty or starts with a space.
    static func parse(_ text: ArraySlice<UInt8>) throws(Failure) -> [ESMTPParameter] {
        var cursor = ByteCursor(Array(text))
        var parameters: [ESMTPParameter] = []
        while !cursor.isAtEnd {
            guard !cursor.consume(while: { $0 == ASCII.space }).isEmpty else { throw .syntax }
            if cursor.isAtEnd { break }
            let parameter = try parseParameter(&cursor)
            guard !parameters.contains(where: { $0.keyword == parameter.keyword }) else {
                throw .duplicate
            }
            parameters.append(parameter)
        }
        return parameters
    }

    private static func parseParameter(_ cursor: inout ByteCursor) throws(Failure) -> ESMTPParameter {
        guard let first = cursor.peek, ASCII.isLetDig(first) else { throw .syntax }
        let keyword = cursor.consume { ASCII.isLetDig($0) || $0 == UInt8(ascii: "-") }
        var value: String?
        if cursor.consume(UInt8(ascii: "=")) {
            let range = cursor.consume(while: isValueByte)
            guard !range.isEmpty, let text = ASCII.string(cursor.bytes[range]) else {
                throw .syntax
            }
            value = text
        }
        guard cursor.isAtEnd || cursor.peek == ASCII.space else { throw .syntax }
        return ESMTPParameter(String(decoding: cursor.bytes[keyword], as: UTF8.self), value)
    }

    private static func isValueByte(_ byte: UInt8) -> Bool {
        (33...60).contains(byte) || (62...126).contains(byte) || ASCII.isNonASCII(byte)
    }
}
