/// A 128-bit trie key. IPv6 is taken as is; IPv4 sits in the top 32 bits, so one trie serves
/// both families (each family has its own trie, so the two never meet).
struct AddressKey: Hashable, Sendable {
    var high: UInt64
    var low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(_ address: IPAddress) {
        switch address {
        case .v4(let value):
            self.init(high: UInt64(value) << 32, low: 0)
        case .v6(let high, let low):
            self.init(high: high, low: low)
        }
    }

    /// Bit `index`, counted from the most significant; 0 past the end.
    @inline(__always)
    func bit(_ index: Int) -> Int {
        if index < 64 { return Int(truncatingIfNeeded: high >> UInt64(63 - index)) & 1 }
        if index < 128 { return Int(truncatingIfNeeded: low >> UInt64(127 - index)) & 1 }
        return 0
    }

    /// How many leading bits the two keys share (128 when equal).
    @inline(__always)
    func commonPrefixLength(_ other: AddressKey) -> Int {
        let highDifference = high ^ other.high
        if highDifference != 0 { return highDifference.leadingZeroBitCount }
        return 64 + (low ^ other.low).leadingZeroBitCount
    }

    /// The key with every bit from `length` on cleared.
    func masked(_ length: Int) -> AddressKey {
        func mask(_ bits: Int) -> UInt64 {
            bits <= 0 ? 0 : bits >= 64 ? ~0 : ~UInt64(0) << UInt64(64 - bits)
        }
        return AddressKey(high: high & mask(length), low: low & mask(length - 64))
    }
}

/// A path-compressed binary trie (a PATRICIA tree that keeps the prefixes it was given): every
/// node holds a whole prefix and forks only where two prefixes part, so a lookup visits at most
/// one node per distinct prefix on the way down instead of one per bit. Nodes live in one array
/// and refer to each other by index: no reference counting on the lookup path, and two nodes per
/// cache line.
struct PrefixTrie: Sendable {
    struct Node: Sendable {
        var key: AddressKey
        var zero: Int32 = -1
        var one: Int32 = -1
        /// Index of the entry this prefix carries, or -1 for a fork added by the trie itself.
        var value: Int32
        var length: UInt8

        init(key: AddressKey, length: Int, value: Int32) {
            self.key = key.masked(length)
            self.length = UInt8(length)
            self.value = value
        }
    }

    private(set) var nodes: [Node] = []
    private var root: Int32 = -1

    /// Adds `key/length` carrying `value`. Returns false, keeping the earlier value, when the
    /// prefix is already present.
    mutating func insert(_ key: AddressKey, length: Int, value: Int32) -> Bool {
        precondition((0...128).contains(length), "a prefix length is 0...128, got \(length)")
        var parent: Int32 = -1
        var side = 0
        var current = root
        while current >= 0 {
            let node = nodes[Int(current)]
            let nodeLength = Int(node.length)
            let common = min(key.commonPrefixLength(node.key), length, nodeLength)
            if common == nodeLength {
                if nodeLength == length {
                    guard node.value < 0 else { return false }
                    nodes[Int(current)].value = value
                    return true
                }
                parent = current
                side = key.bit(nodeLength)
                current = side == 0 ? node.zero : node.one
                continue
            }
            // The new prefix stops or parts from this node's prefix after `common` bits: a new
            // node goes in between, either the new prefix itself or a fork holding both.
            let between: Int32
            if common == length {
                between = append(Node(key: key, length: length, value: value))
                link(between, node.key.bit(length), current)
            } else {
                between = append(Node(key: key, length: common, value: -1))
                link(between, key.bit(common), append(Node(key: key, length: length, value: value)))
                link(between, node.key.bit(common), current)
            }
            link(parent, side, between)
            return true
        }
        link(parent, side, append(Node(key: key, length: length, value: value)))
        return true
    }

    /// The value of the longest prefix containing `key`, or -1.
    func longestMatch(_ key: AddressKey) -> Int32 {
        nodes.withUnsafeBufferPointer { nodes in
            var best: Int32 = -1
            var current = root
            while current >= 0 {
                let node = nodes[Int(current)]
                let length = Int(node.length)
                if key.commonPrefixLength(node.key) < length { break }
                if node.value >= 0 { best = node.value }
                current = key.bit(length) == 0 ? node.zero : node.one
            }
            return best
        }
    }

    private mutating func append(_ node: Node) -> Int32 {
        precondition(nodes.count < Int(Int32.max), "an address list holds fewer than 2^31 prefixes")
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    private mutating func link(_ parent: Int32, _ side: Int, _ child: Int32) {
        if parent < 0 {
            root = child
        } else if side == 0 {
            nodes[Int(parent)].zero = child
        } else {
            nodes[Int(parent)].one = child
        }
    }
}
