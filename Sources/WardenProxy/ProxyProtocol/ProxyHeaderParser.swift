import NIOCore

/// Reads the PROXY protocol header, version 1 or 2, that a trusted load balancer sends first.
///
/// Version 1 (section 2.1), one line of at most 107 bytes:
///
/// ```
/// proxy-line = "PROXY" SP ( tcp4 / tcp6 / unknown ) CRLF
/// tcp4       = "TCP4" SP ipv4 SP ipv4 SP port SP port     ; source first
/// tcp6       = "TCP6" SP ipv6 SP ipv6 SP port SP port
/// unknown    = "UNKNOWN" *( SP *VCHAR )                   ; the rest is ignored
/// ipv4       = dec-octet 3( "." dec-octet )               ; no leading zeros
/// port       = "0" / %x31-39 0*4DIGIT                     ; at most 65535, no leading zeros
/// ```
///
/// Version 2 (section 2.2), binary: the 12-byte signature `\r\n\r\n\0\r\nQUIT\n`, a version and
/// command byte (`0x20` LOCAL, `0x21` PROXY), a family and transport byte (`0x11` TCP over IPv4,
/// `0x21` TCP over IPv6, `0x00` UNSPEC), a 16-bit length of what follows, the addresses and
/// ports, then TLVs, which are skipped.
public enum ProxyHeaderParser {
    /// The longest v1 line, CRLF included (section 2.1).
    public static let maximumV1Length = 107
    /// The default bound on a whole v2 header: its 16 fixed bytes, addresses and TLVs. The
    /// specification sets none; 4096 takes every TLV a load balancer sends in practice.
    public static let defaultMaximumV2Length = 4096

    static let v1Prefix = Array("PROXY ".utf8)
    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    static let v2FixedLength = 16

    /// Reads one header from the front of `buffer`.
    ///
    /// Returns nil, consuming nothing, when `buffer` holds a valid beginning of a header but not
    /// all of it; returns the header, consuming exactly its bytes, when it is complete; throws
    /// as soon as the bytes cannot begin a header.
    public static func parse(
        _ buffer: inout ByteBuffer,
        maximumV2Length: Int = Self.defaultMaximumV2Length
    ) throws(ProxyHeaderError) -> ProxyHeader? {
        guard let first = buffer.readableBytesView.first else { return nil }
        switch first {
        case Self.v1Prefix[0]:
            return try Self.parseV1(&buffer)
        case Self.v2Signature[0]:
            return try Self.parseV2(&buffer, maximumLength: maximumV2Length)
        default:
            throw ProxyHeaderError(.notProxyProtocol, "no PROXY signature")
        }
    }

    // MARK: Version 1

    private static func parseV1(_ buffer: inout ByteBuffer) throws(ProxyHeaderError) -> ProxyHeader? {
        let view = buffer.readableBytesView
        guard view.starts(with: Self.v1Prefix.prefix(view.count)) else {
            throw ProxyHeaderError(.notProxyProtocol, "no PROXY signature")
        }
        let window = view.prefix(Self.maximumV1Length)
        guard let newline = window.firstIndex(of: UInt8(ascii: "\n")) else {
            if window.count >= Self.maximumV1Length {
                throw ProxyHeaderError(.tooLong, "v1 line longer than \(Self.maximumV1Length) bytes")
            }
            return nil
        }
        let lineEnd = newline - view.startIndex
        guard lineEnd > 0, window[newline - 1] == UInt8(ascii: "\r") else {
            throw ProxyHeaderError(.malformed, "v1 line not ended by CRLF")
        }
        let line = Array(window[view.startIndex..<newline - 1])
        let header = try Self.parseV1Fields(line)
        buffer.moveReaderIndex(forwardBy: lineEnd + 1)
        return header
    }

    private static func parseV1Fields(_ line: [UInt8]) throws(ProxyHeaderError) -> ProxyHeader {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard fields.count >= 2 else {
            throw ProxyHeaderError(.malformed, "v1 line without protocol")
        }
        let proto = String(decoding: fields[1], as: UTF8.self)
        if proto == "UNKNOWN" {
            return .unknown
        }
        guard proto == "TCP4" || proto == "TCP6" else {
            throw ProxyHeaderError(.malformed, "v1 protocol is neither TCP4, TCP6 nor UNKNOWN")
        }
        guard fields.count == 6 else {
            throw ProxyHeaderError(.malformed, "v1 \(proto) line needs exactly four fields after it")
        }
        let parseAddress = proto == "TCP4" ? Self.parseV1IPv4 : Self.parseV1IPv6
        return ProxyHeader(
            sourceAddress: try parseAddress(fields[2]),
            sourcePort: try Self.parseV1Port(fields[4]),
            destinationAddress: try parseAddress(fields[3]),
            destinationPort: try Self.parseV1Port(fields[5])
        )
    }

