import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSMTP
import NIOSSL
import WardenPolicy

/// What a session reads from the running configuration, taken as one snapshot when it starts;
/// a reload swaps the snapshot for sessions that start afterwards.
public struct RuntimeSettings: Sendable {
    public var configuration: WardenConfiguration
    public var policy: Policy
    public var upstream: any Upstream

    public init(configuration: WardenConfiguration, policy: Policy, upstream: any Upstream) {
        self.configuration = configuration
        self.policy = policy
        self.upstream = upstream
    }
}

/// The state all sessions share: settings (reloadable), the registry, metrics and the logger.
public final class ProxyRuntime: Sendable {
    private let current: NIOLockedValueBox<RuntimeSettings>
    public let registry = SessionRegistry()
    public let metrics: WardenMetrics
    public let logger: Logger
    public let policyState: PolicyState

    public init(settings: RuntimeSettings, metrics: WardenMetrics, logger: Logger, policyState: PolicyState = PolicyState(configuration: WardenConfiguration(listeners: [], upstream: UpstreamConfiguration(target: .maildir(path: "/nonexistent"))))) {
        self.current = NIOLockedValueBox(settings)
        self.metrics = metrics
        self.logger = logger
        self.policyState = policyState
    }

    public var settings: RuntimeSettings {
        get { current.withLockedValue { $0 } }
        set { current.withLockedValue { $0 = newValue } }
    }
}

/// One listener's fixed parts: its configuration and its TLS context.
public struct ListenerContext: Sendable {
    public var configuration: ListenerConfiguration
    public var tls: NIOSSLContext?

    public init(configuration: ListenerConfiguration, tls: NIOSSLContext?) {
        self.configuration = configuration
        self.tls = tls
    }

    func serverConfiguration(_ settings: WardenConfiguration) -> SMTPServerConfiguration {
        SMTPServerConfiguration(
            hostname: settings.server.hostname,
            maxRecipients: settings.limits.recipients,
            maxMessageSize: settings.limits.messageSize,
            maxErrors: settings.limits.errors,
            maxCommands: settings.limits.commands,
            startTLSAvailable: tls != nil && configuration.starttls && configuration.kind != .smtps,
            authAvailable: configuration.auth,
            authBeforeTLS: configuration.authBeforeTLS,
            implicitTLS: configuration.kind == .smtps
        )
    }
}
