/// One RESP2 value, as Redis sends it (https://redis.io/docs/latest/develop/reference/protocol-spec/).
///
/// ```
/// C: *1\r\n$4\r\nPING\r\n
/// S: +PONG\r\n                      .simple("PONG")
/// S: -ERR unknown command\r\n       .error("ERR unknown command")
/// S: :42\r\n                        .integer(42)
/// S: $3\r\nabc\r\n  /  $-1\r\n      .bulk(Array("abc".utf8))  /  .bulk(nil)
/// S: *2\r\n:1\r\n:2\r\n  /  *-1\r\n .array([.integer(1), .integer(2)])  /  .array(nil)
/// ```
public enum RESPValue: Sendable, Hashable {
    case simple(String)
    case error(String)
    case integer(Int)
    case bulk([UInt8]?)
    case array([RESPValue]?)
}

extension RESPValue {
    /// The text of a simple string or a bulk string (decoded as UTF-8, invalid bytes replaced).
    public var string: String? {
        switch self {
        case .simple(let text): return text
        case .bulk(let bytes?): return String(decoding: bytes, as: UTF8.self)
        case .error, .integer, .bulk(nil), .array: return nil
        }
    }

    /// An integer reply, or a simple or bulk string that holds a decimal integer (what `GET` of a
    /// counter returns).
    public var integer: Int? {
        switch self {
        case .integer(let value): return value
        case .simple, .bulk(.some): return string.flatMap { Int($0) }
        case .error, .bulk(nil), .array: return nil
        }
    }

    /// The elements of a non-null array.
    public var elements: [RESPValue]? {
        if case .array(let elements?) = self { return elements }
        return nil
    }

    /// True for `$-1` and `*-1` (a missing key, a timed out blocking command).
    public var isNull: Bool {
        switch self {
        case .bulk(nil), .array(nil): return true
        case .simple, .error, .integer, .bulk(.some), .array(.some): return false
        }
    }
}
