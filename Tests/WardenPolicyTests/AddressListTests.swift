#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing

@testable import WardenPolicy

@Suite struct AddressListTests {
    static let drop = """
        # Blocklists/drop.txt
        10.0.0.0/8
        10.1.0.0/16
        10.1.2.0/24   # nested three deep
        10.1.2.3

        2001:db8::/32
        2001:db8:1::/48
        2001:db8:1::1
        ::ffff:198.51.100.0/120
        192.0.2.0/24
        192.0.2.0/24
        """

    /// (address, expected entry or nil, its line)
    @Test(arguments: [
        ("10.1.2.3", "10.1.2.3/32", 5),
        ("10.1.2.4", "10.1.2.0/24", 4),
        ("10.1.3.1", "10.1.0.0/16", 3),
        ("10.200.0.1", "10.0.0.0/8", 2),
        ("10.0.0.0", "10.0.0.0/8", 2),
        ("10.255.255.255", "10.0.0.0/8", 2),
        ("11.0.0.0", nil, 0),
        ("9.255.255.255", nil, 0),
        ("::ffff:10.1.2.3", "10.1.2.3/32", 5),
        ("::ffff:10.1.9.9", "10.1.0.0/16", 3),
        ("198.51.100.200", "198.51.100.0/24", 10),
        ("::ffff:198.51.100.1", "198.51.100.0/24", 10),
        ("198.51.101.1", nil, 0),
        ("192.0.2.9", "192.0.2.0/24", 11),  // listed twice: the first line
        ("2001:db8:1::1", "2001:db8:1::1/128", 9),
        ("2001:db8:1::2", "2001:db8:1::/48", 8),
        ("2001:db8:1:ffff:ffff:ffff:ffff:ffff", "2001:db8:1::/48", 8),
        ("2001:db8:2::1", "2001:db8::/32", 7),
        ("2001:db9::1", nil, 0),
        ("2001:db7:ffff::1", nil, 0),
        ("::a01:203", nil, 0),  // IPv4-compatible, not mapped: an IPv6 address
        ("::1", nil, 0),
    ] as [(String, String?, Int)])
    func findsTheLongestMatch(address: String, network: String?, line: Int) throws {
        let list = try AddressListLoader.parse(Self.drop, path: "Blocklists/drop.txt")
        let expected = try network.map { AddressList.Match(network: try net($0), line: line) }
        #expect(list.lookup(try ip(address)) == expected)
    }

