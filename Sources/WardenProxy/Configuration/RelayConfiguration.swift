/// The `[relay]` table: which mail Warden accepts, and from whom it relays anywhere.
public struct RelayConfiguration: Sendable, Equatable {
    /// Domains Warden accepts mail for, lowercased, without a trailing dot. Subdomains are not
    /// included.
    public var acceptedDomains: [String]
    /// Networks whose clients may relay to any domain, as written (`a.b.c.d/n`, `x:y::/n`, or a
    /// single address).
    public var trustedNetworks: [String]

    public init(acceptedDomains: [String] = [], trustedNetworks: [String] = []) {
        self.acceptedDomains = acceptedDomains
        self.trustedNetworks = trustedNetworks
    }
}
