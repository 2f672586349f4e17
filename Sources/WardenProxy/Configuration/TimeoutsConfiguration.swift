/// The `[timeouts]` table: deadlines Warden gives its clients, in seconds. Each is a deadline
/// for a whole step, not an idle timer, so a client trickling one byte at a time gains nothing.
public struct TimeoutsConfiguration: Sendable, Equatable {
    /// From connect to the first EHLO or HELO.
    public static let defaultGreetingSeconds = 30
    /// RFC 5321 4.5.3.2.7: the server's timeout for the next command.
    public static let defaultCommandSeconds = 300
    /// RFC 5321 4.5.3.2.5-6: the whole message after `354`.
    public static let defaultDataSeconds = 600

    public var greetingSeconds: Int
    /// Each whole command line.
    public var commandSeconds: Int
    public var dataSeconds: Int

    public init(
        greetingSeconds: Int = TimeoutsConfiguration.defaultGreetingSeconds,
        commandSeconds: Int = TimeoutsConfiguration.defaultCommandSeconds,
        dataSeconds: Int = TimeoutsConfiguration.defaultDataSeconds
    ) {
        self.greetingSeconds = greetingSeconds
        self.commandSeconds = commandSeconds
        self.dataSeconds = dataSeconds
    }
}
