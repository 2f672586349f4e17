import DNSResolver
import MaxMindDB
import WardenPolicy

/// The policy's DNS questions answered by c-ares.
struct ResolverDNS: PolicyDNS {
    let resolver: DNSResolver

    func addresses(of name: String) async -> DNSOutcome {
        do {
            let answer = try await resolver.queryA(name)
            return .answer(addresses: answer.addresses, ttl: answer.ttl)
        } catch {
            return .failure(Self.failure(error))
        }
    }

    func reverseNames(of address: IPAddress) async -> Result<[String], DNSFailure> {
        do {
            return .success(try await resolver.queryPTR(address.bytes).names)
        } catch {
            return .failure(Self.failure(error))
        }
    }

    func forwardAddresses(of name: String) async -> Result<[IPAddress], DNSFailure> {
        async let v4: Result<DNSAddressAnswer, DNSError> = Self.result { () async throws(DNSError) in try await resolver.queryA(name) }
        async let v6: Result<DNSAddressAnswer, DNSError> = Self.result { () async throws(DNSError) in try await resolver.queryAAAA(name) }
        let results = [await v4, await v6]
        let addresses = results.compactMap { try? $0.get() }.flatMap(\.addresses).compactMap(Self.address)
        if !addresses.isEmpty { return .success(addresses) }
        // Only a definite "no such name" says the name has no address; a timeout says nothing.
        for case .failure(let error) in results where error.kind != .notFound { return .failure(Self.failure(error)) }
        return .failure(.notFound)
    }

    static func result(_ query: () async throws(DNSError) -> DNSAddressAnswer) async -> Result<DNSAddressAnswer, DNSError> {
        do { return .success(try await query()) } catch { return .failure(error) }
    }

    static func failure(_ error: DNSError) -> DNSFailure {
        switch error.kind {
        case .notFound: return .notFound
        case .timeout: return .timeout
        default: return .failed(error.description)
        }
    }

    static func address(_ bytes: [UInt8]) -> IPAddress? {
        switch bytes.count {
        case 4: return .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16: return IPAddress(bytes16: bytes)
        default: return nil
        }
    }
}

/// GeoIP/ASN answered by libmaxminddb.
struct DatabaseGeo: PolicyGeo {
    let databases: GeoDatabases

    func lookup(_ address: IPAddress) -> GeoInfo? {
        guard let record = databases.lookup(address.bytes) else { return nil }
        return GeoInfo(
            country: record.country, continent: record.continent, asn: record.asn,
            organization: record.asOrganization, network: record.network)
    }
}
