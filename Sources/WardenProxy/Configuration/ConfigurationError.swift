/// A problem with `warden.toml`, reported the way compilers do: `FILE:LINE: message`.
///
/// `line` is the line of the key or table at fault when it is written in the file, and nil for
/// problems of the file as a whole (it cannot be read, a required table is missing).
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The configuration file as it was named to Warden.
    public var file: String
    /// 1-based line of the offending key or table, when there is one.
    public var line: Int?
    /// What is wrong, naming the key as `table.key` (`upstream.tls must be one of off, ...`).
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `warden.toml:12: upstream.tls must be one of off, opportunistic, required`, or
    /// `warden.toml: message` when there is no line.
    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
