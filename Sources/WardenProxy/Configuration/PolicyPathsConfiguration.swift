/// The `[policy]` table: where the policy that is not about the machine lives.
public struct PolicyPathsConfiguration: Sendable, Equatable {
    public static let defaultRules = "Rules"
    public static let defaultBlocklists = "Blocklists"

    /// Absolute path of the directory of `*.cf` rule files.
    public var rules: String
    /// Absolute path of the directory of address lists.
    public var blocklists: String

    /// The loader passes absolute paths; the defaults here are relative to the working directory.
    public init(
        rules: String = PolicyPathsConfiguration.defaultRules,
        blocklists: String = PolicyPathsConfiguration.defaultBlocklists
    ) {
        self.rules = rules
        self.blocklists = blocklists
    }
}
