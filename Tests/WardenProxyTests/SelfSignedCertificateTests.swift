import Foundation
import NIOSSL
import Testing

@testable import WardenProxy

@Suite struct SelfSignedCertificateTests {
    private static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warden-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) & 0o777
    }

    @Test func createsAPairThatNIOSSLLoads() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = directory + "/var/tls/cert.pem"
        let key = directory + "/var/private/key.pem"

        #expect(
            try SelfSignedCertificate.ensure(certificatePath: certificate, keyPath: key, hostname: "warden.localhost")
        )

        let chain = try NIOSSLCertificate.fromPEMFile(certificate)
        #expect(chain.count == 1)
        _ = try NIOSSLPrivateKey(file: key, format: .pem)
        let loaded = try #require(chain.first)
        #expect(
            loaded.description.hasSuffix(
                ";common_name=warden.localhost;alternative_names=warden.localhost,localhost,127.0.0.1>"
            )
        )
        #expect(loaded.notValidAfter - loaded.notValidBefore == 825 * 86_400)
        #expect(try Self.mode(key) == 0o600)
        #expect(try Self.mode(directory + "/var/private") == 0o700)

        // A second start keeps the pair it made.
        let before = try Data(contentsOf: URL(fileURLWithPath: certificate))
        #expect(
            try !SelfSignedCertificate.ensure(certificatePath: certificate, keyPath: key, hostname: "warden.localhost")
        )
        #expect(try Data(contentsOf: URL(fileURLWithPath: certificate)) == before)
    }

    @Test func refusesToCompleteHalfAPair() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = directory + "/cert.pem"
        let key = directory + "/key.pem"
        #expect(FileManager.default.createFile(atPath: certificate, contents: Data("not a certificate".utf8)))

        let error = try #require(throws: SelfSignedCertificateError.self) {
            try SelfSignedCertificate.ensure(certificatePath: certificate, keyPath: key, hostname: "warden.localhost")
        }
        #expect(error.code == .incompletePair)
        #expect(error.description.contains(key))
        #expect(!FileManager.default.fileExists(atPath: key))
        #expect(try String(contentsOfFile: certificate, encoding: .utf8) == "not a certificate")
    }
}
