import CMaxMindDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One MaxMind DB file (GeoLite2, GeoIP2 or DB-IP lite; Country, City or ASN), memory-mapped.
///
/// Lookups read the fields Warden uses from the layouts these vendors share:
/// `country.iso_code` (else `registered_country.iso_code`), `continent.code`,
/// `autonomous_system_number` and `autonomous_system_organization`. A field missing from the
/// record, or of an unexpected type, is `nil`.
///
/// Safe to share between threads and event loops. The file is mapped once; replacing it on disk
/// does not affect an open database, so reload by opening a new one.
public final class MaxMindDatabase: Sendable {
    /// The file, as given to `init(path:)`.
    public let path: String
    /// The metadata's `database_type`, such as `GeoLite2-Country` or `DBIP-ASN-Lite`.
    public let databaseType: String
    /// The metadata's `build_epoch`: when the file was built, in seconds since 1970.
    public let buildEpoch: UInt64
    /// 4 for a tree with IPv4 only (IPv6 addresses are then never found), 6 otherwise.
    public let ipVersion: Int

    private let handle: MMDBHandle

    /// Opens and maps the file; its search tree is read on each lookup.
    ///
    /// - Throws: `MaxMindDBError` with code `.openFailed` when the file is missing, unreadable or
    ///   not a MaxMind DB; its message is libmaxminddb's, with the system error where there is one.
    public init(path: String) throws(MaxMindDBError) {
        let handle = try MMDBHandle(path: path)
        self.handle = handle
        self.path = path
        self.databaseType = handle.databaseType
        self.buildEpoch = handle.buildEpoch
        self.ipVersion = handle.ipVersion
    }

    /// The record for an address given in network byte order: 4 bytes for IPv4, 16 for IPv6.
    ///
    /// An IPv4 address is looked up where the database keeps IPv4 (`::/96` in an IPv6 tree) and
    /// gets an IPv4 `network`; so does an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`).
    ///
    /// - Returns: `nil` when no network in the file contains the address.
    /// - Throws: `MaxMindDBError` with `.invalidAddress` for any other length, `.lookupFailed` or
    ///   `.invalidData` when the file turns out to be corrupt.
    public func lookup(_ address: [UInt8]) throws(MaxMindDBError) -> GeoRecord? {
        try match(address)?.record
    }

    /// A found record and the prefix length of its network, which `GeoDatabases` compares.
    struct Match {
        var record: GeoRecord
        var prefixLength: Int
    }

    func match(_ address: [UInt8]) throws(MaxMindDBError) -> Match? {
        guard let ip = IPAddressBytes(address) else {
            throw MaxMindDBError(
                code: .invalidAddress,
                path: path,
                message: "an address is 4 or 16 bytes, not \(address.count)"
            )
        }
        var status: Int32 = MMDB_SUCCESS
        let result: MMDB_lookup_result_s
        let bytes: [UInt8]
        let prefixLength: Int
        switch ip {
        case .v4(let v4):
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            withUnsafeMutableBytes(of: &socketAddress.sin_addr) { $0.copyBytes(from: v4) }
            result = withUnsafePointer(to: socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    MMDB_lookup_sockaddr(handle.mmdb, $0, &status)
                }
            }
            bytes = v4
            // An IPv6 tree keeps IPv4 under ::/96, so a /24 comes back as netmask 120. A record
            // covering more than ::/96 leaves fewer bits: then the whole IPv4 space matched.
            let treeBits = ipVersion == 6 ? 96 : 0
            prefixLength = max(Int(result.netmask) - treeBits, 0)
        case .v6(let v6):
            guard ipVersion == 6 else {
                return nil
            }
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { $0.copyBytes(from: v6) }
            result = withUnsafePointer(to: socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    MMDB_lookup_sockaddr(handle.mmdb, $0, &status)
                }
            }
            bytes = v6
            prefixLength = Int(result.netmask)
        }
        guard status == MMDB_SUCCESS else {
            throw MaxMindDBError(
                code: .lookupFailed, path: path, message: MMDBHandle.message(for: status))
        }
        guard result.found_entry else {
            return nil
        }
        var entry = result.entry
        // Not `??`: its autoclosure would turn the typed throw into `any Error`.
        var country = try string(in: &entry, at: ["country", "iso_code"])
        if country == nil {
            country = try string(in: &entry, at: ["registered_country", "iso_code"])
        }
        let record = GeoRecord(
            country: country,
            continent: try string(in: &entry, at: ["continent", "code"]),
            asn: try integer(in: &entry, at: ["autonomous_system_number"]),
            asOrganization: try string(in: &entry, at: ["autonomous_system_organization"]),
            network: IPAddressBytes.network(bytes, prefixLength: prefixLength)
        )
        return Match(record: record, prefixLength: prefixLength)
    }

    /// A non-empty string at `path`; `nil` when absent, empty or not a string.
    private func string(in entry: inout MMDB_entry_s, at path: [String]) throws(MaxMindDBError)
        -> String?
    {
        guard let data = try value(in: &entry, at: path),
            data.type == UInt32(MMDB_DATA_TYPE_UTF8_STRING),
            data.data_size > 0,
            let start = data.utf8_string
        else {
            return nil
        }
        // Not NUL-terminated: the string ends after data_size bytes.
        let bytes = UnsafeRawBufferPointer(start: start, count: Int(data.data_size))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An integer at `path` of any integer type that fits an `Int`; `nil` otherwise.
    private func integer(in entry: inout MMDB_entry_s, at path: [String]) throws(MaxMindDBError)
        -> Int?
    {
        guard let data = try value(in: &entry, at: path) else {
            return nil
        }
        switch Int32(data.type) {
        case MMDB_DATA_TYPE_UINT16: return Int(data.uint16)
        case MMDB_DATA_TYPE_UINT32: return Int(data.uint32)
        case MMDB_DATA_TYPE_INT32: return Int(data.int32)
        case MMDB_DATA_TYPE_UINT64: return Int(exactly: data.uint64)
        default: return nil
        }
    }

    private func value(in entry: inout MMDB_entry_s, at path: [String]) throws(MaxMindDBError)
        -> MMDB_entry_data_s?
    {
        var data = MMDB_entry_data_s()
        // MMDB_get_value is variadic and cannot be called from Swift; MMDB_aget_value takes the
        // path as a NULL-terminated array instead.
        let status = withCStringArray(path) { MMDB_aget_value(&entry, &data, $0) }
        switch status {
        case MMDB_SUCCESS:
            return data.has_data ? data : nil
        case MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR:
            // A layout other than the one expected (a string where a map should be): not corrupt.
            return nil
        default:
            throw MaxMindDBError(
                code: .invalidData,
                path: self.path,
                message: "\(path.joined(separator: ".")): \(MMDBHandle.message(for: status))"
            )
        }
    }
}

/// Calls `body` with the strings as a NULL-terminated array of C strings, valid only inside it.
private func withCStringArray<Result>(
    _ strings: [String],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result
) -> Result {
    func withPointers(from index: Int, _ pointers: inout [UnsafePointer<CChar>?]) -> Result {
        guard index < strings.count else {
            pointers.append(nil)
            return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
        }
        return strings[index].withCString { pointer in
            pointers.append(pointer)
            return withPointers(from: index + 1, &pointers)
        }
    }
    var pointers: [UnsafePointer<CChar>?] = []
    pointers.reserveCapacity(strings.count + 1)
    return withPointers(from: 0, &pointers)
}
