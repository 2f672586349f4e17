import SMTPCore

/// The connect-stage and HELO rules of a rule set, with the DNS, cache and GeoIP they use.
/// Lookups start when the client connects; the decision is made once, where it is first
/// needed (at the greeting with `reject_at greeting`, otherwise at the first RCPT), and kept
/// for the session.
public struct ClientPolicy: Sendable {
    public let rules: RuleSet
    let dns: (any PolicyDNS)?
    let geo: (any PolicyGeo)?
    let cache: DNSListCache
    let health: ZoneHealth
    let ourNames: Set<String>
    /// What each session needs of `rules`, found once here: a rule set holds hundreds of
    /// content rules, and a `Rule` is a large value to walk past per session.
    /// The client and HELO rules, in file order.
    let clientRules: [Rule]
    /// The address lists of the (not shadowed) `accept` client rules.
    let allowLists: [AddressList]
    let queriedZones: [(zone: String, settings: ZoneSettings)]
    let needsReverseDNS: Bool
    let needsGeo: Bool

    /// `ourNames`: the hostname and accepted domains, lowercased, for `helo claims-us`.
    public init(rules: RuleSet, dns: (any PolicyDNS)?, geo: (any PolicyGeo)?, cache: DNSListCache, health: ZoneHealth, ourNames: Set<String>) {
        self.rules = rules
        self.dns = dns
        self.geo = geo
        self.cache = cache
        self.health = health
        self.ourNames = Set(ourNames.map { $0.lowercased() })
        clientRules = rules.rules.filter { rule in
            switch rule.test {
            case .client, .helo: return true
            case .rate, .bulk, .content: return false
            }
        }
        allowLists = clientRules.compactMap { rule in
            guard rule.action == .accept, !rule.shadow, case .client(.list(let list, _)) = rule.test else { return nil }
            return list
        }
        queriedZones = rules.queriedZones.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        needsReverseDNS = rules.needsReverseDNS
        needsGeo = rules.needsGeo
    }

    public var isEmpty: Bool { rules.rules.isEmpty && !rules.shadow }

    /// GeoIP/ASN data for an address, whether or not a rule asks for it (`warden lookup`).
    public func geoInfo(for address: IPAddress) -> GeoInfo? {
        geo?.lookup(address)
    }

    // MARK: Lookups

    /// Starts the client's lookups: DNS lists (answered at once from the cache where it can) and
    /// reverse DNS, as tasks on `executor` (the session's event loop) when given.
    public func startLookups(for address: IPAddress, on executor: (any TaskExecutor)? = nil) -> ClientLookups {
        var zones: [String: Lookup<ZoneAnswer>] = [:]
        var reverse: Lookup<ReverseDNS>?
        // An allow-listed client is decided already: its address goes to no DNS list and no
        // reverse lookup.
        let allowed = allowLists.contains { $0.lookup(address) != nil }
        if let dns, !allowed {
            for (zone, settings) in queriedZones {
                if let answer = knownAnswer(zone: zone, address: address) {
                    zones[zone] = Lookup(answered: answer)
                } else {
                    zones[zone] = Lookup(on: executor) { await query(zone: zone, settings: settings, address: address, dns: dns) }
                }
            }
            if needsReverseDNS {
                reverse = Lookup(on: executor) { await ClientPolicy.forwardConfirmed(address, dns: dns) }
            }
        }
        let geoInfo = needsGeo ? geo?.lookup(address) : nil
        return ClientLookups(address: address, geo: geoInfo, zones: zones, reverse: reverse)
    }

    /// One DNS list query, through the shared cache, bounded by the zone's timeout.
    public func query(zone: String, settings: ZoneSettings, address: IPAddress, dns: any PolicyDNS) async -> ZoneAnswer {
        if let known = knownAnswer(zone: zone, address: address) { return known }
        let name = Self.queryName(zone: zone, address: address)
        let outcome = await Self.withTimeout(settings.timeoutSeconds) { await dns.addresses(of: name) } ?? .failure(.timeout)
        // A lookup cancelled because its session ended says nothing about the list: caching
        // it would let a client connect, close, and then skip the list for the failure TTL.
        guard !Task.isCancelled else { return .failed(.failed("cancelled")) }
        cache.put(name, outcome)
        return Self.zoneAnswer(outcome)
    }

    /// The answer without asking DNS: the zone is disabled, or the cache holds its answer.
    func knownAnswer(zone: String, address: IPAddress) -> ZoneAnswer? {
        guard health.isHealthy(zone) else { return .disabled }
        return cache.get(Self.queryName(zone: zone, address: address)).map(Self.zoneAnswer)
    }

    static func queryName(zone: String, address: IPAddress) -> String {
        "\(address.reversedLabel).\(zone)"
    }

    static func zoneAnswer(_ outcome: DNSOutcome) -> ZoneAnswer {
        switch outcome {
        case .answer(let addresses, _):
            let errors = addresses.filter(DNSListFilter.isListError)
            let listings = addresses.filter { !DNSListFilter.isListError($0) }
            if listings.isEmpty { return errors.isEmpty ? .notListed : .listError(errors) }
            return .listed(listings)
        case .failure(.notFound):
            return .notListed
        case .failure(let failure):
            return .failed(failure)
        }
    }

    static func forwardConfirmed(_ address: IPAddress, dns: any PolicyDNS) async -> ReverseDNS {
        switch await withTimeout(5, { await dns.reverseNames(of: address) }) ?? .failure(.timeout) {
        case .failure(let failure):
            return ReverseDNS(verifiedName: nil, names: [], failure: failure)
        case .success(let names):
            // At most a few names, as Postfix does: a PTR set is no place for a long list.
            for name in names.prefix(5) {
                if case .success(let addresses) = await withTimeout(5, { await dns.forwardAddresses(of: name) }) ?? .failure(.timeout),
                    addresses.contains(address)
                {
                    return ReverseDNS(verifiedName: name.lowercased(), names: names, failure: nil)
                }
            }
            return ReverseDNS(verifiedName: nil, names: names, failure: nil)
        }
    }

    static func withTimeout<Value: Sendable>(_ seconds: Double, _ operation: @escaping @Sendable () async -> Value) async -> Value? {
        await withTaskGroup(of: Value?.self) { group in
            group.addTask { await operation() }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
