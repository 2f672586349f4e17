import WardenPolicy
extension ConfigurationLoader {
    func loadDNS() throws(ConfigurationError) -> DNSConfiguration {
        let table = try section("dns", keys: ["servers", "timeout_seconds", "tries", "cache_min_ttl", "cache_max_ttl", "cache_size", "health_check_seconds"])
        let defaults = DNSConfiguration()
        let servers = try table.stringArray("servers") ?? []
        for server in servers where ConfigurationSyntax.hostAndPort(server) == nil && Network(server) == nil {
            throw table.error("dns.servers: \"\(server)\" is not an address or ADDRESS:PORT", at: "servers", element: server)
        }
        let minimum = try table.int("cache_min_ttl", minimum: 0, maximum: 86400) ?? defaults.cacheMinimumTTL
        let maximum = try table.int("cache_max_ttl", minimum: 1, maximum: 604_800) ?? defaults.cacheMaximumTTL
        guard minimum <= maximum else { throw table.error("dns.cache_min_ttl must not be above dns.cache_max_ttl", at: "cache_min_ttl") }
        return DNSConfiguration(
            servers: servers,
            timeoutSeconds: try table.int("timeout_seconds", minimum: 1, maximum: 30) ?? defaults.timeoutSeconds,
            tries: try table.int("tries", minimum: 1, maximum: 5) ?? defaults.tries,
            cacheMinimumTTL: minimum,
            cacheMaximumTTL: maximum,
            cacheSize: try table.int("cache_size", minimum: 1) ?? defaults.cacheSize,
            healthCheckSeconds: try table.int("health_check_seconds", minimum: 0) ?? defaults.healthCheckSeconds
        )
    }

    func loadGeoIP() throws(ConfigurationError) -> GeoIPConfiguration {
        let table = try section("geoip", keys: ["databases"])
        return GeoIPConfiguration(databases: (try table.stringArray("databases") ?? []).map { source.resolve($0) })
    }
}

extension ConfigurationLoader {
    func loadStore() throws(ConfigurationError) -> StoreConfiguration {
        let table = try section("store", keys: ["redis", "memory_capacity", "redis_timeout_ms"])
        let defaults = StoreConfiguration()
        let redis = try table.optionalString("redis")
        if let redis, ConfigurationSyntax.hostAndPort(redis) == nil {
            throw table.error("store.redis must be HOST:PORT, not \"\(redis)\"", at: "redis")
        }
        return StoreConfiguration(
            redis: redis,
            memoryCapacity: try table.int("memory_capacity", minimum: 1000) ?? defaults.memoryCapacity,
            redisTimeoutMilliseconds: try table.int("redis_timeout_ms", minimum: 10, maximum: 10_000) ?? defaults.redisTimeoutMilliseconds
        )
    }
}
