/// Why a RESP stream was refused. After one, the decoder is poisoned: every later call throws
/// the same error, because the stream cannot be resynchronised.
public struct RESPDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// A type byte other than `+ - : $ *`.
        case unknownType
        /// A line longer than `maximumLineLength` without CRLF.
        case lineTooLong
        /// A length or integer that is not a decimal number, or a bulk not ended by CRLF.
        case malformed
        /// A bulk string longer than `maximumBulkLength`.
        case bulkTooLong
        /// An array with more than `maximumArrayCount` elements.
        case arrayTooLong
        /// Arrays nested deeper than `maximumDepth`.
        case nestedTooDeep
    }

    public let code: Code
    private let detail: String

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "RESP \(code): \(detail)" }
}
