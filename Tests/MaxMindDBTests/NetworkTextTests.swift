import Testing

@testable import MaxMindDB

@Suite struct NetworkTextTests {
    @Test(arguments: [
        ("192.0.2.255", 24, "192.0.2.0/24"),
        ("192.0.2.255", 25, "192.0.2.128/25"),
        ("192.0.2.255", 32, "192.0.2.255/32"),
        ("198.51.100.77", 0, "0.0.0.0/0"),
        ("2001:db8:1:ffff::1", 48, "2001:db8:1::/48"),
        ("2001:db8:1:ffff::1", 52, "2001:db8:1:f000::/52"),
        ("2001:db8::1", 128, "2001:db8::1/128"),
        ("ffff::1", 0, "::/0"),
        // RFC 5952 4.2.2: a single zero group is not shortened.
        ("2001:db8:0:1:1:1:1:1", 128, "2001:db8:0:1:1:1:1:1/128"),
        // 4.2.3: the longest run is shortened; of equal runs, the first.
        ("2001:0:0:1:0:0:0:1", 128, "2001:0:0:1::1/128"),
        ("2001:db8:0:0:1:0:0:1", 128, "2001:db8::1:0:0:1/128"),
        ("1::", 16, "1::/16"),
        ("::1", 128, "::1/128"),
        // 4.3: lower case.
        ("2001:DB8:ABCD::", 48, "2001:db8:abcd::/48"),
    ])
    func network(address: String, prefixLength: Int, expected: String) {
        #expect(IPAddressBytes.network(ip(address), prefixLength: prefixLength) == expected)
    }
}
