/// What the GeoIP databases say about one address.
///
/// Every field is optional: a country database knows no ASN, an ASN database no country, and
/// GeoLite2 has networks with a registered country but no `country` at all.
public struct GeoRecord: Sendable, Hashable {
    /// ISO 3166-1 alpha-2 code, from `country.iso_code`, else `registered_country.iso_code`.
    public var country: String?
    /// Two-letter continent code (`EU`, `AS`, `NA`, ...) from `continent.code`.
    public var continent: String?
    /// `autonomous_system_number`.
    public var asn: Int?
    /// `autonomous_system_organization`.
    public var asOrganization: String?
    /// The network of the matched record in CIDR notation, such as `192.0.2.0/24` or
    /// `2001:db8:1::/48`. An IPv4 address gets an IPv4 network even from an IPv6 tree.
    public var network: String?

    public init(
        country: String? = nil,
        continent: String? = nil,
        asn: Int? = nil,
        asOrganization: String? = nil,
        network: String? = nil
    ) {
        self.country = country
        self.continent = continent
        self.asn = asn
        self.asOrganization = asOrganization
        self.network = network
    }
}
