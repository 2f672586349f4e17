import ArgumentParser
import Logging
import NIOPosix
import WardenPolicy
import WardenProxy

struct Lookup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what the connect stage knows about an address: lists, DNS lists, GeoIP/ASN, and the verdict it would reach.")

    @OptionGroup var options: ConfigOption

    @Option(help: "A HELO name to check as well.")
    var helo: String?

    @Option(help: "An authenticated user, for the rate counters keyed by user.")
    var user: String?

    @Option(help: "An envelope sender, for the rate counters keyed by sender.")
    var sender: String?

    @Option(help: "A recipient, for the rate counters keyed by recipient.")
    var recipient: String?

    @Option(help: "A listener name, for limits scoped to listeners.")
    var listener: String?

    @Argument(help: "The client address (IPv4 or IPv6).")
    var address: String

    func run() async throws {
        guard let ip = IPAddress(address) else {
            printError("\(address) is not an IPv4 or IPv6 address")
            throw ExitCode(2)
        }
        let configuration: WardenConfiguration
        do {
            configuration = try WardenConfiguration.load(path: options.config)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let settings: RuntimeSettings
        do {
            settings = try RuntimeSettings.make(
                configuration: configuration, threadPool: threadPool, metrics: nil,
                logger: Logger(label: "warden", factory: { _ in SwiftLogNoOpLogHandler() }), state: PolicyState(configuration: configuration))
        } catch {
            try? await threadPool.shutdownGracefully()
            printError("\(error)")
            throw ExitCode(1)
        }
        let query = CounterQuery(user: user, sender: sender, recipient: recipient, listener: listener)
        if configuration.store.redis == nil, settings.policy.limits != nil {
            print("note: [store] has no redis: the counters below are this command's own (empty), not the running Warden's")
        }
        print(await LookupReport.make(address: ip, helo: helo, policy: settings.policy, counterFacts: query))
        try? await threadPool.shutdownGracefully()
    }
}
