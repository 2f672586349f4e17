/// The `[metrics]` table.
public struct MetricsConfiguration: Sendable, Equatable {
    /// `HOST:PORT` (`[v6]:PORT` for IPv6) that serves `/metrics` and `/healthz`; nil disables them.
    public var address: String?

    public init(address: String? = nil) {
        self.address = address
    }
}
