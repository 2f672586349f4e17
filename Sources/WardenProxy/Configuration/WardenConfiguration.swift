import Foundation

/// Everything `warden.toml` says about the machine Warden runs on, one value per component.
/// Policy (rules, block lists) is not here: ``policy`` only says where it lives.
public struct WardenConfiguration: Sendable, Equatable {
    public var server: ServerConfiguration
    /// At least one after loading; names are unique.
    public var listeners: [ListenerConfiguration]
    public var tls: TLSFilesConfiguration
    public var upstream: UpstreamConfiguration
    public var limits: LimitsConfiguration
    public var timeouts: TimeoutsConfiguration
    public var relay: RelayConfiguration
    public var log: LogConfiguration
    public var metrics: MetricsConfiguration
    public var policy: PolicyPathsConfiguration
    public var dns: DNSConfiguration
    public var geoip: GeoIPConfiguration
    public var store: StoreConfiguration
    /// The file loaded, as an absolute path; empty for a configuration built in code.
    public var sourcePath: String

    public init(
        server: ServerConfiguration = ServerConfiguration(),
        listeners: [ListenerConfiguration],
        tls: TLSFilesConfiguration = TLSFilesConfiguration(),
        upstream: UpstreamConfiguration,
        limits: LimitsConfiguration = LimitsConfiguration(),
        timeouts: TimeoutsConfiguration = TimeoutsConfiguration(),
        relay: RelayConfiguration = RelayConfiguration(),
        log: LogConfiguration = LogConfiguration(),
        metrics: MetricsConfiguration = MetricsConfiguration(),
        policy: PolicyPathsConfiguration = PolicyPathsConfiguration(),
        dns: DNSConfiguration = DNSConfiguration(),
        geoip: GeoIPConfiguration = GeoIPConfiguration(),
        store: StoreConfiguration = StoreConfiguration(),
        sourcePath: String = ""
    ) {
        self.server = server
        self.listeners = listeners
        self.tls = tls
        self.upstream = upstream
        self.limits = limits
        self.timeouts = timeouts
        self.relay = relay
        self.log = log
        self.metrics = metrics
        self.policy = policy
        self.dns = dns
        self.geoip = geoip
        self.store = store
        self.sourcePath = sourcePath
    }

