import Synchronization

/// What one DNS list said about the client.
public enum ZoneAnswer: Sendable, Hashable {
    case listed([[UInt8]])
    case notListed
    /// Only answers in 127.255.255.0/24: the list refused the query (never a listing).
    case listError([[UInt8]])
    case failed(DNSFailure)
    /// The zone failed its health check.
    case disabled

    public var summary: String {
        switch self {
        case .listed(let answers): return "listed " + answers.map(ZoneAnswer.dotted).joined(separator: ",")
        case .notListed: return "not listed"
        case .listError(let answers): return "list error " + answers.map(ZoneAnswer.dotted).joined(separator: ",")
        case .failed(let failure): return "failed: \(failure)"
        case .disabled: return "zone disabled (failed its health check)"
        }
    }

    static func dotted(_ bytes: [UInt8]) -> String { bytes.map(String.init).joined(separator: ".") }
}

/// The client's forward-confirmed reverse DNS: a PTR name whose A/AAAA records include the
/// client address (RFC 8601 2.7.3 "iprev").
public struct ReverseDNS: Sendable, Hashable {
    public var verifiedName: String?
    public var names: [String]
    public var failure: DNSFailure?

    public init(verifiedName: String?, names: [String], failure: DNSFailure?) {
        self.verifiedName = verifiedName
        self.names = names
        self.failure = failure
    }
}

/// The lookups started for one client when it connects, awaited only where a decision needs
/// them (as postscreen does), and the client decision once made.
public final class ClientLookups: Sendable {
    public let address: IPAddress
    public let geo: GeoInfo?
    let zones: [String: Task<ZoneAnswer, Never>]
    let reverse: Task<ReverseDNS, Never>?
    let decided = Mutex<Decision?>(nil)

    init(address: IPAddress, geo: GeoInfo?, zones: [String: Task<ZoneAnswer, Never>], reverse: Task<ReverseDNS, Never>?) {
        self.address = address
        self.geo = geo
        self.zones = zones
        self.reverse = reverse
    }

    /// Whether the client decision was made already (it is logged once, when it is made).
    public var isDecided: Bool { decided.withLock { $0 != nil } }

    public func answer(for zone: String) async -> ZoneAnswer? {
        await zones[zone]?.value
    }

    public func reverseDNS() async -> ReverseDNS? {
        await reverse?.value
    }

    /// Stops what is still running (the session ended).
    public func cancel() {
        for task in zones.values { task.cancel() }
        reverse?.cancel()
    }

    deinit {
        cancel()
    }
}
