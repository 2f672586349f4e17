/// The DNS questions the policy asks, behind a protocol so that tests drive them and the proxy
/// plugs in c-ares (DESIGN.md section 5).
public protocol PolicyDNS: Sendable {
    /// A records of `name` (a DNS list query).
    func addresses(of name: String) async -> DNSOutcome
    /// PTR names of `address`.
    func reverseNames(of address: IPAddress) async -> Result<[String], DNSFailure>
    /// A and AAAA records of `name` (forward confirmation).
    func forwardAddresses(of name: String) async -> Result<[IPAddress], DNSFailure>
}

public enum DNSFailure: Error, Hashable, Sendable, CustomStringConvertible {
    case notFound
    case timeout
    case failed(String)

    public var description: String {
        switch self {
        case .notFound: return "not found"
        case .timeout: return "timeout"
        case .failed(let detail): return detail
        }
    }
}

/// What a DNS list answered for one query.
public enum DNSOutcome: Sendable, Hashable {
    case answer(addresses: [[UInt8]], ttl: Int)
    case failure(DNSFailure)
}

/// GeoIP/ASN data for an address.
public struct GeoInfo: Sendable, Hashable {
    public var country: String?
    public var continent: String?
    public var asn: Int?
    public var organization: String?
    public var network: String?

    public init(country: String? = nil, continent: String? = nil, asn: Int? = nil, organization: String? = nil, network: String? = nil) {
        self.country = country
        self.continent = continent
        self.asn = asn
        self.organization = organization
        self.network = network
    }

    public var summary: String {
        var parts: [String] = []
        if let country { parts.append("country \(country)") }
        if let continent { parts.append("continent \(continent)") }
        if let asn { parts.append("AS\(asn)" + (organization.map { " \($0)" } ?? "")) }
        if let network { parts.append("network \(network)") }
        return parts.isEmpty ? "no GeoIP data" : parts.joined(separator: ", ")
    }
}

public protocol PolicyGeo: Sendable {
    func lookup(_ address: IPAddress) -> GeoInfo?
}

extension IPAddress {
    /// The address as 4 or 16 network-order bytes.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
        }
    }

    /// The DNS list query label for this address: reversed octets, or reversed nibbles for IPv6
    /// (RFC 5782 2.1 and 2.4).
    public var reversedLabel: String {
        switch self {
        case .v4:
            return bytes.reversed().map(String.init).joined(separator: ".")
        case .v6:
            let hex = Array("0123456789abcdef")
            return bytes.reversed().flatMap { [hex[Int($0 & 0x0f)], hex[Int($0 >> 4)]] }.map(String.init).joined(separator: ".")
        }
    }
}
