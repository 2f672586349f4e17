#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an address list did not load, as `FILE:LINE: reason` (or `FILE: reason` when the file
/// itself could not be read), e.g.
/// `Blocklists/drop.txt:12: 10.0.0.1/8 is not an address or CIDR (host bits set)`.
public struct AddressListError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var message: String

    public init(path: String, line: Int?, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)"
    }
}

/// Reads address list files. The format, kept strict so that a typo stops the load instead of
/// silently listing less (or more) than meant:
///
///     # Blocklists/drop.txt
///     192.0.2.0/24        # one IPv4 or IPv6 address or CIDR per line
///     198.51.100.7
///     2001:db8::/32
///
/// Leading and trailing whitespace is ignored, `#` starts a comment that runs to the end of the
/// line, blank lines are skipped, and duplicates are allowed. Anything after the entry other than
/// a comment is an error, as is a CIDR with host bits set (`10.0.0.1/8`). The first bad line stops
/// the load and is reported.
public enum AddressListLoader {
    /// The largest file read (64 MiB, about three million entries), so that a path pointing at a
    /// device or a runaway file fails instead of filling memory.
    public static let maximumFileSize = 64 << 20
    /// How much of a bad entry is quoted in a message.
    static let maximumQuotedLength = 80

    /// Reads and parses the file at `path`. Messages name `displayName` (e.g.
    /// `Blocklists/drop.txt`) when given, else `path`; the list's `path` is `path`.
    public static func load(
        path: String,
        displayName: String? = nil,
        maximumFileSize: Int = AddressListLoader.maximumFileSize
    ) throws(AddressListError) -> AddressList {
        let shown = displayName ?? path
        let bytes = try readFile(path, shown: shown, limit: maximumFileSize)
        let entries = bytes.withUnsafeBufferPointer { scan($0, shown: shown) }
        return AddressList(path: path, entries: try entries.get())
    }

    /// Parses list text; `path` names the list and its messages.
    public static func parse(_ text: String, path: String) throws(AddressListError) -> AddressList {
        var text = text
        let entries = text.withUTF8 { scan($0, shown: path) }
        return AddressList(path: path, entries: try entries.get())
    }

    private static func readFile(_ path: String, shown: String, limit: Int) throws(AddressListError) -> [UInt8] {
        func failure(_ reason: String) -> AddressListError {
            AddressListError(path: shown, line: nil, message: "cannot read the file (\(reason))")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw failure(String(cString: strerror(errno)))
            }
            if got == 0 { return bytes }
            guard bytes.count + got <= limit else { throw failure("larger than \(limit) bytes") }
            bytes.append(contentsOf: chunk[0..<got])
        }
    }

    /// Cuts UTF-8 text into lines and each line into its entry; stops at the first bad line.
    private static func scan(_ text: UnsafeBufferPointer<UInt8>, shown: String) -> Result<[(Network, Int)], AddressListError> {
        var entries: [(Network, Int)] = []
        var lineNumber = 0
        var position = text.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0  // a byte order mark
        while position < text.count {
            lineNumber += 1
            var end = position
            while end < text.count, text[end] != UInt8(ascii: "\n") { end += 1 }
            var contentEnd = position
            while contentEnd < end, text[contentEnd] != UInt8(ascii: "#") { contentEnd += 1 }
            var tokenStart = position
            while tokenStart < contentEnd, isSpace(text[tokenStart]) { tokenStart += 1 }
            var tokenEnd = tokenStart
            while tokenEnd < contentEnd, !isSpace(text[tokenEnd]) { tokenEnd += 1 }
            var restStart = tokenEnd
            while restStart < contentEnd, isSpace(text[restStart]) { restStart += 1 }
            var restEnd = contentEnd
            while restEnd > restStart, isSpace(text[restEnd - 1]) { restEnd -= 1 }
            position = end + 1
            guard tokenStart < tokenEnd else { continue }

            let token = string(text, tokenStart..<tokenEnd)
            func failure(_ message: String) -> Result<[(Network, Int)], AddressListError> {
                .failure(AddressListError(path: shown, line: lineNumber, message: message))
            }
            guard restStart == restEnd else {
                let rest = string(text, restStart..<restEnd)
                return failure(
                    "\(quoted(token)) is followed by \"\(quoted(rest))\" (one address or CIDR per line; comments start with #)"
                )
            }
            guard let network = Network(token) else {
                return failure("\(quoted(token)) is not an address or CIDR (\(reason(token)))")
            }
            entries.append((network, lineNumber))
        }
        return .success(entries)
    }

    /// Says what is wrong with an entry `Network` refused, following its rules.
    static func reason(_ token: String) -> String {
        let parts = token.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])), parts.count == 2 else {
            return "not an IPv4 or IPv6 address"
        }
        let text = parts[1]
        guard !text.isEmpty else { return "missing prefix length" }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(text) else {
            return "prefix length \"\(quoted(String(text)))\" is not a number"
        }
        // Network reads ::ffff:a.b.c.d/n as the IPv4 block a.b.c.d/(n-96).
        let range = address.isIPv4 ? (parts[0].contains(":") ? 96...128 : 0...32) : 0...128
        guard range.contains(length) else {
            return "prefix length \(length) out of range \(range.lowerBound)-\(range.upperBound)"
        }
        return "host bits set"
    }

    /// Whitespace around an entry: space, tab, CR (for CRLF files), vertical tab, form feed.
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private static func string(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: text[range]), as: UTF8.self)
    }

    /// Text from the file made safe to print: control characters become `?`, and long text is
    /// cut short.
    private static func quoted(_ text: String) -> String {
        var shown = String(text.unicodeScalars.prefix(maximumQuotedLength).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        if text.unicodeScalars.count > maximumQuotedLength { shown += "…" }
        return shown
    }
}
