/// A MaxMind DB file could not be opened or read, or an address could not be looked up in it.
///
/// `description` names the file and carries libmaxminddb's own message, for example
/// `MaxMind DB /var/lib/GeoIP/GeoLite2-ASN.mmdb: Error opening the specified MaxMind DB file
/// (No such file or directory)`.
public struct MaxMindDBError: Error, CustomStringConvertible, Sendable {
    /// What failed, for code that reacts differently to, say, a missing file and a corrupt one.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case openFailed
            case lookupFailed
            case invalidData
            case invalidAddress
        }

        private var base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// `MMDB_open` failed: the file is missing, unreadable or not a MaxMind DB.
        public static let openFailed = Code(.openFailed)
        /// The search tree could not be walked for this address (a corrupt file).
        public static let lookupFailed = Code(.lookupFailed)
        /// A matched record could not be decoded (a corrupt data section).
        public static let invalidData = Code(.invalidData)
        /// The address was neither 4 nor 16 bytes long.
        public static let invalidAddress = Code(.invalidAddress)

        public var description: String {
            switch base {
            case .openFailed: "openFailed"
            case .lookupFailed: "lookupFailed"
            case .invalidData: "invalidData"
            case .invalidAddress: "invalidAddress"
            }
        }
    }

    public var code: Code
    /// The database file, as given to `MaxMindDatabase.init(path:)`.
    public var path: String
    /// What went wrong, usually `MMDB_strerror`'s text.
    public var message: String

    public init(code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String {
        "MaxMind DB \(path): \(message)"
    }
}
