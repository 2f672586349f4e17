#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as a value. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are
/// represented as IPv4 so that lists match them as IPv4 (RFC 4291 2.5.5.2).
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(high: UInt64, low: UInt64)

    /// Parses a textual address: dotted quad or RFC 4291 2.2 text, an optional `IPv6:` prefix
    /// (RFC 5321 address literal form) is accepted. Zone indexes are refused.
    public init?(_ text: String) {
        var text = Substring(text)
        if text.utf8.count > 5, text.prefix(5).lowercased() == "ipv6:" { text = text.dropFirst(5) }
        if text.utf8.contains(UInt8(ascii: ":")) {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, String(text), &raw) == 1 else { return nil }
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            self.init(bytes16: bytes)
        } else {
            var raw = in_addr()
            guard inet_pton(AF_INET, String(text), &raw) == 1 else { return nil }
            self = .v4(UInt32(bigEndian: raw.s_addr))
        }
    }

    /// Builds an address from 16 network-order bytes, folding IPv4-mapped addresses to IPv4.
    public init(bytes16 bytes: [UInt8]) {
        precondition(bytes.count == 16, "an IPv6 address has 16 bytes")
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
        for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
        if high == 0, low >> 32 == 0xffff {
            self = .v4(UInt32(truncatingIfNeeded: low))
        } else {
            self = .v6(high: high, low: low)
        }
    }

    public var isIPv4: Bool {
        if case .v4 = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
        case .v6(let high, let low):
            var bytes = [UInt8](repeating: 0, count: 16)
            for index in 0..<8 { bytes[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(index))) }
            for index in 0..<8 { bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(index))) }
            var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = bytes.withUnsafeBytes { raw in
                inet_ntop(AF_INET6, raw.baseAddress, &output, socklen_t(output.count))
            }
            return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
