import Foundation
import MaxMindDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The databases in `Fixtures/`, made by `Fixtures/make_fixtures.py` (its docstring lists every
/// network in them).
enum Fixture {
    static let buildEpoch: UInt64 = 1_767_225_600

    static func path(_ name: String) -> String {
        guard
            let url = Bundle.module.url(
                forResource: name, withExtension: "mmdb", subdirectory: "Fixtures")
        else {
            fatalError("fixture \(name).mmdb is missing from the test bundle")
        }
        return url.path
    }

    static func open(_ name: String) throws -> MaxMindDatabase {
        try MaxMindDatabase(path: path(name))
    }
}

/// The bytes of an IPv4 or IPv6 address in its text form, so tests read like the fixture list.
func ip(_ text: String) -> [UInt8] {
    var v4 = in_addr()
    if inet_pton(AF_INET, text, &v4) == 1 {
        return withUnsafeBytes(of: &v4) { Array($0) }
    }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, text, &v6) == 1 {
        return withUnsafeBytes(of: &v6) { Array($0) }
    }
    fatalError("not an IP address: \(text)")
}
