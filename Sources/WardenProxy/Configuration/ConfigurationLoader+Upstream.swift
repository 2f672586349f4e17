extension ConfigurationLoader {
    static let upstreamKeys: Set<String> = [
        "url", "helo_name", "tls", "tls_verify", "tls_ca_file", "tls_server_name", "xclient", "proxy_protocol",
        "connect_timeout_seconds", "command_timeout_seconds", "data_timeout_seconds", "reuse_idle_seconds",
    ]

    func loadUpstream(server: ServerConfiguration) throws(ConfigurationError) -> UpstreamConfiguration {
        let table = try section("upstream", keys: Self.upstreamKeys)
        guard let url = try table.string("url") else { throw table.error("upstream.url is required") }
        var upstream = UpstreamConfiguration(target: try target(url, table), heloName: server.hostname)
        if let heloName = try table.optionalString("helo_name") {
            guard ConfigurationSyntax.isHostName(heloName) else {
                throw table.error("upstream.helo_name must be a domain name, not \"\(heloName)\"", at: "helo_name")
            }
            upstream.heloName = heloName
        }
        upstream.tls = try table.choice("tls", of: UpstreamTLSMode.self) ?? upstream.tls
        upstream.tlsVerify = try table.bool("tls_verify") ?? upstream.tlsVerify
        upstream.tlsCAFile = try table.optionalString("tls_ca_file").map(source.resolve)
        if let serverName = try table.optionalString("tls_server_name") {
            guard ConfigurationSyntax.isHostName(serverName) || ConfigurationSyntax.isIPLiteral(serverName) else {
                throw table.error(
                    "upstream.tls_server_name must be a host name, not \"\(serverName)\"",
                    at: "tls_server_name"
                )
            }
            upstream.tlsServerName = serverName
        }
        upstream.xclient = try table.bool("xclient") ?? upstream.xclient
        upstream.proxyProtocol =
            try table.choice("proxy_protocol", of: UpstreamProxyProtocol.self) ?? upstream.proxyProtocol
        upstream.connectTimeoutSeconds =
            try table.int("connect_timeout_seconds", minimum: 1) ?? upstream.connectTimeoutSeconds
        upstream.commandTimeoutSeconds =
            try table.int("command_timeout_seconds", minimum: 1) ?? upstream.commandTimeoutSeconds
        upstream.dataTimeoutSeconds = try table.int("data_timeout_seconds", minimum: 1) ?? upstream.dataTimeoutSeconds
        upstream.reuseIdleSeconds = try table.int("reuse_idle_seconds", minimum: 0) ?? upstream.reuseIdleSeconds
        return upstream
    }

    /// `maildir:PATH` or `smtp://HOST:PORT`, HOST a name, an IPv4 address or a bracketed IPv6 one.
    private func target(_ url: String, _ table: ConfigurationTable) throws(ConfigurationError) -> UpstreamTarget {
        let lowercased = url.lowercased()
        if lowercased.hasPrefix("maildir:") {
            let path = url.dropFirst("maildir:".count)
            guard !path.isEmpty else { throw table.error("upstream.url maildir: needs a path", at: "url") }
            return .maildir(path: source.resolve(String(path)))
        }
        guard lowercased.hasPrefix("smtp://") else {
            throw table.error("upstream.url must be maildir:PATH or smtp://HOST:PORT, not \"\(url)\"", at: "url")
        }
        let authority = String(url.dropFirst("smtp://".count))
        if let (host, port) = ConfigurationSyntax.hostAndPort(authority) {
            guard port > 0 else { throw table.error("upstream.url port must be between 1 and 65535", at: "url") }
            return .smtp(host: host, port: port)
        }
        let hasPort: Bool
        if authority.hasPrefix("[") {
            hasPort = authority.contains("]:")
        } else {
            hasPort = authority.contains(":")
        }
        guard hasPort else { throw table.error("upstream.url \"\(url)\" needs a port: smtp://HOST:PORT", at: "url") }
        throw table.error("upstream.url \"\(url)\" has a bad host or port: smtp://HOST:PORT", at: "url")
    }
}
