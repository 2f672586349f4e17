import NIOCore

/// Writes the PROXY protocol header Warden sends first on an upstream connection, where the
/// operator configured one instead of `XCLIENT` (DESIGN 1.7), so the upstream sees the real client.
///
/// When one address is IPv4 and the other IPv6, the IPv4 one is written in its IPv4-mapped IPv6
/// form (`::ffff:192.0.2.1`), since a header has one family. When either is a Unix socket
/// address, the header carries no addresses (v1 `UNKNOWN`, v2 `UNSPEC`), and the
/// upstream uses the connection's own.
public enum ProxyHeaderEncoder {
    /// `PROXY TCP4 203.0.113.7 192.0.2.25 51234 25\r\n` (section 2.1).
    public static func encodeV1(source: SocketAddress, destination: SocketAddress) -> ByteBuffer {
        guard let (family, src, dst) = Self.packedPair(source, destination),
            let srcText = Self.text(src), let dstText = Self.text(dst)
        else {
            return ByteBuffer(string: "PROXY UNKNOWN\r\n")
        }
        let proto = family == .v4 ? "TCP4" : "TCP6"
        return ByteBuffer(string: "PROXY \(proto) \(srcText) \(dstText) \(src.port) \(dst.port)\r\n")
    }

    /// The binary header, command PROXY, over TCP (section 2.2); no TLVs.
    public static func encodeV2(source: SocketAddress, destination: SocketAddress) -> ByteBuffer {
        guard let (family, src, dst) = Self.packedPair(source, destination) else {
            return Self.v2(command: 0x21, familyTransport: 0x00, body: [])
        }
        let body = src.bytes + dst.bytes + Self.bigEndian(src.port) + Self.bigEndian(dst.port)
        return Self.v2(command: 0x21, familyTransport: family == .v4 ? 0x11 : 0x21, body: body)
    }

    /// The binary header with command LOCAL: a connection of Warden's own (a health check) that
    /// the upstream should take as coming from Warden.
    public static func encodeV2Local() -> ByteBuffer {
        Self.v2(command: 0x20, familyTransport: 0x00, body: [])
    }

    private enum Family { case v4, v6 }

    private struct Packed {
        var bytes: [UInt8]
        var port: Int
    }

    private static func v2(command: UInt8, familyTransport: UInt8, body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(ProxyHeaderParser.v2FixedLength + body.count)
        buffer.writeBytes(ProxyHeaderParser.v2Signature)
        buffer.writeInteger(command)
        buffer.writeInteger(familyTransport)
        buffer.writeInteger(UInt16(body.count))
        buffer.writeBytes(body)
        return buffer
    }

    private static func bigEndian(_ port: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: port >> 8), UInt8(truncatingIfNeeded: port)]
    }

    private static func packed(_ address: SocketAddress) -> Packed? {
        switch address {
        case .v4(let v4):
            return Packed(bytes: withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }, port: address.port ?? 0)
        case .v6(let v6):
            return Packed(bytes: withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }, port: address.port ?? 0)
        case .unixDomainSocket:
            return nil
        }
    }

    /// Both addresses in one family, IPv4 mapped into IPv6 when the two differ.
    private static func packedPair(_ a: SocketAddress, _ b: SocketAddress) -> (Family, Packed, Packed)? {
        guard var first = Self.packed(a), var second = Self.packed(b) else { return nil }
        if first.bytes.count == second.bytes.count {
            return (first.bytes.count == 4 ? .v4 : .v6, first, second)
        }
        let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]
        if first.bytes.count == 4 { first.bytes = mappedPrefix + first.bytes }
        if second.bytes.count == 4 { second.bytes = mappedPrefix + second.bytes }
        return (.v6, first, second)
    }

    private static func text(_ packed: Packed) -> String? {
        try? SocketAddress(packedIPAddress: ByteBuffer(bytes: packed.bytes), port: 0).ipAddress
    }
}
