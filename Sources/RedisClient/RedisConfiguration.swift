/// Where Redis is and how patient to be with it.
public struct RedisConfiguration: Sendable, Hashable {
    public static let defaultPort = 6379
    public static let defaultConnectTimeout = Duration.seconds(1)
    public static let defaultCommandTimeout = Duration.seconds(1)
    /// No connect attempt sooner than this after a failed one.
    public static let defaultReconnectDelay = Duration.seconds(1)
    /// Each further consecutive failure doubles the delay, up to this.
    public static let defaultMaximumReconnectDelay = Duration.seconds(4)

    public var host: String
    public var port: Int
    public var connectTimeout: Duration
    public var commandTimeout: Duration
    public var reconnectDelay: Duration
    public var maximumReconnectDelay: Duration
    public var maximumPendingCommands: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = Self.defaultPort,
        connectTimeout: Duration = Self.defaultConnectTimeout,
        commandTimeout: Duration = Self.defaultCommandTimeout,
        reconnectDelay: Duration = Self.defaultReconnectDelay,
        maximumReconnectDelay: Duration = Self.defaultMaximumReconnectDelay,
        maximumPendingCommands: Int = RedisConnection.defaultMaximumPendingCommands
    ) {
        self.host = host
        self.port = port
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectDelay = reconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
        self.maximumPendingCommands = maximumPendingCommands
    }
}
