import DNSResolver
import Testing

@Suite("DNSResolver.reverseName")
struct ReverseNameTests {
    @Test func ipv4IsReversedOctets() {
        #expect(DNSResolver.reverseName([127, 0, 0, 2]) == "2.0.0.127")
        #expect(DNSResolver.reverseName([192, 0, 2, 255]) == "255.2.0.192")
    }

    @Test func ipv6IsReversedNibbles() {
        #expect(
            DNSResolver.reverseName(ipv6("2001:db8::1"))
                == "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2")
        #expect(
            DNSResolver.reverseName(ipv6("fe80::abcd:ef12"))
                == "2.1.f.e.d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f")
    }
}

@Suite("DNSResolverConfiguration")
struct ConfigurationTests {
    @Test(arguments: ["not an address", "127.0.0.1:0", "127.0.0.1:70000", "[::1", "[127.0.0.1]:53", "1.2.3:53", ""])
    func malformedServerIsRefused(_ server: String) {
        #expect(throws: DNSError.self) {
            _ = try DNSResolver(configuration: .init(servers: [server]))
        }
        do {
            _ = try DNSResolver(configuration: .init(servers: [server]))
        } catch {
            #expect(error.kind == .malformed)
        }
    }

    @Test(arguments: ["127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1", "[::1]"])
    func serverFormsAreAccepted(_ server: String) throws {
        let resolver = try DNSResolver(configuration: .init(servers: [server]))
        resolver.shutdown()
    }

    @Test func nonsensicalTimingIsRefused() {
        #expect(throws: DNSError.self) {
            _ = try DNSResolver(configuration: .init(servers: ["127.0.0.1"], tries: 0))
        }
        #expect(throws: DNSError.self) {
            _ = try DNSResolver(configuration: .init(servers: ["127.0.0.1"], timeout: .zero))
        }
    }
}
