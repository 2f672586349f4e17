import ArgumentParser
import WardenPolicy
import WardenProxy

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate the configuration and print what would listen where.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        let configuration: WardenConfiguration
        do {
            configuration = try WardenConfiguration.load(path: options.config)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        print("\(configuration.sourcePath): ok")
        do {
            let rules = try RuntimeSettings.checkPolicy(configuration)
            for warning in rules.warnings { print(warning) }
            let lists = Set(rules.rules.compactMap { rule -> String? in
                if case .client(.list(_, let file)) = rule.test { return file }
                return nil
            })
            let zones = rules.queriedZones.keys.sorted()
            print("rules: \(rules.rules.count) loaded, \(rules.skipped.count) skipped, \(rules.failed.count) failed, \(rules.warnings.count) warnings; \(lists.count) address lists; DNS lists: \(zones.isEmpty ? "none" : zones.joined(separator: ", "))")
            print(ContentReport.summary(rules))
            if rules.shadow { print("shadow mode is on: nothing is refused, refusals are logged as would-have") }
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        for listener in configuration.listeners {
            var notes: [String] = []
            if listener.kind != .smtps, listener.starttls { notes.append("STARTTLS") }
            if listener.auth { notes.append(listener.authBeforeTLS ? "AUTH (also before TLS)" : "AUTH after TLS") }
            if listener.proxyProtocol { notes.append("PROXY header from \(listener.proxyTrusted.joined(separator: ", "))") }
            print("listener \(listener.name): \(listener.kind.rawValue) on \(listener.address):\(listener.port) \(notes.joined(separator: ", "))")
        }
        switch configuration.upstream.target {
        case .maildir(let path): print("upstream: maildir \(path)")
        case .smtp(let host, let port):
            print("upstream: smtp \(host):\(port), tls \(configuration.upstream.tls.rawValue), xclient \(configuration.upstream.xclient ? "when offered" : "off"), proxy header \(configuration.upstream.proxyProtocol.rawValue)")
        }
        print("accepted domains: \(configuration.relay.acceptedDomains.joined(separator: ", "))")
        if let metrics = configuration.metrics.address { print("metrics: http://\(metrics)/metrics") }
    }
}

func printError(_ message: String) {
    var standardError = StandardError()
    print(message, to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleShim.writeToStandardError(string)
    }
}
