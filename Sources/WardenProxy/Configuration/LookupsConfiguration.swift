/// The `[dns]` table: how Warden asks DNS lists and reverse DNS.
public struct DNSConfiguration: Sendable, Equatable {
    /// "HOST" or "HOST:PORT" ("[::1]:53" for IPv6); empty: the servers of /etc/resolv.conf.
    public var servers: [String]
    /// Seconds per try, and tries per server (c-ares); each zone's own limit is in the rules.
    public var timeoutSeconds: Int
    public var tries: Int
    /// Answers are cached for their TTL, clamped to these bounds (seconds).
    public var cacheMinimumTTL: Int
    public var cacheMaximumTTL: Int
    /// Cached answers at most.
    public var cacheSize: Int
    /// Seconds between zone health checks (127.0.0.2 listed, 127.0.0.1 not); 0 turns them off.
    public var healthCheckSeconds: Int

    public init(
        servers: [String] = [], timeoutSeconds: Int = 2, tries: Int = 2, cacheMinimumTTL: Int = 30,
        cacheMaximumTTL: Int = 3600, cacheSize: Int = 100_000, healthCheckSeconds: Int = 300
    ) {
        self.servers = servers
        self.timeoutSeconds = timeoutSeconds
        self.tries = tries
        self.cacheMinimumTTL = cacheMinimumTTL
        self.cacheMaximumTTL = cacheMaximumTTL
        self.cacheSize = cacheSize
        self.healthCheckSeconds = healthCheckSeconds
    }
}

/// The `[geoip]` table: MaxMind or DB-IP `.mmdb` files (a country one and an ASN one, say).
public struct GeoIPConfiguration: Sendable, Equatable {
    /// Absolute paths; a missing or unreadable file is an error at start.
    public var databases: [String]

    public init(databases: [String] = []) {
        self.databases = databases
    }
}

/// The `[store]` table: where rate-limit and bulk counters live.
public struct StoreConfiguration: Sendable, Equatable {
    /// "HOST:PORT" of a Redis server shared by a fleet; nil: counters in memory, on this machine.
    public var redis: String?
    /// Counters kept in memory at most (also the fallback while Redis is unreachable).
    public var memoryCapacity: Int
    /// Milliseconds one Redis operation may take before the memory counters answer instead.
    public var redisTimeoutMilliseconds: Int

    public init(redis: String? = nil, memoryCapacity: Int = 100_000, redisTimeoutMilliseconds: Int = 250) {
        self.redis = redis
        self.memoryCapacity = memoryCapacity
        self.redisTimeoutMilliseconds = redisTimeoutMilliseconds
    }
}
