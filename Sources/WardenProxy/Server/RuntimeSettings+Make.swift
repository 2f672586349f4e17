import DNSResolver
import Foundation
import Logging
import MaxMindDB
import RedisClient
import NIOPosix
import NIOSSL
import WardenPolicy

/// What outlives a reload: the DNS list cache, the zones' health, and the rate counters.
public struct PolicyState: Sendable {
    public let cache: DNSListCache
    public let health: ZoneHealth
    public let counters: any CounterStore

    /// With `[store] redis`, counters live in Redis and fall back to memory while it is
    /// unreachable: logged once each way and shown in `warden_counter_store_shared`.
    public init(configuration: WardenConfiguration, logger: Logger? = nil, metrics: WardenMetrics? = nil) {
        let dns = configuration.dns
        cache = DNSListCache(minimumTTL: dns.cacheMinimumTTL, maximumTTL: dns.cacheMaximumTTL, capacity: dns.cacheSize)
        health = ZoneHealth()
        let memory = MemoryCounterStore(capacity: configuration.store.memoryCapacity)
        guard let address = configuration.store.redis, let colon = address.lastIndex(of: ":"),
            let port = Int(address[address.index(after: colon)...])
        else {
            counters = memory
            return
        }
        let host = String(address[..<colon]).trimmingCharacters(in: ["[", "]"])
        let redis = RedisCounterStore(client: RedisClient(configuration: RedisConfiguration(host: host, port: port)))
        metrics?.counterStoreShared(true)
        counters = FallbackCounterStore(
            primary: redis, fallback: memory, operationTimeout: .milliseconds(configuration.store.redisTimeoutMilliseconds)
        ) { shared, why in
            metrics?.counterStoreShared(shared)
            if shared {
                logger?.notice("rate counters shared again through Redis", metadata: ["redis": "\(address)"])
            } else {
                logger?.error("Redis unreachable: rate counters are this instance's own until it returns", metadata: ["redis": "\(address)", "why": "\(why)"])
            }
        }
    }
}

/// Why the running settings could not be built: the configuration, a rule file, a database.
public struct SettingsError: Error, CustomStringConvertible {
    public var description: String
}

extension RuntimeSettings {
    /// Builds what sessions use from a loaded configuration: the policy (with `Rules/` and the
    /// lists, the DNS resolver, the GeoIP databases) and the upstream. Throws with messages that
    /// name file and line when something cannot be built.
    public static func make(
        configuration: WardenConfiguration, threadPool: NIOThreadPool, metrics: WardenMetrics?, logger: Logger, state: PolicyState
    ) throws -> RuntimeSettings {
        let trusted: NetworkSet
        do {
            trusted = try NetworkSet(parsing: configuration.relay.trustedNetworks)
        } catch {
            throw ConfigurationError(file: configuration.sourcePath, line: nil, message: "relay.trusted_networks: \(error.entry) is not a network")
        }
        let rules = try loadRules(configuration)
        for warning in rules.warnings { logger.warning("rules", metadata: ["warning": "\(warning)"]) }
        let client = ClientPolicy(
            rules: rules, dns: try makeDNS(configuration, rules: rules), geo: try makeGeo(configuration, rules: rules),
            cache: state.cache, health: state.health,
            ourNames: Set([configuration.server.hostname] + configuration.relay.acceptedDomains)
        )
        let policy = Policy(
            relayControl: RelayControl(acceptedDomains: configuration.relay.acceptedDomains, trustedNetworks: trusted),
            client: client,
            limits: RateLimiter(rules: rules, store: state.counters),
            content: ContentPolicy(ruleSet: rules)
        )
        let upstream: any Upstream
        switch configuration.upstream.target {
        case .maildir(let path):
            upstream = try MaildirUpstream(path: path, hostname: configuration.server.hostname, threadPool: threadPool)
        case .smtp(let host, let port):
            upstream = try SMTPUpstream(configuration: configuration.upstream, host: host, port: port, logger: logger, metrics: metrics)
        }
        return RuntimeSettings(configuration: configuration, policy: policy, upstream: upstream)
    }

