import NIOCore
import Testing

@testable import WardenProxy

private let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

struct ProxyFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var testDescription: String { self.name }

    init(_ name: String, _ text: String) {
        self.name = name
        self.bytes = Array(text.utf8)
    }

    init(_ name: String, v2 bytes: [UInt8]) {
        self.name = name
        self.bytes = signature + bytes
    }
}

private let ipv4Header = ProxyHeader(
    sourceAddress: "192.0.2.1", sourcePort: 51253, destinationAddress: "198.51.100.7", destinationPort: 25
)

private let valid: [(ProxyFixture, ProxyHeader)] = [
    (ProxyFixture("v1 TCP4", "PROXY TCP4 192.0.2.1 198.51.100.7 51253 25\r\n"), ipv4Header),
    (
        ProxyFixture("v1 TCP6, non-canonical", "PROXY TCP6 2001:0DB8:0000::0001 ::ffff:192.0.2.2 0 65535\r\n"),
        ProxyHeader(sourceAddress: "2001:db8::1", sourcePort: 0, destinationAddress: "::ffff:192.0.2.2", destinationPort: 65535)
    ),
    (ProxyFixture("v1 UNKNOWN", "PROXY UNKNOWN\r\n"), .unknown),
    (
        ProxyFixture(
            "v1 UNKNOWN at the 107-byte limit",
            "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
        ), .unknown
    ),
    (
        ProxyFixture("v2 PROXY TCP4", v2: [0x21, 0x11, 0x00, 0x0C, 192, 0, 2, 1, 198, 51, 100, 7, 0xC8, 0x35, 0x00, 0x19]),
        ipv4Header
    ),
    (
        ProxyFixture(
            "v2 PROXY TCP6",
            v2: [0x21, 0x21, 0x00, 0x24, 0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [1]
                + Array(repeating: 0, count: 15) + [1] + [0x01, 0xBB, 0x00, 0x19]
        ),
        ProxyHeader(sourceAddress: "2001:db8::1", sourcePort: 443, destinationAddress: "::1", destinationPort: 25)
    ),
    (
        ProxyFixture(
            "v2 PROXY TCP4 with TLVs",
            v2: [0x21, 0x11, 0x00, 0x14, 192, 0, 2, 1, 198, 51, 100, 7, 0xC8, 0x35, 0x00, 0x19]
                + [0x01, 0x00, 0x02, 0x68, 0x32, 0x04, 0x00, 0x00]
        ),
        ipv4Header
    ),
    (ProxyFixture("v2 LOCAL", v2: [0x20, 0x00, 0x00, 0x00]), .unknown),
    (ProxyFixture("v2 LOCAL with addresses", v2: [0x20, 0x11, 0x00, 0x0C] + Array(repeating: 9, count: 12)), .unknown),
    (ProxyFixture("v2 PROXY UNSPEC", v2: [0x21, 0x00, 0x00, 0x00]), .unknown),
]

private let malformed: [(ProxyFixture, ProxyHeaderError.Code)] = [
    (ProxyFixture("SMTP instead", "EHLO client.example\r\n"), .notProxyProtocol),
    (ProxyFixture("PROXY without space", "PROXY\r\n"), .notProxyProtocol),
    (ProxyFixture("lower case", "proxy TCP4 192.0.2.1 198.51.100.7 1 2\r\n"), .notProxyProtocol),
    (ProxyFixture("TCP5", "PROXY TCP5 192.0.2.1 198.51.100.7 1 2\r\n"), .malformed),
    (ProxyFixture("bare LF", "PROXY TCP4 192.0.2.1 198.51.100.7 1 2\n"), .malformed),
    (ProxyFixture("double space", "PROXY TCP4  192.0.2.1 198.51.100.7 1 2\r\n"), .malformed),
    (ProxyFixture("trailing space", "PROXY TCP4 192.0.2.1 198.51.100.7 1 2 \r\n"), .malformed),
    (ProxyFixture("missing port", "PROXY TCP4 192.0.2.1 198.51.100.7 1\r\n"), .malformed),
    (ProxyFixture("leading zero octet", "PROXY TCP4 192.0.2.01 198.51.100.7 1 2\r\n"), .malformed),
    (ProxyFixture("octet 256", "PROXY TCP4 192.0.2.256 198.51.100.7 1 2\r\n"), .malformed),
    (ProxyFixture("three octets", "PROXY TCP4 192.0.2 198.51.100.7 1 2\r\n"), .malformed),
    (ProxyFixture("port 65536", "PROXY TCP4 192.0.2.1 198.51.100.7 65536 2\r\n"), .malformed),
    (ProxyFixture("port leading zero", "PROXY TCP4 192.0.2.1 198.51.100.7 025 2\r\n"), .malformed),
    (ProxyFixture("negative port", "PROXY TCP4 192.0.2.1 198.51.100.7 -1 2\r\n"), .malformed),
    (ProxyFixture("IPv6 in TCP4", "PROXY TCP4 ::1 ::1 1 2\r\n"), .malformed),
    (ProxyFixture("IPv4 in TCP6", "PROXY TCP6 192.0.2.1 ::1 1 2\r\n"), .malformed),
    (ProxyFixture("IPv6 zone", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"), .malformed),
    (ProxyFixture("IPv6 host name", "PROXY TCP6 localhost ::1 1 2\r\n"), .malformed),
    (ProxyFixture("endless v1", "PROXY UNKNOWN " + String(repeating: "x", count: 200)), .tooLong),
    (ProxyFixture("v2 bad signature", "\r\n\r\n\u{1}"), .notProxyProtocol),
    (ProxyFixture("v2 version 1", v2: [0x11, 0x11, 0x00, 0x00]), .malformed),
    (ProxyFixture("v2 command 2", v2: [0x22, 0x11, 0x00, 0x00]), .malformed),
    (ProxyFixture("v2 UDP", v2: [0x21, 0x12, 0x00, 0x0C] + Array(repeating: 1, count: 12)), .unsupported),
    (ProxyFixture("v2 Unix socket", v2: [0x21, 0x31, 0x00, 0xD8] + Array(repeating: 1, count: 216)), .unsupported),
    (ProxyFixture("v2 family 4", v2: [0x21, 0x41, 0x00, 0x00]), .malformed),
    (ProxyFixture("v2 short address block", v2: [0x21, 0x11, 0x00, 0x08] + Array(repeating: 1, count: 8)), .malformed),
    (ProxyFixture("v2 longer than 4096", v2: [0x21, 0x11, 0x0F, 0xF1]), .tooLong),
]

@Suite struct ProxyHeaderTests {
    private let trailer = Array("EHLO client.example\r\n".utf8)

    @Test(arguments: valid)
    func parsesWholeHeaderAndLeavesTheRest(fixture: ProxyFixture, expected: ProxyHeader) throws {
        var buffer = ByteBuffer(bytes: fixture.bytes + self.trailer)
        #expect(try ProxyHeaderParser.parse(&buffer) == expected)
        #expect(buffer == ByteBuffer(bytes: self.trailer))
    }

    @Test(arguments: valid)
    func parsesByteByByte(fixture: ProxyFixture, expected: ProxyHeader) throws {
        var buffer = ByteBuffer()
        for (index, byte) in fixture.bytes.enumerated() {
            buffer.writeInteger(byte)
            let before = buffer
            let result = try ProxyHeaderParser.parse(&buffer)
            if index < fixture.bytes.count - 1 {
                #expect(result == nil, "complete after \(index + 1) of \(fixture.bytes.count) bytes")
                #expect(buffer == before)
            } else {
                #expect(result == expected)
                #expect(buffer.readableBytes == 0)
            }
        }
    }

    @Test(arguments: malformed)
    func rejectsMalformedWhole(fixture: ProxyFixture, code: ProxyHeaderError.Code) {
        var buffer = ByteBuffer(bytes: fixture.bytes + self.trailer)
        #expect {
            _ = try ProxyHeaderParser.parse(&buffer)
        } throws: { error in
            (error as? ProxyHeaderError)?.code == code
        }
    }

    @Test(arguments: malformed)
    func rejectsMalformedByteByByte(fixture: ProxyFixture, code: ProxyHeaderError.Code) {
        var buffer = ByteBuffer()
        var thrown: ProxyHeaderError?
        for byte in fixture.bytes {
            buffer.writeInteger(byte)
            do {
                let header = try ProxyHeaderParser.parse(&buffer)
                #expect(header == nil)
            } catch {
                thrown = error
                break
            }
        }
        #expect(thrown?.code == code)
    }

    @Test func emptyBufferNeedsMore() throws {
        var buffer = ByteBuffer()
        #expect(try ProxyHeaderParser.parse(&buffer) == nil)
    }

    @Test func v2LimitIsConfigurable() throws {
        var buffer = ByteBuffer(bytes: valid[6].0.bytes)  // 36 bytes with TLVs
        #expect(throws: ProxyHeaderError.self) { try ProxyHeaderParser.parse(&buffer, maximumV2Length: 35) }
        #expect(try ProxyHeaderParser.parse(&buffer, maximumV2Length: 36) == ipv4Header)
    }

    @Test func encodesV1Exactly() throws {
        let source = try SocketAddress(ipAddress: "192.0.2.1", port: 51253)
        let destination = try SocketAddress(ipAddress: "198.51.100.7", port: 25)
        let encoded = ProxyHeaderEncoder.encodeV1(source: source, destination: destination)
        #expect(String(buffer: encoded) == "PROXY TCP4 192.0.2.1 198.51.100.7 51253 25\r\n")
        #expect(Array(buffer: ProxyHeaderEncoder.encodeV2(source: source, destination: destination)) == valid[4].0.bytes)
        #expect(Array(buffer: ProxyHeaderEncoder.encodeV2Local()) == valid[7].0.bytes)
    }

    @Test(arguments: [
        ("192.0.2.1", 1, "198.51.100.7", 65535, "192.0.2.1", "198.51.100.7"),
        ("2001:db8::1", 40000, "2001:db8:0:0:0:0:0:2", 587, "2001:db8::1", "2001:db8::2"),
        ("192.0.2.1", 1234, "2001:db8::2", 25, "::ffff:192.0.2.1", "2001:db8::2"),
    ])
    func roundTrips(
        src: String, srcPort: Int, dst: String, dstPort: Int, expectedSrc: String, expectedDst: String
    ) throws {
        let expected = ProxyHeader(
            sourceAddress: expectedSrc, sourcePort: srcPort, destinationAddress: expectedDst, destinationPort: dstPort
        )
        let source = try SocketAddress(ipAddress: src, port: srcPort)
        let destination = try SocketAddress(ipAddress: dst, port: dstPort)
        for var encoded in [
            ProxyHeaderEncoder.encodeV1(source: source, destination: destination),
            ProxyHeaderEncoder.encodeV2(source: source, destination: destination),
        ] {
            #expect(try ProxyHeaderParser.parse(&encoded) == expected)
            #expect(encoded.readableBytes == 0)
        }
        #expect(expected.source?.port == srcPort)
        #expect(expected.destination?.ipAddress == expectedDst)
    }

    @Test func unixSocketEncodesAsUnknown() throws {
        let unix = try SocketAddress(unixDomainSocketPath: "/tmp/warden.sock")
        let inet = try SocketAddress(ipAddress: "192.0.2.1", port: 25)
        var v1 = ProxyHeaderEncoder.encodeV1(source: unix, destination: inet)
        var v2 = ProxyHeaderEncoder.encodeV2(source: unix, destination: inet)
        #expect(String(buffer: v1) == "PROXY UNKNOWN\r\n")
        #expect(try ProxyHeaderParser.parse(&v1) == .unknown)
        #expect(try ProxyHeaderParser.parse(&v2) == .unknown)
        #expect(ProxyHeader.unknown.source == nil)
    }
}
