import NIOCore

/// Cuts a RESP2 byte stream into values. A plain struct with no I/O: feed it bytes with `append`
/// as they arrive (any split, down to one byte at a time), then call `next()` until it returns
/// nil. Arrays are assembled on an explicit stack, so a reply split across reads is never parsed
/// twice, and every size a server could inflate is bounded by `Limits`.
///
/// ```
/// simple  = "+" text CRLF          error = "-" text CRLF
/// integer = ":" ["-"] 1*DIGIT CRLF
/// bulk    = "$" ("-1" / 1*DIGIT CRLF *OCTET) CRLF
/// array   = "*" ("-1" / 1*DIGIT) CRLF *value
/// ```
public struct RESPDecoder {
    /// Bounds on what one reply may hold; replies to Warden's commands are a few bytes.
    public struct Limits: Sendable, Hashable {
        /// Redis's own default `proto-max-bulk-len` is 512 MB; Warden never stores anything big.
        public static let defaultMaximumBulkLength = 64 * 1024 * 1024
        public static let defaultMaximumArrayCount = 1024 * 1024
        public static let defaultMaximumDepth = 32
        /// Simple strings, errors, integers and length headers.
        public static let defaultMaximumLineLength = 64 * 1024

        public var maximumBulkLength: Int
        public var maximumArrayCount: Int
        public var maximumDepth: Int
        public var maximumLineLength: Int

        public init(
            maximumBulkLength: Int = Self.defaultMaximumBulkLength,
            maximumArrayCount: Int = Self.defaultMaximumArrayCount,
            maximumDepth: Int = Self.defaultMaximumDepth,
            maximumLineLength: Int = Self.defaultMaximumLineLength
        ) {
            self.maximumBulkLength = maximumBulkLength
            self.maximumArrayCount = maximumArrayCount
            self.maximumDepth = maximumDepth
            self.maximumLineLength = maximumLineLength
        }
    }

    private struct Frame {
        var remaining: Int
        var elements: [RESPValue]
    }

    private enum Token {
        case value(RESPValue)
        case arrayStart(count: Int)
    }

    public let limits: Limits
    private var buffer: ByteBuffer
    private var stack: [Frame] = []
    /// Bytes after the reader index already searched for CRLF (so a long line that arrives one
    /// byte at a time is scanned once, not once per byte).
    private var scannedWithoutLineEnd = 0
    private var failure: RESPDecodeError?

    public init(limits: Limits = Limits()) {
        self.limits = limits
        self.buffer = ByteBufferAllocator().buffer(capacity: 256)
    }

