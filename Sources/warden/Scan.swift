import ArgumentParser
import Foundation
import Logging
import NIOPosix
import WardenPolicy
import WardenProxy

struct Scan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the policy on one message offline and show the score, each rule that hit, and the verdict.")

    @OptionGroup var options: ConfigOption

    @Option(help: "Read the rules of this directory instead of the configuration's Rules/ (no warden.toml needed).")
    var rules: String?

    @Option(name: .customLong("client-ip"), help: "The client address, to run the client rules (lists, DNS lists, GeoIP) too.")
    var clientIP: String?

    @Option(help: "The HELO name the client gave.")
    var helo: String?

    @Option(help: "The envelope sender (MAIL FROM); EnvelopeFrom rules read it. Default: the Return-Path field.")
    var from: String?

    @Option(help: "An envelope recipient (repeatable), checked by relay control.")
    var to: [String] = []

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Argument(help: "The message file (RFC 5322, LF or CRLF line endings); - reads standard input.")
    var file: String

    func run() async throws {
        let message: [UInt8]
        if file == "-" {
            message = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else if let data = FileManager.default.contents(atPath: file) {
            message = Array(data)
        } else {
            printError("\(file): cannot read the file")
            throw ExitCode(2)
        }
        var envelope = ScanReport.Envelope(helo: helo, from: from, to: to)
        if let clientIP {
            guard let address = IPAddress(clientIP) else {
                printError("\(clientIP) is not an IPv4 or IPv6 address")
                throw ExitCode(2)
            }
            envelope.clientIP = address
        }
        let policy: Policy
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        if let rules {
            do {
                let ruleSet = try RuleSetLoader.load(
                    rulesDirectory: rules, blocklistsDirectory: (rules as NSString).deletingLastPathComponent + "/Blocklists",
                    displayRoot: FileManager.default.currentDirectoryPath)
                for warning in ruleSet.warnings where !json { printError("\(warning)") }
                policy = Policy(relayControl: nil, content: ContentPolicy(ruleSet: ruleSet))
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
        } else {
            let configuration: WardenConfiguration
            do {
                configuration = try WardenConfiguration.load(path: options.config)
                threadPool.start()
                policy = try RuntimeSettings.make(
                    configuration: configuration, threadPool: threadPool, metrics: nil,
                    logger: Logger(label: "warden", factory: { _ in SwiftLogNoOpLogHandler() }), state: PolicyState(configuration: configuration)
                ).policy
            } catch {
                try? await threadPool.shutdownGracefully()
                printError("\(error)")
                throw ExitCode(1)
            }
        }
        let report = await ScanReport.make(message: message, envelope: envelope, policy: policy)
        try? await threadPool.shutdownGracefully()
        print(json ? report.json : report.text)
    }
}
