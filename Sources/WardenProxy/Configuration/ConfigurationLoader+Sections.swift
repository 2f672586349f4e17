import Logging
import WardenPolicy

extension ConfigurationLoader {
    func loadServer() throws(ConfigurationError) -> ServerConfiguration {
        let table = try section(
            "server",
            keys: ["hostname", "max_sessions", "max_sessions_per_client", "shutdown_grace_seconds", "connection_rate_per_client"]
        )
        var server = ServerConfiguration(hostname: "")
        if let hostname = try table.string("hostname") {
            guard ConfigurationSyntax.isHostName(hostname) else {
                throw table.error("server.hostname must be a domain name, not \"\(hostname)\"", at: "hostname")
            }
            server.hostname = hostname
        } else {
            server.hostname = ServerConfiguration.machineHostname()
        }
        server.maxSessions = try table.int("max_sessions", minimum: 1) ?? server.maxSessions
        server.maxSessionsPerClient =
            try table.int("max_sessions_per_client", minimum: 1) ?? server.maxSessionsPerClient
        server.shutdownGraceSeconds = try table.int("shutdown_grace_seconds", minimum: 0) ?? server.shutdownGraceSeconds
        server.connectionRatePerClient = try table.int("connection_rate_per_client", minimum: 0) ?? 0
        return server
    }

    func loadTLS() throws(ConfigurationError) -> TLSFilesConfiguration {
        let table = try section("tls", keys: ["certificate", "key", "create_self_signed"])
        let (certificate, key) = try certificatePair(in: table)
        let createSelfSigned = try table.bool("create_self_signed") ?? false
        if createSelfSigned, certificate == nil {
            throw table.error("tls.create_self_signed needs tls.certificate and tls.key", at: "create_self_signed")
        }
        return TLSFilesConfiguration(certificate: certificate, key: key, createSelfSigned: createSelfSigned)
    }

    /// `certificate` and `key` of a table, resolved; both or neither must be set.
    func certificatePair(in table: ConfigurationTable) throws(ConfigurationError) -> (String?, String?) {
        let certificate = try table.optionalString("certificate")
        let key = try table.optionalString("key")
        switch (certificate, key) {
        case (let certificate?, let key?):
            return (source.resolve(certificate), source.resolve(key))
        case (nil, nil):
            return (nil, nil)
        case (_?, nil):
            throw table.error("\(table.name).certificate is set but \(table.name).key is not", at: "certificate")
        case (nil, _?):
            throw table.error("\(table.name).key is set but \(table.name).certificate is not", at: "key")
        }
    }

    func loadLimits() throws(ConfigurationError) -> LimitsConfiguration {
        let table = try section(
            "limits",
            keys: [
                "line_length", "recipients", "message_size", "errors", "commands", "memory_spool", "spool_directory",
                "bare_line_endings",
            ]
        )
        var limits = LimitsConfiguration()
        limits.lineLength =
            try table.int("line_length", minimum: 512, reason: "RFC 5321 4.5.3.1.4") ?? limits.lineLength
        limits.recipients = try table.int("recipients", minimum: 1) ?? limits.recipients
        limits.messageSize = try table.int("message_size", minimum: 1) ?? limits.messageSize
        limits.errors = try table.int("errors", minimum: 1) ?? limits.errors
        limits.commands = try table.int("commands", minimum: 1) ?? limits.commands
        limits.memorySpool = try table.int("memory_spool", minimum: 1) ?? limits.memorySpool
        if let directory = try table.nonEmptyString("spool_directory") {
            limits.spoolDirectory = source.resolve(directory)
        }
        limits.bareLineEndings = try table.choice("bare_line_endings", of: BareLineEndingSetting.self) ?? .reject
        return limits
    }

    func loadTimeouts() throws(ConfigurationError) -> TimeoutsConfiguration {
        let table = try section("timeouts", keys: ["greeting_seconds", "command_seconds", "data_seconds"])
        var timeouts = TimeoutsConfiguration()
        timeouts.greetingSeconds = try table.int("greeting_seconds", minimum: 1) ?? timeouts.greetingSeconds
        timeouts.commandSeconds = try table.int("command_seconds", minimum: 1) ?? timeouts.commandSeconds
        timeouts.dataSeconds = try table.int("data_seconds", minimum: 1) ?? timeouts.dataSeconds
        return timeouts
    }

    func loadRelay() throws(ConfigurationError) -> RelayConfiguration {
        let table = try section("relay", keys: ["accepted_domains", "trusted_networks"])
        var domains: [String] = []
        for written in try table.stringArray("accepted_domains") ?? [] {
            var domain = written.lowercased()
            if domain.hasSuffix(".") { domain.removeLast() }
            guard ConfigurationSyntax.isHostName(domain) else {
                throw table.error(
                    "relay.accepted_domains: \"\(written)\" is not a domain name",
                    at: "accepted_domains",
                    element: written
                )
            }
            domains.append(domain)
        }
        let networks = try networks(table, "trusted_networks") ?? []
        return RelayConfiguration(acceptedDomains: domains, trustedNetworks: networks)
    }

    /// A list of networks, each checked the way ``Network`` will parse it when matching.
    func networks(_ table: ConfigurationTable, _ key: String) throws(ConfigurationError) -> [String]? {
        guard let entries = try table.stringArray(key) else { return nil }
        for entry in entries where Network(entry) == nil {
            throw table.error(
                "\(table.keyName(key)): \"\(entry)\" is not an IP address or a CIDR network with zero host bits",
                at: key,
                element: entry
            )
        }
        return entries
    }

    func loadLog() throws(ConfigurationError) -> LogConfiguration {
        let table = try section("log", keys: ["format", "level"])
        return LogConfiguration(
            format: try table.choice("format", of: LogFormat.self) ?? .logfmt,
            level: try table.choice("level", of: Logger.Level.self) ?? .info
        )
    }

    func loadMetrics() throws(ConfigurationError) -> MetricsConfiguration {
        let table = try section("metrics", keys: ["address"])
        guard let address = try table.optionalString("address") else { return MetricsConfiguration() }
        guard ConfigurationSyntax.hostAndPort(address) != nil else {
            throw table.error("metrics.address must be HOST:PORT, not \"\(address)\"", at: "address")
        }
        return MetricsConfiguration(address: address)
    }

    func loadPolicy() throws(ConfigurationError) -> PolicyPathsConfiguration {
        let table = try section("policy", keys: ["rules", "blocklists"])
        return PolicyPathsConfiguration(
            rules: source.resolve(try table.nonEmptyString("rules") ?? PolicyPathsConfiguration.defaultRules),
            blocklists: source.resolve(
                try table.nonEmptyString("blocklists") ?? PolicyPathsConfiguration.defaultBlocklists
            )
        )
    }
}