    private static func parseV1IPv4(_ text: ArraySlice<UInt8>) throws(ProxyHeaderError) -> String {
        let octets = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard octets.count == 4 else {
            throw ProxyHeaderError(.malformed, "v1 IPv4 address without four octets")
        }
        for octet in octets {
            guard let value = Self.decimal(octet, maxDigits: 3), value <= 255 else {
                throw ProxyHeaderError(.malformed, "v1 IPv4 octet out of syntax or range")
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func parseV1IPv6(_ text: ArraySlice<UInt8>) throws(ProxyHeaderError) -> String {
        // Only hex digits, colons and dots: no zone ("%eth0"), which the resolver would accept.
        let allowed = text.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: ":"), UInt8(ascii: "."):
                return true
            default:
                return false
            }
        }
        guard allowed, text.count <= 45,
            case .v6(let address)? = try? SocketAddress(ipAddress: String(decoding: text, as: UTF8.self), port: 0),
            let canonical = SocketAddress.v6(address).ipAddress
        else {
            throw ProxyHeaderError(.malformed, "v1 IPv6 address out of syntax")
        }
        return canonical
    }

    private static func parseV1Port(_ text: ArraySlice<UInt8>) throws(ProxyHeaderError) -> Int {
        guard let port = Self.decimal(text, maxDigits: 5), port <= 65535 else {
            throw ProxyHeaderError(.malformed, "v1 port out of syntax or range")
        }
        return port
    }

    /// A decimal number of 1 to `maxDigits` digits without a leading zero, or nil.
    private static func decimal(_ digits: ArraySlice<UInt8>, maxDigits: Int) -> Int? {
        guard (1...maxDigits).contains(digits.count), digits.count == 1 || digits.first != UInt8(ascii: "0") else {
            return nil
        }
        var value = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return value
    }

    // MARK: Version 2

    private static func parseV2(_ buffer: inout ByteBuffer, maximumLength: Int) throws(ProxyHeaderError) -> ProxyHeader? {
        let view = buffer.readableBytesView
        guard view.starts(with: Self.v2Signature.prefix(view.count)) else {
            throw ProxyHeaderError(.notProxyProtocol, "no PROXY signature")
        }
        let start = buffer.readerIndex
        guard let versionCommand = buffer.getInteger(at: start + 12, as: UInt8.self) else { return nil }
        guard versionCommand >> 4 == 2 else {
            throw ProxyHeaderError(.malformed, "v2 header with version \(versionCommand >> 4)")
        }
        let isLocal: Bool
        switch versionCommand & 0x0F {
        case 0: isLocal = true
        case 1: isLocal = false
        default: throw ProxyHeaderError(.malformed, "v2 header with command \(versionCommand & 0x0F)")
        }
        guard let familyTransport = buffer.getInteger(at: start + 13, as: UInt8.self),
            let length = buffer.getInteger(at: start + 14, as: UInt16.self)
        else { return nil }
        let total = Self.v2FixedLength + Int(length)
        guard total <= maximumLength else {
            throw ProxyHeaderError(.tooLong, "v2 header of \(total) bytes, limit \(maximumLength)")
        }
        guard buffer.readableBytes >= total else { return nil }

        let header: ProxyHeader
        if isLocal {
            header = .unknown  // A health check from the load balancer itself (section 2.2).
        } else {
            header = try Self.v2Addresses(buffer, familyTransport: familyTransport, length: Int(length))
        }
        buffer.moveReaderIndex(forwardBy: total)
        return header
    }

    private static func v2Addresses(
        _ buffer: ByteBuffer, familyTransport: UInt8, length: Int
    ) throws(ProxyHeaderError) -> ProxyHeader {
        let addressLength: Int
        switch familyTransport >> 4 {
        case 0: return .unknown  // UNSPEC: use the connection's own addresses.
        case 1: addressLength = 4
        case 2: addressLength = 16
        case 3: throw ProxyHeaderError(.unsupported, "v2 header for a Unix socket")
        default: throw ProxyHeaderError(.malformed, "v2 header with family \(familyTransport >> 4)")
        }
        switch familyTransport & 0x0F {
        case 1: break
        case 2: throw ProxyHeaderError(.unsupported, "v2 header for a datagram transport")
        default: throw ProxyHeaderError(.malformed, "v2 header with transport \(familyTransport & 0x0F)")
        }
        guard length >= 2 * addressLength + 4 else {
            throw ProxyHeaderError(.malformed, "v2 address block of \(length) bytes is too short")
        }
        let base = buffer.readerIndex + Self.v2FixedLength
        let ports = base + 2 * addressLength
        guard let source = buffer.getSlice(at: base, length: addressLength),
            let destination = buffer.getSlice(at: base + addressLength, length: addressLength),
            let sourcePort = buffer.getInteger(at: ports, as: UInt16.self),
            let destinationPort = buffer.getInteger(at: ports + 2, as: UInt16.self),
            let sourceText = try? SocketAddress(packedIPAddress: source, port: 0).ipAddress,
            let destinationText = try? SocketAddress(packedIPAddress: destination, port: 0).ipAddress
        else {
            throw ProxyHeaderError(.malformed, "v2 address block unreadable")
        }
        return ProxyHeader(
            sourceAddress: sourceText,
            sourcePort: Int(sourcePort),
            destinationAddress: destinationText,
            destinationPort: Int(destinationPort)
        )
    }
}
