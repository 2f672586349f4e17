import CCAres
import Glibc

/// Answers copied out of c-ares, parsed with its `ares_parse_*_reply` functions.
enum AresReplyParser {
    /// The smallest A or AAAA record: a compressed owner name (2), type, class, TTL, length (10).
    private static let minimumARecord = 16
    private static let minimumAAAARecord = 28

    static func addresses(_ answer: [UInt8], family: IPAddressText.Family, query: String) throws(DNSError)
        -> DNSAddressAnswer
    {
        let result: Result<DNSAddressAnswer, DNSError> = answer.withUnsafeBufferPointer { buffer in
            let length = Int32(buffer.count)
            var found: [(bytes: [UInt8], ttl: Int32)] = []
            let status: Int32
            switch family {
            case .v4:
                var count = Int32(max(1, buffer.count / minimumARecord))
                var records = [ares_addrttl](repeating: ares_addrttl(), count: Int(count))
                status = ares_parse_a_reply(buffer.baseAddress, length, nil, &records, &count)
                if status == ARES_SUCCESS {
                    found = records.prefix(Int(count)).map { record in
                        (withUnsafeBytes(of: record.ipaddr) { Array($0) }, record.ttl)
                    }
                }
            case .v6:
                var count = Int32(max(1, buffer.count / minimumAAAARecord))
                var records = [ares_addr6ttl](repeating: ares_addr6ttl(), count: Int(count))
                status = ares_parse_aaaa_reply(buffer.baseAddress, length, nil, &records, &count)
                if status == ARES_SUCCESS {
                    found = records.prefix(Int(count)).map { record in
                        (withUnsafeBytes(of: record.ip6addr) { Array($0) }, record.ttl)
                    }
                }
            }
            guard status == ARES_SUCCESS else {
                return .failure(DNSError(aresStatus: status, query: query))
            }
            guard !found.isEmpty else {
                return .failure(DNSError(aresStatus: ARES_ENODATA, query: query))
            }
            let ttl = found.map { Int(max(0, $0.ttl)) }.min() ?? 0
            return .success(DNSAddressAnswer(addresses: found.map(\.bytes), ttl: ttl))
        }
        return try result.get()
    }

    static func pointerNames(_ answer: [UInt8], address: [UInt8], query: String) throws(DNSError)
        -> (names: [String], ttl: Int)
    {
        let result: Result<[String], DNSError> = answer.withUnsafeBufferPointer { buffer in
            var host: UnsafeMutablePointer<hostent>? = nil
            let family = address.count == 4 ? AF_INET : AF_INET6
            let status = address.withUnsafeBytes { addressBytes in
                ares_parse_ptr_reply(
                    buffer.baseAddress, Int32(buffer.count), addressBytes.baseAddress, Int32(address.count),
                    family, &host)
            }
            guard status == ARES_SUCCESS, let host else {
                return .failure(DNSError(aresStatus: status == ARES_SUCCESS ? ARES_ENODATA : status, query: query))
            }
            defer { ares_free_hostent(host) }
            // c-ares puts every PTR target among the aliases, in answer order, and the last in h_name.
            var names: [String] = []
            if var alias = host.pointee.h_aliases {
                while let name = alias.pointee {
                    names.append(String(cString: name))
                    alias += 1
                }
            }
            if names.isEmpty, let name = host.pointee.h_name {
                names.append(String(cString: name))
            }
            return names.isEmpty ? .failure(DNSError(aresStatus: ARES_ENODATA, query: query)) : .success(names)
        }
        let names = try result.get()
        let ttl = DNSMessageScanner.minimumTTL(answer, types: [DNSMessageScanner.typePTR, DNSMessageScanner.typeCNAME])
        return (names, ttl ?? 0)
    }

    /// One string per TXT record, its character-strings joined (as SPF and DNSBLs mean them).
    static func texts(_ answer: [UInt8], query: String) throws(DNSError) -> [String] {
        let result: Result<[String], DNSError> = answer.withUnsafeBufferPointer { buffer in
            var list: UnsafeMutablePointer<ares_txt_ext>? = nil
            let status = ares_parse_txt_reply_ext(buffer.baseAddress, Int32(buffer.count), &list)
            guard status == ARES_SUCCESS else {
                return .failure(DNSError(aresStatus: status, query: query))
            }
            defer { ares_free_data(list) }
            var records: [[UInt8]] = []
            var node = list
            while let current = node {
                let chunk = current.pointee.txt.map { Array(UnsafeBufferPointer(start: $0, count: current.pointee.length)) } ?? []
                if current.pointee.record_start != 0 || records.isEmpty {
                    records.append(chunk)
                } else {
                    records[records.count - 1].append(contentsOf: chunk)
                }
                node = current.pointee.next
            }
            guard !records.isEmpty else {
                return .failure(DNSError(aresStatus: ARES_ENODATA, query: query))
            }
            return .success(records.map { String(decoding: $0, as: UTF8.self) })
        }
        return try result.get()
    }
}