    /// What `warden check` validates beyond the file itself: the rules and lists, the DNS
    /// resolver settings and the GeoIP databases (each opened, as `warden run` would).
    public static func checkPolicy(_ configuration: WardenConfiguration) throws -> RuleSet {
        let rules = try loadRules(configuration)
        _ = try makeDNS(configuration, rules: rules)
        _ = try makeGeo(configuration, rules: rules)
        return rules
    }

    /// `Rules/` and the lists it names; a missing `Rules/` directory is an empty policy.
    public static func loadRules(_ configuration: WardenConfiguration) throws -> RuleSet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: configuration.policy.rules, isDirectory: &isDirectory), isDirectory.boolValue else {
            return .empty
        }
        let root = (configuration.sourcePath as NSString).deletingLastPathComponent
        let rules: RuleSet
        do {
            rules = try RuleSetLoader.load(
                rulesDirectory: configuration.policy.rules, blocklistsDirectory: configuration.policy.blocklists,
                displayRoot: root.isEmpty ? FileManager.default.currentDirectoryPath : root)
        } catch {
            throw SettingsError(description: error.description)
        }
        // A limit scoped to a listener that does not exist would never apply: say so.
        let names = Set(configuration.listeners.map(\.name))
        var problems: [String] = []
        for rule in rules.limitRules {
            let listeners: Set<String>
            switch rule.test {
            case .rate(let limit): listeners = limit.scope.listeners
            case .bulk(let limit): listeners = limit.scope.listeners
            default: continue
            }
            for name in listeners.sorted() where !names.contains(name) {
                problems.append("\(rule.file):\(rule.line): listener=\(name) is not a listener of \(configuration.sourcePath) (\(names.sorted().joined(separator: ", ")))")
            }
        }
        guard problems.isEmpty else { throw SettingsError(description: problems.joined(separator: "\n")) }
        return rules
    }

    static func makeDNS(_ configuration: WardenConfiguration, rules: RuleSet) throws -> (any PolicyDNS)? {
        guard !rules.queriedZones.isEmpty || rules.needsReverseDNS else { return nil }
        let dns = configuration.dns
        do {
            let resolver = try DNSResolver(configuration: DNSResolverConfiguration(
                servers: dns.servers, timeout: .seconds(dns.timeoutSeconds), tries: dns.tries))
            return ResolverDNS(resolver: resolver)
        } catch {
            throw SettingsError(description: "\(configuration.sourcePath): [dns]: \(error)")
        }
    }

    static func makeGeo(_ configuration: WardenConfiguration, rules: RuleSet) throws -> (any PolicyGeo)? {
        guard !configuration.geoip.databases.isEmpty else {
            if rules.needsGeo {
                throw SettingsError(description: "\(configuration.sourcePath): country, continent and asn rules need [geoip] databases")
            }
            return nil
        }
        do {
            return DatabaseGeo(databases: GeoDatabases(try configuration.geoip.databases.map { path throws(MaxMindDBError) in try MaxMindDatabase(path: path) }))
        } catch {
            throw SettingsError(description: "\(configuration.sourcePath): [geoip]: \(error)")
        }
    }
}

extension ListenerContext {
    /// The listener's TLS context from its own certificate or the shared one; nil when neither
    /// is configured. TLS 1.2 is the minimum (RFC 8314 4.1; NIOSSL's default is 1.0).
    public static func make(_ listener: ListenerConfiguration, tls: TLSFilesConfiguration) throws -> ListenerContext {
        guard let certificate = listener.certificate ?? tls.certificate, let key = listener.key ?? tls.key else {
            return ListenerContext(configuration: listener, tls: nil)
        }
        let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
        let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        return ListenerContext(configuration: listener, tls: try NIOSSLContext(configuration: configuration))
    }
}
