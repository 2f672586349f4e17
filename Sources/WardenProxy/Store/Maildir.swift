import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded upstream of the default configuration (`maildir:` in DESIGN 6): each accepted
/// message becomes one file in a Maildir (https://cr.yp.to/proto/maildir.html).
///
/// A delivery writes `tmp/NAME`, syncs it, renames it to `new/NAME` and syncs `new/`; only
/// then does it return, and only then may the client hear `250`. `NAME` is
/// `SECONDS.M<microseconds>P<pid>Q<counter>.HOST`, the counter counting deliveries in this
/// process, so concurrent deliveries never share a name.
///
/// The file holds, with LF line ends as Maildir readers expect:
///
/// ```
/// Return-Path: <sender@example.org>
/// X-Original-To: rcpt1@example.com
/// X-Original-To: rcpt2@example.com
/// Received: from client.example ([192.0.2.1]) by mx.example.com with ESMTP; Tue, 14 Nov 2023 22:13:20 +0000
/// <the message as spooled, each CRLF written as LF; a bare CR or LF is kept as it is>
/// ```
///
/// `X-Original-To` (one per envelope recipient, without angle brackets) is Postfix's header for
/// the same purpose, so tools that read Postfix maildirs read these. Control characters in the
/// envelope values are written as `?`, so a client cannot add header lines through them.
///
/// Every call blocks on the disk (two `fsync`s): call ``deliver(sender:recipients:clientAddress:heloName:message:receivedBy:protocolName:)``
/// from a thread pool, not from an event loop.
public struct MaildirStore: Sendable {
    /// Seconds and microseconds since the epoch; injected so tests control names and dates.
    public typealias Clock = @Sendable () -> (seconds: Int, microseconds: Int)

    public let root: String
    /// The host part of file names, with `/` and `:` escaped as the Maildir spec says.
    public let hostName: String
    private let clock: Clock

    /// Opens the Maildir at `root`, creating `root`, `tmp`, `new` and `cur` (mode 0700) where
    /// they are missing. Throws ``StoreError`` when one cannot be created.
    public init(root: String, hostName: String? = nil, clock: @escaping Clock = MaildirStore.systemClock) throws {
        guard !root.isEmpty else {
            throw StoreError(.createDirectory, path: root, errno: ENOENT, detail: "empty maildir path")
        }
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
        self.hostName = Self.escapeHostName(hostName ?? Self.systemHostName())
        self.clock = clock
        var prefix = root.hasPrefix("/") ? "" : "."
        for component in root.split(separator: "/") {
            prefix += "/" + component
            try POSIXFile.makeDirectory(prefix, mode: 0o700)
        }
        for sub in ["tmp", "new", "cur"] {
            try POSIXFile.makeDirectory("\(root)/\(sub)", mode: 0o700)
        }
    }

