#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file-system operation of the message spool or the maildir store failed.
///
/// The message is not lost by such an error: the caller answers the client with a 4xx
/// (`451 4.3.0`), and the client keeps the message and retries.
public struct StoreError: Error, Hashable, CustomStringConvertible {
    /// What was being done when the error happened.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        public static let createDirectory = Code("createDirectory")
        public static let createFile = Code("createFile")
        public static let write = Code("write")
        public static let read = Code("read")
        public static let sync = Code("sync")
        public static let rename = Code("rename")

        public var description: String { self.name }
    }

    public let code: Code
    /// The file or directory involved; for the log, never for the client.
    let path: String
    /// The C `errno`, or 0 when the error did not come from a system call.
    let systemError: Int32
    let detail: String?

    init(_ code: Code, path: String, errno systemError: Int32, detail: String? = nil) {
        self.code = code
        self.path = path
        self.systemError = systemError
        self.detail = detail
    }

    public var description: String {
        var text = "StoreError.\(self.code) (\(self.path))"
        if self.systemError != 0 {
            text += ": " + String(cString: strerror(self.systemError))
        }
        if let detail = self.detail {
            text += ": " + detail
        }
        return text
    }
}
