import MaxMindDB
import Testing

@Suite struct GeoDatabasesTests {
    private func countryAndASN() throws -> GeoDatabases {
        GeoDatabases([try Fixture.open("country"), try Fixture.open("asn")])
    }

    @Test(arguments: [
        (
            "192.0.2.1",
            GeoRecord(
                country: "DE", continent: "EU", asn: 64500, asOrganization: "Example Net",
                network: "192.0.2.0/24")
        ),
        // The ASN's /25 is narrower than the country's /24: the merged record holds across the /25.
        (
            "198.51.100.1",
            GeoRecord(
                country: "US", continent: "NA", asn: 64502, asOrganization: "Example Half",
                network: "198.51.100.0/25")
        ),
        ("198.51.100.200", GeoRecord(country: "US", continent: "NA", network: "198.51.100.0/24")),
        ("203.0.113.1", GeoRecord(country: "AU", continent: "OC", network: "203.0.113.0/24")),
        (
            "2001:db8:1::25",
            GeoRecord(
                country: "JP", continent: "AS", asn: 64501, asOrganization: "Example Six",
                network: "2001:db8:1::/48")
        ),
        (
            "::ffff:192.0.2.1",
            GeoRecord(
                country: "DE", continent: "EU", asn: 64500, asOrganization: "Example Net",
                network: "192.0.2.0/24")
        ),
    ])
    func merged(address: String, expected: GeoRecord) throws {
        #expect(try countryAndASN().lookup(ip(address)) == expected)
    }

    @Test(arguments: ["192.0.3.1", "2001:db8:2::1"])
    func addressOutsideEveryNetworkIsNil(address: String) throws {
        #expect(try countryAndASN().lookup(ip(address)) == nil)
    }

    @Test func firstDatabaseWinsAField() throws {
        let asn = try Fixture.open("asn")
        let ipv4Only = try Fixture.open("ipv4-only")
        let address = ip("198.51.100.9")
        #expect(GeoDatabases([asn, ipv4Only]).lookup(address)?.asOrganization == "Example Half")
        #expect(GeoDatabases([ipv4Only, asn]).lookup(address)?.asOrganization == "Example Four")
    }

    @Test func noDatabasesFindNothing() {
        #expect(GeoDatabases([]).lookup(ip("192.0.2.1")) == nil)
    }

    @Test func failingDatabaseIsSkippedAndReported() throws {
        let corrupt = try Fixture.open("corrupt-tree")
        let databases = GeoDatabases([corrupt, try Fixture.open("asn")])
        let address = ip("192.0.2.1")
        let expected = GeoRecord(asn: 64500, asOrganization: "Example Net", network: "192.0.2.0/24")
        #expect(databases.lookup(address) == expected)

        let (record, errors) = databases.lookupReportingErrors(address)
        #expect(record == expected)
        #expect(errors.map(\.path) == [corrupt.path])
        #expect(errors.map(\.code) == [.lookupFailed])
    }

    @Test func addressOfAnotherLengthFindsNothingAndReportsEveryDatabase() throws {
        let databases = try countryAndASN()
        let (record, errors) = databases.lookupReportingErrors([1, 2, 3])
        #expect(record == nil)
        #expect(errors.map(\.code) == [.invalidAddress, .invalidAddress])
    }
}
