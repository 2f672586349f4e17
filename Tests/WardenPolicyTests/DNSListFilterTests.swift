import Testing

@testable import WardenPolicy

@Suite struct DNSListFilterTests {
    static func bytes(_ text: String) -> [UInt8] { text.split(separator: ".").map { UInt8($0)! } }

    /// (filter, answers it matches, answers it does not)
    @Test(arguments: [
        ("127.0.0.2", ["127.0.0.2"], ["127.0.0.3", "127.0.1.2", "127.0.0.1"]),
        ("127.0.0.2-3", ["127.0.0.2", "127.0.0.3"], ["127.0.0.1", "127.0.0.4"]),
        ("127.0.0.4-7,10", ["127.0.0.4", "127.0.0.5", "127.0.0.7", "127.0.0.10"], ["127.0.0.3", "127.0.0.8", "127.0.0.9", "127.0.0.11"]),
        ("127.0.0.2,4,9", ["127.0.0.2", "127.0.0.4", "127.0.0.9"], ["127.0.0.3", "127.0.0.5"]),
        ("127.0.*.2-3", ["127.0.15.2", "127.0.0.3", "127.0.255.2"], ["127.0.15.1", "127.1.15.2"]),
        ("127.0.0.x", ["127.0.0.0", "127.0.0.255"], ["127.0.1.1"]),
        ("127.*.*.*", ["127.0.0.1", "127.1.2.3", "127.255.254.255"], ["127.255.255.0", "127.255.255.254"]),
        ("*.*.*.*", ["127.0.0.2"], ["10.0.0.2", "126.0.0.2", "128.0.0.2", "127.255.255.255"]),
        ("127.0.0.0-255", ["127.0.0.0", "127.0.0.255"], ["127.0.1.0"]),
        ("mask:4", ["127.0.0.4", "127.0.0.6", "127.0.0.255"], ["127.0.0.2", "127.0.0.8", "127.255.255.4", "10.0.0.4"]),
        ("mask:0x0c", ["127.0.0.4", "127.0.0.8", "127.0.0.12"], ["127.0.0.2", "127.0.0.3", "127.0.0.16"]),
        ("MASK:255", ["127.0.0.1", "127.0.0.128"], ["127.0.0.0", "127.255.255.255", "127.255.255.254"]),
        ("127.255.255.*", [], ["127.255.255.252", "127.255.255.254", "127.255.255.255"]),
        ("127.255.255.254", [], ["127.255.255.254"]),
        ("10.0.0.2", [], ["10.0.0.2"]),
    ])
    func matching(filter text: String, matches: [String], misses: [String]) throws {
        let filter = try DNSListFilter(parsing: text)
        #expect(filter.description == text)
        for answer in matches {
            #expect(filter.matches(Self.bytes(answer)), "\(text) matches \(answer)")
        }
        for answer in misses {
            #expect(!filter.matches(Self.bytes(answer)), "\(text) does not match \(answer)")
        }
    }

    @Test func anyListingIsTheWholeLoopbackBlockButTheErrorRange() {
        let filter = DNSListFilter.anyListing
        #expect(filter.description == "127.*.*.*")
        #expect(filter.matches([127, 0, 0, 2]))
        #expect(filter.matches([127, 0, 0, 1]))
        #expect(filter.matches([127, 255, 254, 255]))
        #expect(!filter.matches([127, 255, 255, 252]))
        #expect(!filter.matches([127, 255, 255, 254]))
        #expect(!filter.matches([127, 255, 255, 255]))
        #expect(!filter.matches([10, 0, 0, 2]))
        #expect(!filter.matches([192, 0, 2, 1]))
        #expect(!filter.matches([127, 0, 0]))
        #expect(!filter.matches([127, 0, 0, 2, 0]))
        #expect(!filter.matches([]))
    }

    @Test func theErrorRange() {
        #expect(DNSListFilter.isListError([127, 255, 255, 0]))
        #expect(DNSListFilter.isListError([127, 255, 255, 254]))
        #expect(!DNSListFilter.isListError([127, 255, 254, 255]))
        #expect(!DNSListFilter.isListError([126, 255, 255, 254]))
        #expect(!DNSListFilter.isListError([127, 255, 255]))
    }

    /// (filter, the message)
    @Test(arguments: [
        ("127.0.0", "127.0.0 must have four octets, like 127.0.0.2-3"),
        ("127.0.0.2.5", "127.0.0.2.5 must have four octets, like 127.0.0.2-3"),
        ("127.0.0.3-2", "3-2 in 127.0.0.3-2 is not a number, a range a-b, a list or *"),
        ("127.0.0.256", "256 in 127.0.0.256 is not a number, a range a-b, a list or *"),
        ("127.0.0.a", "a in 127.0.0.a is not a number, a range a-b, a list or *"),
        ("127.0.0.1-2-3", "1-2-3 in 127.0.0.1-2-3 is not a number, a range a-b, a list or *"),
        ("127.0.0.-1", "-1 in 127.0.0.-1 is not a number, a range a-b, a list or *"),
        ("127.0.0.2,,3", "2,,3 in 127.0.0.2,,3 is not a number, a range a-b, a list or *"),
        ("127.0.0.2,", "2, in 127.0.0.2, is not a number, a range a-b, a list or *"),
        ("127.0.**.2", "** in 127.0.**.2 is not a number, a range a-b, a list or *"),
        ("127.0.0.", " in 127.0.0. is not a number, a range a-b, a list or *"),
        ("mask:0", "mask:0 must be a number from 1 to 255"),
        ("mask:256", "mask:256 must be a number from 1 to 255"),
        ("mask:", "mask: must be a number from 1 to 255"),
        ("mask:four", "mask:four must be a number from 1 to 255"),
        ("mask:0x", "mask:0x must be a number from 1 to 255"),
        ("mask:0x100", "mask:0x100 must be a number from 1 to 255"),
        ("mask:-4", "mask:-4 must be a number from 1 to 255"),
    ])
    func invalidFilters(text: String, message: String) {
        #expect(throws: DNSListFilter.FilterError(message: message)) {
            try DNSListFilter(parsing: text)
        }
    }
}
