import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Makes the certificate and key that `[tls] create_self_signed = true` asks for, so that a first
/// start on a new machine can offer STARTTLS at once. Clients that check certificates will not
/// trust it: it is for trying Warden out and for tests, not for a public MX.
///
/// The pair comes from the system's `openssl` (RSA 2048, 825 days, the longest validity Apple
/// platforms accept for a TLS server certificate), named for the host, `localhost` and
/// `127.0.0.1`.
public enum SelfSignedCertificate {
    /// Creates the pair when both files are missing.
    ///
    /// - Returns: true when it created them, false when both were already there.
    /// - Throws: ``SelfSignedCertificateError`` when only one of the two exists (Warden will not
    ///   overwrite half of someone's pair), when `openssl` is missing or fails, or when a
    ///   directory or file cannot be made.
    public static func ensure(certificatePath: String, keyPath: String, hostname: String) throws -> Bool {
        let files = FileManager.default
        switch (files.fileExists(atPath: certificatePath), files.fileExists(atPath: keyPath)) {
        case (true, true):
            return false
        case (true, false):
            throw SelfSignedCertificateError(
                code: .incompletePair,
                diagnostics:
                    "certificate \(certificatePath) exists but key \(keyPath) does not; restore the key or remove the certificate"
            )
        case (false, true):
            throw SelfSignedCertificateError(
                code: .incompletePair,
                diagnostics:
                    "key \(keyPath) exists but certificate \(certificatePath) does not; restore the certificate or remove the key"
            )
        case (false, false):
            break
        }
        let openssl = try findOpenSSL()
        try makeDirectory(of: keyPath, permissions: 0o700)
        try makeDirectory(of: certificatePath, permissions: 0o755)
        // Created empty with mode 0600 first, so the key is never readable by others, not even
        // between openssl writing it and the chmod below.
        let descriptor = open(keyPath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw SelfSignedCertificateError(
                code: .fileSystem,
                diagnostics: "cannot create \(keyPath): \(String(cString: strerror(errno)))"
            )
        }
        close(descriptor)
        do {
            try run(
                openssl,
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certificatePath,
                    "-days", "825", "-subj", "/CN=\(hostname)",
                    "-addext", "subjectAltName=DNS:\(hostname),DNS:localhost,IP:127.0.0.1",
                ]
            )
            guard chmod(keyPath, 0o600) == 0 else {
                throw SelfSignedCertificateError(
                    code: .fileSystem,
                    diagnostics: "cannot set mode 0600 on \(keyPath): \(String(cString: strerror(errno)))"
                )
            }
        } catch {
            // Leave nothing half made: a lone file would stop the next start.
            try? files.removeItem(atPath: keyPath)
            try? files.removeItem(atPath: certificatePath)
            throw error
        }
        return true
    }

    /// `/usr/bin/openssl`, else the first `openssl` on `PATH`.
    static func findOpenSSL() throws -> String {
        var candidates = ["/usr/bin/openssl"]
        if let path = ProcessInfo.processInfo.environment["PATH"] {
            candidates += path.split(separator: ":").map { "\($0)/openssl" }
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw SelfSignedCertificateError(
                code: .opensslMissing,
                diagnostics:
                    "openssl is neither /usr/bin/openssl nor on PATH; install it or configure an existing certificate and key"
            )
        }
        return found
    }

    private static func makeDirectory(of file: String, permissions: Int) throws {
        let directory = (file as NSString).deletingLastPathComponent
        guard !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else { return }
        do {
            try FileManager.default.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: permissions]
            )
        } catch {
            throw SelfSignedCertificateError(
                code: .fileSystem,
                diagnostics: "cannot create directory \(directory): \(error)"
            )
        }
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        // One pipe for both streams, read to its end before waiting: two pipes read one after
        // the other could deadlock on a full buffer.
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            throw SelfSignedCertificateError(code: .opensslFailed, diagnostics: "cannot start \(executable): \(error)")
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let lastLines = text.split(separator: "\n").suffix(5).joined(separator: " / ")
            throw SelfSignedCertificateError(
                code: .opensslFailed,
                diagnostics: "\(executable) req exited with status \(process.terminationStatus): \(lastLines)"
            )
        }
    }
}

/// Why a self-signed pair could not be made; ``code`` says what kind of failure it was, the
/// description says which files and what the system answered.
public struct SelfSignedCertificateError: Error, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case incompletePair, opensslMissing, opensslFailed, fileSystem
        }

        private var base: Base

        /// Only one of certificate and key exists.
        public static let incompletePair = Code(base: .incompletePair)
        /// No `openssl` executable was found.
        public static let opensslMissing = Code(base: .opensslMissing)
        /// `openssl` could not be started or did not succeed.
        public static let opensslFailed = Code(base: .opensslFailed)
        /// A directory or the key file could not be created or protected.
        public static let fileSystem = Code(base: .fileSystem)

        public var description: String {
            switch base {
            case .incompletePair: "incomplete certificate pair"
            case .opensslMissing: "openssl missing"
            case .opensslFailed: "openssl failed"
            case .fileSystem: "file system"
            }
        }
    }

    public var code: Code
    private var diagnostics: String

    init(code: Code, diagnostics: String) {
        self.code = code
        self.diagnostics = diagnostics
    }

    public var description: String { "cannot make a self-signed certificate (\(code)): \(diagnostics)" }
}