    /// Stores one message and returns the path of its file in `new/`.
    ///
    /// Throws ``StoreError`` (and then leaves no file behind, neither in `tmp/` nor in `new/`)
    /// or an error from reading `message`.
    ///
    /// - Parameters:
    ///   - sender: the `MAIL FROM` address without brackets; empty for the null sender.
    ///   - clientAddress: the client's IP address, written in brackets.
    ///   - receivedBy: this server's name for the `Received:` line.
    ///   - protocolName: `ESMTP`, or `ESMTPS`/`ESMTPA`/`ESMTPSA` (RFC 3848).
    public func deliver(
        sender: String,
        recipients: [String],
        clientAddress: String,
        heloName: String,
        message: MessageSpool,
        receivedBy: String,
        protocolName: String = "ESMTP"
    ) throws -> String {
        let now = self.clock()
        var header = ByteBuffer()
        header.writeString("Return-Path: <\(Self.clean(sender))>\n")
        for recipient in recipients {
            header.writeString("X-Original-To: \(Self.clean(recipient))\n")
        }
        header.writeString(
            "Received: from \(Self.clean(heloName)) ([\(Self.clean(clientAddress))]) by \(Self.clean(receivedBy))"
                + " with \(Self.clean(protocolName)); \(Self.rfc5322Date(now.seconds))\n"
        )

        let (fd, name) = try self.createUnique(now)
        let tmpPath = "\(self.root)/tmp/\(name)"
        let newPath = "\(self.root)/new/\(name)"
        var isOpen = true
        do {
            try header.withUnsafeReadableBytes { raw throws(StoreError) in try POSIXFile.write(fd, raw, path: tmpPath) }
            var converter = LineEndConverter()
            var out = ByteBuffer()
            try message.forEachChunk { chunk in
                out.clear()
                converter.convert(chunk, into: &out)
                try out.withUnsafeReadableBytes { raw throws(StoreError) in try POSIXFile.write(fd, raw, path: tmpPath) }
            }
            out.clear()
            converter.finish(into: &out)
            try out.withUnsafeReadableBytes { raw throws(StoreError) in try POSIXFile.write(fd, raw, path: tmpPath) }
            try POSIXFile.sync(fd, path: tmpPath)
            isOpen = false
            try POSIXFile.close(fd, path: tmpPath)
            guard rename(tmpPath, newPath) == 0 else {
                throw StoreError(.rename, path: newPath, errno: errno)
            }
        } catch {
            if isOpen { _ = try? POSIXFile.close(fd, path: tmpPath) }
            unlink(tmpPath)
            throw error
        }
        do {
            try POSIXFile.syncDirectory("\(self.root)/new")
        } catch {
            // Not known to be on disk: the client will retry, so do not keep a copy it would duplicate.
            unlink(newPath)
            throw error
        }
        return newPath
    }

    /// Creates `tmp/NAME` exclusively; a name taken already (another process with our pid
    /// sharing the directory) moves on to the next counter value.
    private func createUnique(_ now: (seconds: Int, microseconds: Int)) throws(StoreError) -> (Int32, String) {
        var attempt = 0
        while true {
            let counter = deliveryCounter.add(1, ordering: .relaxed).newValue
            let name = "\(now.seconds).M\(now.microseconds)P\(getpid())Q\(counter).\(self.hostName)"
            do {
                return (try POSIXFile.createExclusive("\(self.root)/tmp/\(name)"), name)
            } catch where error.systemError == EEXIST && attempt < 8 {
                attempt += 1
            }
        }
    }

    public static let systemClock: Clock = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (Int(now.tv_sec), Int(now.tv_nsec) / 1000)
    }

    static func systemHostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static func escapeHostName(_ name: String) -> String {
        var escaped = ""
        for character in name.unicodeScalars {
            switch character {
            case "/": escaped += "\\057"
            case ":": escaped += "\\072"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// `value` with every control character replaced by `?`.
    static func clean(_ value: String) -> String {
        guard value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return value }
        return String(String.UnicodeScalarView(value.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
    }

    /// RFC 5322 section 3.3 date-time in UTC, e.g. `Tue, 14 Nov 2023 22:13:20 +0000`.
    static func rfc5322Date(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(parts.tm_mday) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}

/// Counts deliveries in this process, for unique file names.
private let deliveryCounter = Atomic<Int>(0)

/// Turns each CRLF into LF across chunk boundaries; every other byte passes unchanged.
struct LineEndConverter {
    private var pendingCR = false

    mutating func convert(_ chunk: ByteBuffer, into out: inout ByteBuffer) {
        chunk.withUnsafeReadableBytes { bytes in
            guard !bytes.isEmpty else { return }
            var runStart = 0
            if self.pendingCR {
                self.pendingCR = false
                if bytes[0] != UInt8(ascii: "\n") { out.writeInteger(UInt8(ascii: "\r")) }
            }
            var index = 0
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "\r") {
                    if index + 1 == bytes.count {
                        out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                        self.pendingCR = true
                        return
                    }
                    if bytes[index + 1] == UInt8(ascii: "\n") {
                        out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                        runStart = index + 1
                    }
                }
                index += 1
            }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart...]))
        }
    }

    /// Writes a CR left over from the last chunk.
    mutating func finish(into out: inout ByteBuffer) {
        if self.pendingCR {
            out.writeInteger(UInt8(ascii: "\r"))
            self.pendingCR = false
        }
    }
}
