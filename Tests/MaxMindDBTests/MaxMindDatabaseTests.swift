import MaxMindDB
import Testing

@Suite struct MaxMindDatabaseTests {
    @Test func countryMetadata() throws {
        let database = try Fixture.open("country")
        #expect(database.databaseType == "GeoLite2-Country")
        #expect(database.buildEpoch == Fixture.buildEpoch)
        #expect(database.ipVersion == 6)
        #expect(database.path == Fixture.path("country"))
    }

    @Test(arguments: [
        ("192.0.2.77", GeoRecord(country: "DE", continent: "EU", network: "192.0.2.0/24")),
        ("192.0.2.0", GeoRecord(country: "DE", continent: "EU", network: "192.0.2.0/24")),
        ("198.51.100.255", GeoRecord(country: "US", continent: "NA", network: "198.51.100.0/24")),
        // No `country` in the record: the registered country stands in.
        ("203.0.113.9", GeoRecord(country: "AU", continent: "OC", network: "203.0.113.0/24")),
        ("2001:db8:1::1", GeoRecord(country: "JP", continent: "AS", network: "2001:db8:1::/48")),
        (
            "2001:db8:1:ffff:ffff:ffff:ffff:ffff",
            GeoRecord(country: "JP", continent: "AS", network: "2001:db8:1::/48")
        ),
        // What a dual-stack listener reports for an IPv4 client.
        ("::ffff:192.0.2.1", GeoRecord(country: "DE", continent: "EU", network: "192.0.2.0/24")),
    ])
    func countryLookup(address: String, expected: GeoRecord) throws {
        let database = try Fixture.open("country")
        #expect(try database.lookup(ip(address)) == expected)
    }

    @Test(arguments: [
        ("192.0.2.1", GeoRecord(asn: 64500, asOrganization: "Example Net", network: "192.0.2.0/24")),
        (
            "198.51.100.127",
            GeoRecord(asn: 64502, asOrganization: "Example Half", network: "198.51.100.0/25")
        ),
        (
            "2001:db8:1:2::3",
            GeoRecord(asn: 64501, asOrganization: "Example Six", network: "2001:db8:1::/48")
        ),
    ])
    func asnLookup(address: String, expected: GeoRecord) throws {
        let database = try Fixture.open("asn")
        #expect(database.databaseType == "GeoLite2-ASN")
        #expect(try database.lookup(ip(address)) == expected)
    }

    @Test(arguments: [
        "192.0.1.255", "192.0.3.0", "198.51.101.1", "0.0.0.0", "255.255.255.255",
        "2001:db8::1", "2001:db8:2::", "::1", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ])
    func addressOutsideEveryNetworkIsNil(address: String) throws {
        #expect(try Fixture.open("country").lookup(ip(address)) == nil)
        #expect(try Fixture.open("asn").lookup(ip(address)) == nil)
    }

    @Test func upperHalfOfASlash24OutsideTheSlash25IsNil() throws {
        #expect(try Fixture.open("asn").lookup(ip("198.51.100.128")) == nil)
    }

    @Test func ipv4Tree() throws {
        let database = try Fixture.open("ipv4-only")
        #expect(database.databaseType == "DBIP-ASN-Lite")
        #expect(database.ipVersion == 4)
        #expect(
            try database.lookup(ip("198.51.100.5"))
                == GeoRecord(asn: 64502, asOrganization: "Example Four", network: "198.51.100.0/25"))
        #expect(try database.lookup(ip("::ffff:198.51.100.5"))?.network == "198.51.100.0/25")
        // libmaxminddb calls this an error; for Warden the file simply knows nothing about it.
        #expect(try database.lookup(ip("2001:db8:1::1")) == nil)
    }

    @Test(arguments: [0, 3, 5, 15, 17])
    func addressOfAnotherLengthIsRefused(length: Int) throws {
        let database = try Fixture.open("country")
        let error = #expect(throws: MaxMindDBError.self) {
            try database.lookup([UInt8](repeating: 192, count: length))
        }
        #expect(error?.code == .invalidAddress)
        #expect(error?.message == "an address is 4 or 16 bytes, not \(length)")
    }

    @Test func missingFileNamesThePathAndTheSystemError() {
        let path = "/nonexistent/warden/GeoLite2-Country.mmdb"
        let error = #expect(throws: MaxMindDBError.self) { try MaxMindDatabase(path: path) }
        #expect(error?.code == .openFailed)
        #expect(error?.path == path)
        #expect(
            error?.description
                == "MaxMind DB \(path): Error opening the specified MaxMind DB file (No such file or directory)"
        )
    }

    @Test func corruptFileNamesThePath() {
        let path = Fixture.path("corrupt")
        let error = #expect(throws: MaxMindDBError.self) { try MaxMindDatabase(path: path) }
        #expect(error?.code == .openFailed)
        #expect(error?.path == path)
        #expect(
            error?.description == "MaxMind DB \(path): The MaxMind DB file contains invalid metadata")
    }

    @Test func directoryIsRefused() {
        let path = Fixture.path("country").split(separator: "/").dropLast().joined(separator: "/")
        let error = #expect(throws: MaxMindDBError.self) { try MaxMindDatabase(path: "/" + path) }
        #expect(error?.code == .openFailed)
    }

    @Test(arguments: ["192.0.2.1", "2001:db8:1::1"])
    func corruptSearchTreeFailsTheLookup(address: String) throws {
        let path = Fixture.path("corrupt-tree")
        let database = try MaxMindDatabase(path: path)
        let error = #expect(throws: MaxMindDBError.self) { try database.lookup(ip(address)) }
        #expect(error?.code == .lookupFailed)
        #expect(
            error?.description == "MaxMind DB \(path): The MaxMind DB file's search tree is corrupt")
    }

    @Test func sharedBetweenConcurrentTasks() async throws {
        let database = try Fixture.open("country")
        let v4 = ip("198.51.100.1")
        let v6 = ip("2001:db8:1::1")
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var mismatches = 0
                    for round in 0..<2_000 {
                        let useV6 = (task + round) % 2 == 0
                        let country = try? database.lookup(useV6 ? v6 : v4)?.country
                        if country != (useV6 ? "JP" : "US") { mismatches += 1 }
                    }
                    return mismatches
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
