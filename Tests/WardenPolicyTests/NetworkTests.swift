import Testing

@testable import WardenPolicy

@Suite struct NetworkTests {
    @Test(arguments: [
        ("192.0.2.0/24", "192.0.2.77", true),
        ("192.0.2.0/24", "192.0.3.1", false),
        ("10.0.0.0/8", "::ffff:10.1.2.3", true),
        ("::ffff:10.0.0.0/104", "10.200.0.1", true),
        ("2001:db8::/32", "2001:db8:1::5", true),
        ("2001:db8::/32", "2001:db9::5", false),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("0.0.0.0/0", "2001:db8::1", false),
        ("::/0", "2001:db8::1", true),
        ("127.0.0.1", "127.0.0.1", true),
        ("127.0.0.1", "127.0.0.2", false),
    ])
    func contains(network: String, address: String, expected: Bool) throws {
        let parsed = try #require(Network(network))
        let candidate = try #require(IPAddress(address))
        #expect(parsed.contains(candidate) == expected)
    }

    @Test(arguments: ["192.0.2.1/24", "192.0.2.0/33", "2001:db8::1/32", "300.1.1.1", "192.0.2.0/", "x", "192.0.2.0/+8", "fe80::1%eth0"])
    func refusesMalformedNetworks(text: String) {
        #expect(Network(text) == nil)
    }

    @Test func printsAddresses() throws {
        #expect(try #require(IPAddress("::ffff:192.0.2.1")).description == "192.0.2.1")
        #expect(try #require(IPAddress("2001:0db8:0000::0001")).description == "2001:db8::1")
        #expect(try #require(IPAddress("IPv6:::1")).description == "::1")
    }

    @Test func networkSetReportsTheBadEntry() {
        #expect(throws: NetworkParseError(entry: "10.0.0.1/8")) {
            try NetworkSet(parsing: ["127.0.0.0/8", "10.0.0.1/8"])
        }
    }
}
