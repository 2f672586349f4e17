/// A Lua script run with `EVALSHA` (and `EVAL` when the server does not know it yet). The SHA-1
/// is computed here, so the first use needs no `SCRIPT LOAD` round trip.
public struct RedisScript: Sendable, Hashable {
    public let source: String
    /// Lowercase hex SHA-1 of `source`, as `SCRIPT LOAD` returns it.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hex(Array(source.utf8))
    }
}
