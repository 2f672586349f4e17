/// An address as the lookup needs it: IPv4 in 4 bytes, IPv6 in 16.
///
/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack listener reports for an IPv4
/// client) becomes the IPv4 address, so that it finds the IPv4 records and reports an IPv4
/// network. Databases written by MaxMind alias `::ffff:0:0/96` to their IPv4 tree anyway; other
/// writers do not.
enum IPAddressBytes: Hashable {
    case v4([UInt8])
    case v6([UInt8])

    init?(_ bytes: [UInt8]) {
        switch bytes.count {
        case 4:
            self = .v4(bytes)
        case 16 where bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff:
            self = .v4(Array(bytes[12..<16]))
        case 16:
            self = .v6(bytes)
        default:
            return nil
        }
    }

    /// `address/prefixLength` with the host bits cleared; IPv6 as RFC 5952 prescribes.
    static func network(_ address: [UInt8], prefixLength: Int) -> String {
        var masked = address
        for index in masked.indices {
            let bitsKept = min(max(prefixLength - index * 8, 0), 8)
            masked[index] &= UInt8(truncatingIfNeeded: 0xff00 >> bitsKept)
        }
        let text =
            masked.count == 4 ? masked.map { String($0) }.joined(separator: ".") : ipv6Text(masked)
        return "\(text)/\(prefixLength)"
    }

    /// RFC 5952 section 4: lower-case hex without leading zeros, the longest run of two or more
    /// zero groups (the first of equal runs) shortened to `::`.
    private static func ipv6Text(_ bytes: [UInt8]) -> String {
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var best: Range<Int>? = nil
        var index = 0
        while index < groups.count {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < groups.count && groups[index] == 0 { index += 1 }
            if index - start >= 2 && index - start > (best?.count ?? 0) {
                best = start..<index
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard let best else {
            return hex.joined(separator: ":")
        }
        let head = hex[..<best.lowerBound].joined(separator: ":")
        let tail = hex[best.upperBound...].joined(separator: ":")
        return "\(head)::\(tail)"
    }
}
