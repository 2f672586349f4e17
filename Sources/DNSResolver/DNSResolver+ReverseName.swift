extension DNSResolver {
    /// The name under which an address is looked up, without zone: `"1.2.0.192"` for
    /// 192.0.2.1; for IPv6 the 32 nibbles in reverse, lower-case hex (RFC 3596 section 2.5).
    /// Append `.in-addr.arpa`, `.ip6.arpa` or a DNSBL zone.
    ///
    /// - Precondition: `address` has 4 or 16 bytes.
    public static func reverseName(_ address: [UInt8]) -> String {
        switch address.count {
        case 4:
            return address.reversed().map(String.init).joined(separator: ".")
        case 16:
            let digits = Array("0123456789abcdef")
            var labels: [Character] = []
            labels.reserveCapacity(64)
            for byte in address.reversed() {
                labels.append(digits[Int(byte & 0x0F)])
                labels.append(".")
                labels.append(digits[Int(byte >> 4)])
                labels.append(".")
            }
            labels.removeLast()
            return String(labels)
        default:
            preconditionFailure("reverseName: an address has 4 or 16 bytes, not \(address.count)")
        }
    }
}
