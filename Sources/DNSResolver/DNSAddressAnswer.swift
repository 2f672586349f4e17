/// The addresses of an A or AAAA answer.
public struct DNSAddressAnswer: Sendable, Hashable {
    /// Network byte order, 4 bytes each for A, 16 for AAAA, in the order of the answer.
    public var addresses: [[UInt8]]
    /// Seconds: the smallest TTL of the records that led to the addresses (CNAMEs included).
    public var ttl: Int

    public init(addresses: [[UInt8]], ttl: Int) {
        self.addresses = addresses
        self.ttl = ttl
    }
}
