import TOMLKit

/// Turns the text of `warden.toml` into a ``WardenConfiguration``, refusing anything it does not
/// understand at the line where it is written. The keys and their defaults are listed on
/// ``WardenConfiguration/load(path:)``.
struct ConfigurationLoader {
    static let tableNames: Set<String> = [
        "server", "listener", "tls", "upstream", "limits", "timeouts", "relay", "log", "metrics", "policy", "dns", "geoip", "store",
    ]

    let root: ConfigurationTable
    let source: ConfigurationSource

    /// Parses the TOML; a syntax error is reported at TOMLKit's line.
    init(toml: String, path: String) throws(ConfigurationError) {
        let absolutePath = ConfigurationSyntax.absolutePath(path, relativeTo: ConfigurationSyntax.currentDirectory())
        source = ConfigurationSource(file: path, absolutePath: absolutePath, keyLines: TOMLKeyLines(source: toml))
        let table: TOMLTable
        do {
            table = try TOMLTable(string: toml)
        } catch let error as TOMLParseError {
            // toml++ capitalises its messages ("Error while parsing ..."); ours start in lower case.
            let message = error.description.prefix(1).lowercased() + error.description.dropFirst()
            throw ConfigurationError(file: path, line: error.source.begin.line, message: message)
        } catch {
            throw ConfigurationError(file: path, line: nil, message: "\(error)")
        }
        root = ConfigurationTable(table: table, path: "", name: "", source: source)
    }

    func load() throws(ConfigurationError) -> WardenConfiguration {
        try root.rejectUnknownKeys(allowing: Self.tableNames)
        let server = try loadServer()
        let tls = try loadTLS()
        return WardenConfiguration(
            server: server,
            listeners: try loadListeners(tls: tls),
            tls: tls,
            upstream: try loadUpstream(server: server),
            limits: try loadLimits(),
            timeouts: try loadTimeouts(),
            relay: try loadRelay(),
            log: try loadLog(),
            metrics: try loadMetrics(),
            policy: try loadPolicy(),
            dns: try loadDNS(),
            geoip: try loadGeoIP(),
            store: try loadStore(),
            sourcePath: source.absolutePath
        )
    }

    /// A top-level table; an absent one reads as empty so that every key takes its default.
    func section(_ name: String, keys: Set<String>) throws(ConfigurationError) -> ConfigurationTable {
        let table =
            try root.table(name) ?? ConfigurationTable(table: TOMLTable(), path: name, name: name, source: source)
        try table.rejectUnknownKeys(allowing: keys)
        return table
    }
}
