/// The outcome of one zone's health check.
public struct ZoneCheck: Sendable, Hashable {
    public var zone: String
    /// nil when the check could not tell (the zone did not answer): the state is kept.
    public var healthy: Bool?
    public var detail: String
}

extension ClientPolicy {
    /// RFC 5782 5: every DNS list lists 127.0.0.2 and never 127.0.0.1. A zone that breaks
    /// either rule (an expired domain that now answers everything, a list that stopped
    /// serving) is disabled until it passes again; a zone that does not answer keeps its state.
    public func checkZones() async -> [ZoneCheck] {
        guard let dns else { return [] }
        var results: [ZoneCheck] = []
        for (zone, settings) in queriedZones {
            async let listed = Self.withTimeout(settings.timeoutSeconds) { await dns.addresses(of: "2.0.0.127.\(zone)") }
            async let clean = Self.withTimeout(settings.timeoutSeconds) { await dns.addresses(of: "1.0.0.127.\(zone)") }
            let check = Self.judge(zone: zone, listed: await listed, clean: await clean)
            if let healthy = check.healthy { health.set(zone, healthy: healthy) }
            results.append(check)
        }
        return results
    }

    static func judge(zone: String, listed: DNSOutcome?, clean: DNSOutcome?) -> ZoneCheck {
        func listing(_ outcome: DNSOutcome?) -> Bool? {
            switch outcome {
            case .answer(let addresses, _)?: return addresses.contains { $0.count == 4 && $0[0] == 127 && !DNSListFilter.isListError($0) }
            case .failure(.notFound)?: return false
            default: return nil
            }
        }
        switch (listing(listed), listing(clean)) {
        case (true?, false?): return ZoneCheck(zone: zone, healthy: true, detail: "127.0.0.2 listed, 127.0.0.1 not listed")
        case (_, true?): return ZoneCheck(zone: zone, healthy: false, detail: "127.0.0.1 is listed: the zone answers everything")
        case (false?, _): return ZoneCheck(zone: zone, healthy: false, detail: "127.0.0.2 is not listed")
        default: return ZoneCheck(zone: zone, healthy: nil, detail: "no answer")
        }
    }
}