    @Test(arguments: [
        ("203.0.113.9", "0.0.0.0/0", 1),
        ("0.0.0.0", "0.0.0.0/0", 1),
        ("255.255.255.255", "0.0.0.0/0", 1),
        ("198.51.100.1", "198.51.100.1/32", 3),
        ("198.51.100.2", "0.0.0.0/0", 1),
        ("2001:db8::1", "::/0", 2),
        ("::", "::/0", 2),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 4),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "::/0", 2),
    ] as [(String, String, Int)])
    func defaultRoutesAndHostEntries(address: String, network: String, line: Int) throws {
        let list = try AddressListLoader.parse(
            "0.0.0.0/0\n::/0\n198.51.100.1/32\nffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128\n",
            path: "all.txt"
        )
        let match = try #require(list.lookup(try ip(address)))
        #expect(match == AddressList.Match(network: try net(network), line: line))
    }

    @Test func familiesStayApart() throws {
        let v4Only = try AddressListLoader.parse("0.0.0.0/0", path: "v4.txt")
        let v6Only = try AddressListLoader.parse("::/0", path: "v6.txt")
        #expect(v4Only.lookup(try ip("2001:db8::1")) == nil)
        #expect(v4Only.lookup(try ip("::ffff:192.0.2.1")) != nil)
        #expect(v6Only.lookup(try ip("192.0.2.1")) == nil)
        #expect(v6Only.lookup(try ip("::ffff:192.0.2.1")) == nil)
    }

    @Test func skipsCommentsBlanksAndWhitespace() throws {
        let text = "\u{FEFF}# header\r\n\r\n   \t\n  192.0.2.1  \r\n\t2001:db8::/32\t# trailing comment\n10.0.0.0/8#tight comment\n#192.0.2.2\n   # indented\n"
        let list = try AddressListLoader.parse(text, path: "x.txt")
        #expect(list.count == 3)
        #expect(list.lookup(try ip("192.0.2.1"))?.line == 4)
        #expect(list.lookup(try ip("2001:db8::7"))?.line == 5)
        #expect(list.lookup(try ip("10.9.9.9"))?.line == 6)
        #expect(list.lookup(try ip("192.0.2.2")) == nil)
    }

    @Test func emptyListMatchesNothing() throws {
        for text in ["", "\n\n", "# nothing listed yet\n"] {
            let list = try AddressListLoader.parse(text, path: "empty.txt")
            #expect(list.count == 0)
            #expect(list.lookup(try ip("192.0.2.1")) == nil)
            #expect(list.lookup(try ip("2001:db8::1")) == nil)
        }
    }

    @Test func countsDuplicatesAndReportsTheFirstLine() throws {
        let list = try AddressListLoader.parse("192.0.2.0/24\n10.0.0.1\n192.0.2.0/24\n", path: "d.txt")
        #expect(list.count == 3)
        #expect(list.lookup(try ip("192.0.2.5"))?.line == 1)
        #expect(list.path == "d.txt")
    }

    /// (text, line, message)
    @Test(arguments: [
        ("10.0.0.0/8\n10.0.0.1/8\n", 2, "10.0.0.1/8 is not an address or CIDR (host bits set)"),
        ("2001:db8::1/32", 1, "2001:db8::1/32 is not an address or CIDR (host bits set)"),
        ("::ffff:10.0.0.1/104", 1, "::ffff:10.0.0.1/104 is not an address or CIDR (host bits set)"),
        ("10.0.0.0/33", 1, "10.0.0.0/33 is not an address or CIDR (prefix length 33 out of range 0-32)"),
        ("2001:db8::/129", 1, "2001:db8::/129 is not an address or CIDR (prefix length 129 out of range 0-128)"),
        ("::ffff:10.0.0.0/95", 1, "::ffff:10.0.0.0/95 is not an address or CIDR (prefix length 95 out of range 96-128)"),
        ("10.0.0.0/", 1, "10.0.0.0/ is not an address or CIDR (missing prefix length)"),
        ("10.0.0.0/+8", 1, "10.0.0.0/+8 is not an address or CIDR (prefix length \"+8\" is not a number)"),
        ("10.0.0.0/8/8", 1, "10.0.0.0/8/8 is not an address or CIDR (prefix length \"8/8\" is not a number)"),
        ("# ok\n10.0.0.256", 2, "10.0.0.256 is not an address or CIDR (not an IPv4 or IPv6 address)"),
        ("10.0.0.256/8", 1, "10.0.0.256/8 is not an address or CIDR (not an IPv4 or IPv6 address)"),
        ("example.com", 1, "example.com is not an address or CIDR (not an IPv4 or IPv6 address)"),
        ("/8", 1, "/8 is not an address or CIDR (not an IPv4 or IPv6 address)"),
        ("fe80::1%eth0", 1, "fe80::1%eth0 is not an address or CIDR (not an IPv4 or IPv6 address)"),
        ("10.0.0", 1, "10.0.0 is not an address or CIDR (not an IPv4 or IPv6 address)"),
        ("\n\n192.0.2.1 192.0.2.2\n", 3, "192.0.2.1 is followed by \"192.0.2.2\" (one address or CIDR per line; comments start with #)"),
        ("192.0.2.1 ; spammer  # note", 1, "192.0.2.1 is followed by \"; spammer\" (one address or CIDR per line; comments start with #)"),
        ("192.0.2.0 /24", 1, "192.0.2.0 is followed by \"/24\" (one address or CIDR per line; comments start with #)"),
        ("192.0.2.1,192.0.2.2", 1, "192.0.2.1,192.0.2.2 is not an address or CIDR (not an IPv4 or IPv6 address)"),
        ("bad\n10.0.0.1/8\n", 1, "bad is not an address or CIDR (not an IPv4 or IPv6 address)"),
        ("a\u{1B}[31m", 1, "a?[31m is not an address or CIDR (not an IPv4 or IPv6 address)"),
    ] as [(String, Int, String)])
    func reportsTheFirstBadLine(text: String, line: Int, message: String) {
        let expected = AddressListError(path: "Blocklists/drop.txt", line: line, message: message)
        #expect(throws: expected) { try AddressListLoader.parse(text, path: "Blocklists/drop.txt") }
        #expect(expected.description == "Blocklists/drop.txt:\(line): \(message)")
    }

    @Test func quotesOnlyTheStartOfAHugeEntry() throws {
        let error = try #require(throws: AddressListError.self) {
            try AddressListLoader.parse(String(repeating: "1", count: 100_000), path: "huge.txt")
        }
        #expect(error.line == 1)
        #expect(error.message == String(repeating: "1", count: 80) + "… is not an address or CIDR (not an IPv4 or IPv6 address)")
    }

    @Test func loadsAFileAndNamesItByDisplayName() throws {
        let path = try temporaryFile("# test\n192.0.2.0/24\n2001:db8::/32\n")
        defer { unlink(path) }
        let list = try AddressListLoader.load(path: path, displayName: "Blocklists/test.txt")
        #expect(list.path == path)
        #expect(list.count == 2)
        #expect(list.lookup(try ip("2001:db8::9")) == AddressList.Match(network: try net("2001:db8::/32"), line: 3))

        let bad = try temporaryFile("192.0.2.0/24\n192.0.2.1/24\n")
        defer { unlink(bad) }
        #expect(throws: AddressListError(path: "Blocklists/bad.txt", line: 2, message: "192.0.2.1/24 is not an address or CIDR (host bits set)")) {
            try AddressListLoader.load(path: bad, displayName: "Blocklists/bad.txt")
        }
        #expect(throws: AddressListError(path: bad, line: 2, message: "192.0.2.1/24 is not an address or CIDR (host bits set)")) {
            try AddressListLoader.load(path: bad)
        }
    }

    @Test func aMissingFileIsAnErrorWithoutLine() {
        let expected = AddressListError(path: "Blocklists/gone.txt", line: nil, message: "cannot read the file (No such file or directory)")
        #expect(throws: expected) {
            try AddressListLoader.load(path: "/nonexistent/warden/gone.txt", displayName: "Blocklists/gone.txt")
        }
        #expect(expected.description == "Blocklists/gone.txt: cannot read the file (No such file or directory)")
    }

    @Test func refusesAFileOverTheSizeLimit() throws {
        let path = try temporaryFile(String(repeating: "192.0.2.1\n", count: 20))
        defer { unlink(path) }
        #expect(throws: AddressListError(path: "big.txt", line: nil, message: "cannot read the file (larger than 100 bytes)")) {
            try AddressListLoader.load(path: path, displayName: "big.txt", maximumFileSize: 100)
        }
        #expect(try AddressListLoader.load(path: path, maximumFileSize: 200).count == 20)
    }

    /// The trie against a plain scan, on random prefixes packed into a few blocks so that they
    /// nest and share long prefixes.
    @Test(arguments: [4, 6])
    func agreesWithALinearScan(family: Int) throws {
        var random = SplitMix(seed: UInt64(family))
        let bits = family == 4 ? 32 : 128
        func randomAddress() -> IPAddress {
            // Three fixed top bytes per family, chosen at random, keep the prefixes clustered.
            let top = UInt64([0x0A, 0xC0, 0x20][Int(random.next() % 3)])
            if family == 4 { return .v4(UInt32(top << 24) | UInt32(truncatingIfNeeded: random.next() >> 40)) }
            return .v6(high: top << 56 | (random.next() >> 40), low: random.next() % 4)
        }
        var entries: [(Network, Int)] = []
        for line in 1...3_000 {
            let length = Int(random.next() % UInt64(bits + 1))
            let masked = Network.masked(randomAddress(), length)
            entries.append((try net("\(masked)/\(length)"), line))
        }
        let list = AddressList(path: "random", entries: entries)
        #expect(list.count == entries.count)
        for _ in 0..<20_000 {
            let address = randomAddress()
            let expected = entries.filter { $0.0.contains(address) }
                .max { ($0.0.prefixLength, -$0.1) < ($1.0.prefixLength, -$1.1) }
                .map { AddressList.Match(network: $0.0, line: $0.1) }
            #expect(list.lookup(address) == expected, "\(address)")
        }
    }

    private func ip(_ text: String) throws -> IPAddress { try #require(IPAddress(text)) }
    private func net(_ text: String) throws -> Network { try #require(Network(text)) }

    private func temporaryFile(_ contents: String) throws -> String {
        var template = Array("/tmp/warden-addresslist-XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        try #require(written == bytes.count)
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A small seeded generator (SplitMix64) so random tests repeat exactly.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
