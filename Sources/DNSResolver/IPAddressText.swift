import CCAres
import Glibc

/// Textual addresses to bytes, strictly (glibc `inet_pton`: "1.2.3" is no IPv4 address, where c-ares' own `ares_inet_pton` takes it).
enum IPAddressText {
    enum Family {
        case v4, v6
    }

    static func parse(_ text: String, family: Family) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: family == .v4 ? 4 : 16)
        let result = bytes.withUnsafeMutableBytes { buffer in
            inet_pton(family == .v4 ? AF_INET : AF_INET6, text, buffer.baseAddress)
        }
        return result == 1 ? bytes : nil
    }
}
