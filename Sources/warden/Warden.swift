import ArgumentParser
import WardenProxy

@main
struct Warden: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "A spam- and abuse-filtering SMTP proxy in front of your mail server.",
        version: WardenVersion.current,
        subcommands: [Run.self, Check.self, Scan.self, Lookup.self]
    )
}

struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The configuration file.")
    var config: String = "warden.toml"
}
