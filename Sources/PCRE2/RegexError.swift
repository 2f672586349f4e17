import CPCRE2

/// A pattern that does not compile, or a Perl regex literal that does not parse.
///
/// `message` is PCRE2's own text (`pcre2_get_error_message`) for compile errors, so rule authors
/// see the wording of the PCRE2 documentation. `offset` is a UTF-8 byte offset into `pattern`.
public struct RegexError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text that failed: the pattern, or the whole literal when the literal itself is malformed.
    public var pattern: String
    /// UTF-8 byte offset into `pattern` where the problem was found, when known.
    public var offset: Int?
    public var message: String

    public init(pattern: String, offset: Int?, message: String) {
        self.pattern = pattern
        self.offset = offset
        self.message = message
    }

    public var description: String {
        if let offset {
            return "regex \(pattern.debugDescription): \(message) at offset \(offset)"
        }
        return "regex \(pattern.debugDescription): \(message)"
    }

    /// PCRE2's message for an error code (compile errors, and the codes of
    /// ``RegexMatcher/Outcome/error(_:)``).
    public static func message(forCode code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer {
            pcre2_get_error_message_8(code, $0.baseAddress, $0.count)
        }
        guard length > 0 else { return "unknown PCRE2 error \(code)" }
        return String(decoding: buffer[..<Int(length)], as: UTF8.self)
    }
}
