/// Reads the TTLs of an answer section, which `ares_parse_ptr_reply` does not report.
///
/// RFC 1035 section 4.1: a 12-byte header (QDCOUNT at 4, ANCOUNT at 6), the questions
/// (name, type, class) and the answer records (name, type, class, TTL, RDLENGTH, RDATA).
/// Names are skipped, never followed: a compression pointer ends a name in two bytes.
enum DNSMessageScanner {
    static let typeCNAME: UInt16 = 5
    static let typePTR: UInt16 = 12
    /// RFC 1035 section 2.3.4: a name is at most 255 bytes, so at most 128 labels.
    private static let maximumLabels = 128

    /// The smallest TTL among answer records of the given types; `nil` if there is none or
    /// the message is cut short.
    static func minimumTTL(_ message: [UInt8], types: Set<UInt16>) -> Int? {
        guard message.count >= 12 else {
            return nil
        }
        let questions = Int(uint16(message, at: 4))
        let answers = Int(uint16(message, at: 6))
        var offset = 12
        for _ in 0..<questions {
            guard let end = skipName(message, from: offset), end + 4 <= message.count else {
                return nil
            }
            offset = end + 4
        }
        var minimum: Int? = nil
        for _ in 0..<answers {
            guard let end = skipName(message, from: offset), end + 10 <= message.count else {
                return minimum
            }
            let type = uint16(message, at: end)
            let ttl = Int(uint16(message, at: end + 4)) << 16 | Int(uint16(message, at: end + 6))
            let dataLength = Int(uint16(message, at: end + 8))
            offset = end + 10 + dataLength
            guard offset <= message.count else {
                return minimum
            }
            if types.contains(type) {
                // RFC 2181 section 8: a TTL with the top bit set is read as zero.
                let value = ttl > Int(Int32.max) ? 0 : ttl
                minimum = min(minimum ?? value, value)
            }
        }
        return minimum
    }

    private static func uint16(_ message: [UInt8], at offset: Int) -> UInt16 {
        UInt16(message[offset]) << 8 | UInt16(message[offset + 1])
    }

    private static func skipName(_ message: [UInt8], from start: Int) -> Int? {
        var offset = start
        for _ in 0..<maximumLabels {
            guard offset < message.count else {
                return nil
            }
            let length = Int(message[offset])
            if length & 0xC0 == 0xC0 {
                return offset + 2 <= message.count ? offset + 2 : nil
            }
            if length == 0 {
                return offset + 1
            }
            offset += 1 + length
        }
        return nil
    }
}
