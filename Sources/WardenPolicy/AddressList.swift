/// One address list file of `Blocklists/` (the `client_list` directive of `docs/rules.md`): its
/// entries with their line numbers, looked up through a path-compressed binary trie per family.
///
/// A lookup returns the most specific entry containing the address, so the evidence names the
/// narrowest block an operator listed. IPv4-mapped IPv6 addresses arrive as IPv4 (`IPAddress`
/// folds them) and match IPv4 entries; an IPv4 entry never matches a native IPv6 address.
public final class AddressList: Sendable {
    /// The entry that matched: the block as written (normalised) and its line in the file.
    public struct Match: Sendable, Hashable {
        public var network: Network
        public var line: Int

        public init(network: Network, line: Int) {
            self.network = network
            self.line = line
        }
    }

    /// The path the list was loaded from, as given to the loader.
    public let path: String
    /// Entries read, duplicates included.
    public var count: Int { entryCount }

    private let entryCount: Int
    /// The distinct entries; trie values index this array.
    private let matches: [Match]
    private let ipv4: PrefixTrie
    private let ipv6: PrefixTrie

    /// Builds the list. When a block is listed more than once, the first entry (its line) is the
    /// one reported.
    public init(path: String, entries: [(Network, Int)]) {
        var ipv4 = PrefixTrie()
        var ipv6 = PrefixTrie()
        var matches: [Match] = []
        for (network, line) in entries {
            let key = AddressKey(network.address)
            let value = Int32(truncatingIfNeeded: matches.count)
            let added =
                network.address.isIPv4
                ? ipv4.insert(key, length: network.prefixLength, value: value)
                : ipv6.insert(key, length: network.prefixLength, value: value)
            if added { matches.append(Match(network: network, line: line)) }
        }
        self.path = path
        self.entryCount = entries.count
        self.matches = matches
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }

    /// The most specific (longest prefix) entry containing `address`, or nil.
    public func lookup(_ address: IPAddress) -> Match? {
        let key = AddressKey(address)
        let found = address.isIPv4 ? ipv4.longestMatch(key) : ipv6.longestMatch(key)
        return found < 0 ? nil : matches[Int(found)]
    }
}
