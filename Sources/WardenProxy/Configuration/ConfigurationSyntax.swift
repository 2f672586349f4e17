#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text forms that configuration values must have: addresses, host names, `HOST:PORT`, paths.
enum ConfigurationSyntax {
    /// An IPv4 dotted quad or an IPv6 literal (RFC 4291 2.2) without brackets or zone.
    static func isIPLiteral(_ text: String) -> Bool {
        if text.contains(":") {
            var raw = in6_addr()
            return inet_pton(AF_INET6, text, &raw) == 1
        }
        var raw = in_addr()
        return inet_pton(AF_INET, text, &raw) == 1
    }

    /// A DNS host name (RFC 1123 2.1): dot-separated labels of letters, digits and inner
    /// hyphens, 1-63 octets each, 253 in all. A name of digits and dots only must be an IPv4
    /// address, so `999.1.1.1` is refused.
    static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-" else { return false }
            guard
                label.unicodeScalars.allSatisfy({
                    $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-")
                })
            else { return false }
        }
        if labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) { return isIPLiteral(text) }
        return true
    }

    /// Splits `HOST:PORT` or `[IPv6]:PORT`. Returns nil when the form is wrong; the host is
    /// checked to be a host name or an IP literal, and the port to be digits in 0...65535.
    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard host.contains(":"), isIPLiteral(String(host)) else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard isHostName(String(host)) || isIPLiteral(String(host)), !host.contains(":") else { return nil }
        }
        guard let port = parsePort(portText) else { return nil }
        return (String(host), port)
    }

    static func parsePort(_ text: Substring) -> Int? {
        guard (1...5).contains(text.count), text.allSatisfy({ ("0"..."9").contains($0) }), let port = Int(text),
            port <= 65535
        else { return nil }
        return port
    }

    /// `path` made absolute against `directory` and cleaned of `.`, `..` and repeated slashes,
    /// without touching the file system (the file need not exist yet).
    static func absolutePath(_ path: String, relativeTo directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : directory + "/" + path
        var components: [Substring] = []
        for component in joined.split(separator: "/") {
            switch component {
            case ".": continue
            case "..": if !components.isEmpty { components.removeLast() }
            default: components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }

    /// The directory part of an absolute path.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// The process's working directory.
    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
