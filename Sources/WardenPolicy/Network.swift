/// An address block in CIDR notation (RFC 4632 for IPv4, RFC 4291 2.3 for IPv6).
/// A bare address is a block of one. IPv4-mapped IPv6 blocks are folded to IPv4.
public struct Network: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Parses `a.b.c.d`, `a.b.c.d/n`, `2001:db8::`, `2001:db8::/32`. Host bits must be zero
    /// except for a bare address; anything else is refused so that a typo never widens a list.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        let maximum = address.isIPv4 ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), parts[1].allSatisfy(\.isNumber) else { return nil }
            length = parsed
            // An IPv4-mapped block such as ::ffff:10.0.0.0/104 is an IPv4 /8.
            if address.isIPv4, String(parts[0]).contains(":") { length -= 96 }
            guard (0...maximum).contains(length) else { return nil }
        }
        guard Network.masked(address, length) == address else { return nil }
        self.address = address
        self.prefixLength = length
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4, .v4), (.v6, .v6):
            return Network.masked(candidate, prefixLength) == address
        default:
            return false
        }
    }

    public var description: String { "\(address)/\(prefixLength)" }

    static func masked(_ address: IPAddress, _ length: Int) -> IPAddress {
        switch address {
        case .v4(let value):
            let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - UInt32(length))
            return .v4(value & mask)
        case .v6(let high, let low):
            let highMask: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~UInt64(0) << (64 - UInt64(length)))
            let lowBits = max(0, length - 64)
            let lowMask: UInt64 = lowBits >= 64 ? ~0 : (lowBits == 0 ? 0 : ~UInt64(0) << (64 - UInt64(lowBits)))
            return .v6(high: high & highMask, low: low & lowMask)
        }
    }
}

/// A small set of networks matched by scanning. The rule-language issue brings the prefix tree for
/// large lists; this type serves configuration-sized lists such as `trusted_networks`.
public struct NetworkSet: Sendable, Hashable {
    public let networks: [Network]

    public init(_ networks: [Network]) { self.networks = networks }

    /// Parses each entry; returns the first entry that is not a network as the error.
    public init(parsing entries: [String]) throws(NetworkParseError) {
        var parsed: [Network] = []
        for entry in entries {
            guard let network = Network(entry) else { throw NetworkParseError(entry: entry) }
            parsed.append(network)
        }
        self.networks = parsed
    }

    public func contains(_ address: IPAddress) -> Bool {
        networks.contains { $0.contains(address) }
    }
}

public struct NetworkParseError: Error, Hashable, Sendable {
    public var entry: String
}
