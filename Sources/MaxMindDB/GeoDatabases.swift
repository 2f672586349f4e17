/// Several databases (a country one and an ASN one, as operators have them) merged into one record.
///
/// Each field comes from the first database, in the order given, whose record has it: put the
/// most trusted first. `network` is the narrowest of the matched networks, the range across
/// which every field of the merged record holds (so the one to cache a result under).
public struct GeoDatabases: Sendable {
    public let databases: [MaxMindDatabase]

    public init(_ databases: [MaxMindDatabase]) {
        self.databases = databases
    }

    /// The merged record, or `nil` when no database has one for the address.
    ///
    /// A database that fails (a corrupt file, or an address that is neither 4 nor 16 bytes)
    /// counts as having no record; `lookupReportingErrors` says which failed and why.
    public func lookup(_ address: [UInt8]) -> GeoRecord? {
        lookupReportingErrors(address).record
    }

    /// As `lookup`, with the error of each database that failed, so a caller can log them.
    public func lookupReportingErrors(_ address: [UInt8]) -> (
        record: GeoRecord?, errors: [MaxMindDBError]
    ) {
        var merged: GeoRecord? = nil
        var narrowestPrefix = -1
        var errors: [MaxMindDBError] = []
        for database in databases {
            let match: MaxMindDatabase.Match?
            do {
                match = try database.match(address)
            } catch {
                errors.append(error)
                continue
            }
            guard let match else {
                continue
            }
            var record = merged ?? GeoRecord()
            record.country = record.country ?? match.record.country
            record.continent = record.continent ?? match.record.continent
            record.asn = record.asn ?? match.record.asn
            record.asOrganization = record.asOrganization ?? match.record.asOrganization
            if match.prefixLength > narrowestPrefix {
                narrowestPrefix = match.prefixLength
                record.network = match.record.network
            }
            merged = record
        }
        return (merged, errors)
    }
}