    /// Reads and validates a `warden.toml`.
    ///
    /// Every problem is a ``ConfigurationError`` reported as `FILE:LINE: reason`: TOML syntax,
    /// unknown tables and keys, wrong types, numbers out of range, unknown choices. Relative
    /// paths are resolved against the directory of the file. `""` for an optional string means
    /// "not set". Tables and their keys (type; default):
    ///
    /// `[server]`
    /// - `hostname` (string, a domain name; the machine's name, see ``ServerConfiguration/machineHostname()``)
    /// - `max_sessions` (int > 0; 2000), `max_sessions_per_client` (int > 0; 50)
    /// - `shutdown_grace_seconds` (int >= 0; 30)
    /// - `connection_rate_per_client` (int >= 0, connections per minute; 0 = no limit)
    ///
    /// `[[listener]]`, one or more, each:
    /// - `name` (string, required, unique), `address` (IPv4 or IPv6 literal, required),
    ///   `port` (int 0-65535, required; 0 picks a free port)
    /// - `kind` (`smtp` | `submission` | `smtps`; `smtp`); `submission` and `smtps` need a certificate
    /// - `starttls` (bool; true when a certificate is configured; true without one is an error;
    ///   always false for `smtps`)
    /// - `auth` (bool; false for `smtp`, true otherwise), `auth_before_tls` (bool; false)
    /// - `proxy_protocol` (bool; false), `proxy_trusted` ([string] of CIDRs; []; not empty when
    ///   `proxy_protocol` is true)
    /// - `certificate`, `key` (paths, both or neither; `[tls]`'s)
    ///
    /// `[tls]`
    /// - `certificate`, `key` (paths, both or neither; none)
    /// - `create_self_signed` (bool; false): create the pair at start when both files are
    ///   missing; needs `certificate` and `key`
    ///
    /// `[upstream]`
    /// - `url` (required): `maildir:PATH` or `smtp://HOST:PORT` (HOST a name, IPv4, or `[IPv6]`)
    /// - `helo_name` (string; `[server] hostname`)
    /// - `tls` (`off` | `opportunistic` | `required`; `off`), `tls_verify` (bool; true)
    /// - `tls_ca_file` (path; system roots), `tls_server_name` (string; the host of `url`)
    /// - `xclient` (bool; true), `proxy_protocol` (`off` | `v1` | `v2`; `off`)
    /// - `connect_timeout_seconds` (int > 0; 10), `command_timeout_seconds` (int > 0; 300),
    ///   `data_timeout_seconds` (int > 0; 600)
    /// - `reuse_idle_seconds` (int >= 0; 5): how long an upstream session waits for the next
    ///   client session to reuse it (never one that carried XCLIENT, a PROXY header or AUTH); 0
    ///   turns reuse off
    ///
    /// `[limits]`
    /// - `line_length` (int >= 512; 512), `recipients` (int > 0; 100)
    /// - `message_size` (int > 0; 26214400), `errors` (int > 0; 10), `commands` (int > 0; 10000)
    /// - `memory_spool` (int > 0; 1048576), `spool_directory` (path; `$TMPDIR` or `/tmp`)
    /// - `bare_line_endings` (`reject` | `normalize`; `reject`)
    ///
    /// `[timeouts]`
    /// - `greeting_seconds` (int > 0; 30), `command_seconds` (int > 0; 300), `data_seconds` (int > 0; 600)
    ///
    /// `[relay]`
    /// - `accepted_domains` ([string]; []): lowercased, a trailing dot dropped
    /// - `trusted_networks` ([string] of addresses or CIDRs with zero host bits; [])
    ///
    /// `[log]`
    /// - `format` (`logfmt` | `json`; `logfmt`)
    /// - `level` (`trace` | `debug` | `info` | `notice` | `warning` | `error` | `critical`; `info`)
    ///
    /// `[metrics]`
    /// - `address` (`HOST:PORT`; `""`, which disables the endpoint)
    ///
    /// `[policy]`
    /// - `rules` (path; `Rules`), `blocklists` (path; `Blocklists`)
    ///
    /// `[dns]`
    /// - `servers` ([string] of `ADDRESS` or `ADDRESS:PORT`; [] = /etc/resolv.conf)
    /// - `timeout_seconds` (int 1-30; 2), `tries` (int 1-5; 2)
    /// - `cache_min_ttl` (int 0-86400; 30), `cache_max_ttl` (int; 3600), `cache_size` (int > 0; 100000)
    /// - `health_check_seconds` (int >= 0; 300; 0 = no zone health checks)
    ///
    /// `[geoip]`
    /// - `databases` ([path] of `.mmdb` files; [])
    ///
    /// `[store]`
    /// - `redis` (`HOST:PORT`; `""` = counters in memory only)
    /// - `memory_capacity` (int >= 1000; 100000), `redis_timeout_ms` (int 10-10000; 250)
    ///
    /// - Parameter path: the file; messages name it as given here.
    public static func load(path: String) throws(ConfigurationError) -> WardenConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw ConfigurationError(file: path, line: nil, message: "the configuration file \(reason)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ConfigurationError(file: path, line: nil, message: "the configuration file is not UTF-8 text")
        }
        return try parse(toml: text, path: path)
    }

    /// Validates TOML text as if it had been read from `path`: messages name `path`, and
    /// relative paths are resolved against its directory.
    public static func parse(toml: String, path: String) throws(ConfigurationError) -> WardenConfiguration {
        try ConfigurationLoader(toml: toml, path: path).load()
    }
}
