import CMaxMindDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Owns one opened `MMDB_s` and closes it when the last reference goes.
///
/// Swift 6 does not let a pointer into C memory live in a `Sendable` value, so the C object is kept
/// here. Sharing it is safe: once `MMDB_open` returns, libmaxminddb only reads the struct (its
/// lookup functions take `const MMDB_s *`, and the IPv4 start node is computed inside `MMDB_open`),
/// and the mapped file is never written.
final class MMDBHandle: @unchecked Sendable {
    /// Heap-allocated because every `MMDB_entry_s` returned by a lookup points back at it.
    let mmdb: UnsafeMutablePointer<MMDB_s>

    init(path: String) throws(MaxMindDBError) {
        let mmdb = UnsafeMutablePointer<MMDB_s>.allocate(capacity: 1)
        mmdb.initialize(to: MMDB_s())
        let status = MMDB_open(path, UInt32(MMDB_MODE_MMAP), mmdb)
        let openErrno = errno
        guard status == MMDB_SUCCESS else {
            // MMDB_open frees what it allocated before failing; MMDB_close must not run.
            mmdb.deallocate()
            var message = Self.message(for: status)
            if status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR {
                message += " (\(String(cString: strerror(openErrno))))"
            }
            throw MaxMindDBError(code: .openFailed, path: path, message: message)
        }
        self.mmdb = mmdb
    }

    deinit {
        MMDB_close(mmdb)
        mmdb.deallocate()
    }

    var databaseType: String {
        mmdb.pointee.metadata.database_type.map { String(cString: $0) } ?? ""
    }

    var buildEpoch: UInt64 {
        mmdb.pointee.metadata.build_epoch
    }

    var ipVersion: Int {
        Int(mmdb.pointee.metadata.ip_version)
    }

    static func message(for status: Int32) -> String {
        guard let text = MMDB_strerror(status) else {
            return "libmaxminddb error \(status)"
        }
        return String(cString: text)
    }
}