    /// Bytes received and not yet turned into a complete top-level value's last token.
    public var bufferedByteCount: Int { buffer.readableBytes }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.writeBytes(bytes)
    }

    public mutating func append(_ incoming: inout ByteBuffer) {
        buffer.writeBuffer(&incoming)
    }

    /// The next complete top-level value, or nil when more bytes are needed.
    public mutating func next() throws(RESPDecodeError) -> RESPValue? {
        if let failure { throw failure }
        do throws(RESPDecodeError) {
            while let token = try readToken() {
                var value: RESPValue
                switch token {
                case .arrayStart(let count):
                    guard stack.count < limits.maximumDepth else {
                        throw RESPDecodeError(.nestedTooDeep, "more than \(limits.maximumDepth) nested arrays")
                    }
                    stack.append(Frame(remaining: count, elements: []))
                    stack[stack.count - 1].elements.reserveCapacity(min(count, 1024))
                    continue
                case .value(let complete):
                    value = complete
                }
                while !stack.isEmpty {
                    stack[stack.count - 1].elements.append(value)
                    stack[stack.count - 1].remaining -= 1
                    guard stack[stack.count - 1].remaining == 0 else { break }
                    value = .array(stack.removeLast().elements)
                }
                if stack.isEmpty {
                    compact()
                    return value
                }
            }
            compact()
            return nil
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func readToken() throws(RESPDecodeError) -> Token? {
        guard let lineLength = try findLineEnd() else { return nil }
        let start = buffer.readerIndex
        let type = buffer.getInteger(at: start, as: UInt8.self)!
        let content = buffer.getBytes(at: start + 1, length: lineLength - 1)!
        switch type {
        case UInt8(ascii: "+"):
            consume(lineLength + 2)
            return .value(.simple(String(decoding: content, as: UTF8.self)))
        case UInt8(ascii: "-"):
            consume(lineLength + 2)
            return .value(.error(String(decoding: content, as: UTF8.self)))
        case UInt8(ascii: ":"):
            guard let number = Self.parseInteger(content) else {
                throw RESPDecodeError(.malformed, "integer \(Self.show(content))")
            }
            consume(lineLength + 2)
            return .value(.integer(number))
        case UInt8(ascii: "$"):
            guard let length = Self.parseInteger(content), length >= -1 else {
                throw RESPDecodeError(.malformed, "bulk length \(Self.show(content))")
            }
            if length == -1 {
                consume(lineLength + 2)
                return .value(.bulk(nil))
            }
            guard length <= limits.maximumBulkLength else {
                throw RESPDecodeError(.bulkTooLong, "bulk of \(length) bytes, limit \(limits.maximumBulkLength)")
            }
            let dataStart = start + lineLength + 2
            guard buffer.readableBytes >= lineLength + 2 + length + 2 else { return nil }
            guard buffer.getInteger(at: dataStart + length, as: UInt16.self) == Self.crlf else {
                throw RESPDecodeError(.malformed, "bulk of \(length) bytes not followed by CRLF")
            }
            let bytes = buffer.getBytes(at: dataStart, length: length)!
            consume(lineLength + 2 + length + 2)
            return .value(.bulk(bytes))
        case UInt8(ascii: "*"):
            guard let count = Self.parseInteger(content), count >= -1 else {
                throw RESPDecodeError(.malformed, "array count \(Self.show(content))")
            }
            guard count <= limits.maximumArrayCount else {
                throw RESPDecodeError(.arrayTooLong, "array of \(count), limit \(limits.maximumArrayCount)")
            }
            consume(lineLength + 2)
            switch count {
            case -1: return .value(.array(nil))
            case 0: return .value(.array([]))
            default: return .arrayStart(count: count)
            }
        default:
            throw RESPDecodeError(.unknownType, "type byte \(type)")
        }
    }

    private static let crlf = UInt16(0x0D0A)

    /// The length of the line at the reader index (type byte included, CRLF excluded), or nil
    /// when its CRLF has not arrived yet.
    private mutating func findLineEnd() throws(RESPDecodeError) -> Int? {
        let from = max(0, scannedWithoutLineEnd - 1)
        let found: Int? = buffer.withUnsafeReadableBytes { bytes in
            var index = from
            while index + 1 < bytes.count {
                if bytes[index] == 0x0D && bytes[index + 1] == 0x0A { return index }
                index += 1
            }
            return nil
        }
        if let found {
            guard found > 0 else { throw RESPDecodeError(.malformed, "empty line") }
            return found
        }
        scannedWithoutLineEnd = buffer.readableBytes
        if scannedWithoutLineEnd > limits.maximumLineLength + 1 {
            throw RESPDecodeError(.lineTooLong, "no CRLF in \(scannedWithoutLineEnd) bytes")
        }
        return nil
    }

    private mutating func consume(_ count: Int) {
        buffer.moveReaderIndex(forwardBy: count)
        scannedWithoutLineEnd = 0
    }

    private mutating func compact() {
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex >= 64 * 1024 {
            buffer.discardReadBytes()
        }
    }

    /// Strict decimal: optional minus, at least one digit, nothing else, no overflow.
    static func parseInteger(_ bytes: [UInt8]) -> Int? {
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 19 else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (added, overflowB) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflowA, !overflowB else { return nil }
            value = added
        }
        return negative ? -value : value
    }

    private static func show(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(40), as: UTF8.self).debugDescription
    }
}
