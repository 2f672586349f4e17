import TOMLKit

extension ConfigurationLoader {
    static let listenerKeys: Set<String> = [
        "name", "address", "port", "kind", "starttls", "auth", "auth_before_tls", "proxy_protocol", "proxy_trusted",
        "certificate", "key",
    ]

    /// The `[[listener]]` tables: at least one, names unique.
    func loadListeners(tls: TLSFilesConfiguration) throws(ConfigurationError) -> [ListenerConfiguration] {
        guard let value = root.table["listener"] else {
            throw source.error("at least one [[listener]] is required", at: nil)
        }
        guard let array = value.array, array.allSatisfy({ $0.type == .table }) else {
            throw source.error("listener must be an array of tables, written [[listener]]", at: "listener")
        }
        guard !array.isEmpty else { throw source.error("at least one [[listener]] is required", at: "listener") }

        var listeners: [ListenerConfiguration] = []
        var lineOfName: [String: Int] = [:]
        for index in 0..<array.count {
            let table = ConfigurationTable(
                table: array[index].table!,
                path: "listener[\(index)]",
                name: "listener",
                source: source
            )
            let listener = try loadListener(table, tls: tls)
            if let first = lineOfName[listener.name] {
                let earlier = first > 0 ? " (first at line \(first))" : ""
                throw table.error("duplicate listener name \"\(listener.name)\"\(earlier)", at: "name")
            }
            lineOfName[listener.name] = source.keyLines.line(of: table.keyPath("name")) ?? 0
            listeners.append(listener)
        }
        return listeners
    }

    private func loadListener(
        _ table: ConfigurationTable,
        tls: TLSFilesConfiguration
    ) throws(ConfigurationError) -> ListenerConfiguration {
        try table.rejectUnknownKeys(allowing: Self.listenerKeys)
        guard let name = try table.nonEmptyString("name") else { throw table.error("listener.name is required") }
        guard let address = try table.string("address") else { throw table.error("listener.address is required") }
        guard ConfigurationSyntax.isIPLiteral(address) else {
            throw table.error("listener.address must be an IPv4 or IPv6 address, not \"\(address)\"", at: "address")
        }
        guard let port = try table.int("port", minimum: 0, maximum: 65535) else {
            throw table.error("listener.port is required")
        }
        let kind = try table.choice("kind", of: ListenerKind.self) ?? .smtp
        let (certificate, key) = try certificatePair(in: table)
        let hasCertificate = certificate != nil || tls.certificate != nil

        if kind != .smtp, !hasCertificate {
            throw table.error(
                "listener.kind \"\(kind.rawValue)\" needs a certificate: set certificate and key in [tls] or in this listener",
                at: "kind"
            )
        }
        let starttls = try table.bool("starttls") ?? hasCertificate
        if starttls, !hasCertificate {
            throw table.error(
                "listener.starttls needs a certificate: set certificate and key in [tls] or in this listener",
                at: "starttls"
            )
        }
        let proxyProtocol = try table.bool("proxy_protocol") ?? false
        let proxyTrusted = try networks(table, "proxy_trusted") ?? []
        if proxyProtocol, proxyTrusted.isEmpty {
            throw table.error("listener.proxy_protocol needs listener.proxy_trusted", at: "proxy_protocol")
        }
        return ListenerConfiguration(
            name: name,
            address: address,
            port: port,
            kind: kind,
            starttls: starttls,
            auth: try table.bool("auth"),
            authBeforeTLS: try table.bool("auth_before_tls") ?? false,
            proxyProtocol: proxyProtocol,
            proxyTrusted: proxyTrusted,
            certificate: certificate,
            key: key
        )
    }
}
