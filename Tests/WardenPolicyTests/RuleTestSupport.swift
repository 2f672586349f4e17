import Foundation
import Synchronization
import Testing

@testable import WardenPolicy

/// A directory tree under the system's temporary directory, removed when released. Paths given
/// to `write` are relative to `root` (`Rules/10.cf`, `Blocklists/drop.txt`).
final class TempTree: @unchecked Sendable {
    let root: String

    init() {
        root = (NSTemporaryDirectory() as NSString).appendingPathComponent("warden-rules-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    convenience init(_ files: [String: String]) {
        self.init()
        for (path, text) in files { write(path, text) }
    }

    func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    func write(_ relative: String, _ text: String) {
        let full = path(relative)
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }

    func mkdir(_ relative: String) {
        try! FileManager.default.createDirectory(atPath: path(relative), withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }
}

/// The outcome of `RuleSetLoader.load` on a tree: the rule set when it loaded, and every
/// diagnostic (errors and warnings) as the user sees it, `FILE:LINE: reason`.
struct LoadOutcome {
    var ruleSet: RuleSet?
    var error: RuleLoadError?
    var messages: [String]
    var tree: TempTree
}

/// Loads `Rules/` and `Blocklists/` of a fresh tree holding `files` (paths relative to the root).
func loadTree(_ files: [String: String]) -> LoadOutcome {
    let tree = TempTree(files)
    tree.mkdir("Rules")
    tree.mkdir("Blocklists")
    do {
        let set = try RuleSetLoader.load(rulesDirectory: tree.path("Rules"), blocklistsDirectory: tree.path("Blocklists"), displayRoot: tree.root)
        return LoadOutcome(ruleSet: set, error: nil, messages: set.warnings.map(\.description), tree: tree)
    } catch {
        return LoadOutcome(ruleSet: nil, error: error, messages: error.diagnostics.map(\.description), tree: tree)
    }
}

/// Loads a single rule file `Rules/10.cf` (plus list files under `Blocklists/`).
func loadRules(_ text: String, lists: [String: String] = [:]) -> LoadOutcome {
    var files = ["Rules/10.cf": text]
    for (name, body) in lists { files["Blocklists/\(name)"] = body }
    return loadTree(files)
}

/// A rule's test in words, for comparing compiled rules.
func describeTest(_ test: Rule.Test) -> String {
    switch test {
    case .client(.list(let list, let file)):
        return "list \(file) (\(list.count) entries)"
    case .client(.dnsList(let zone, let filter)): return "dnsbl \(zone) \(filter)"
    case .client(.country(let codes)): return "country \(codes.sorted().joined(separator: ","))"
    case .client(.continent(let codes)): return "continent \(codes.sorted().joined(separator: ","))"
    case .client(.asn(let numbers)): return "asn \(numbers.sorted().map(String.init).joined(separator: ","))"
    case .client(.noReverseDNS): return "client_no_rdns"
    case .client(.earlyTalker): return "early_talker"
    case .helo(let condition): return "helo \(condition.rawValue)"
    default: return "\(test)"
    }
}

// MARK: Fakes

/// A scripted `PolicyDNS`: answers per query name (unscripted names are NXDOMAIN), optional
/// delays that honour cancellation, PTR and forward answers, and a record of every question.
final class FakeDNS: PolicyDNS {
    let answers: [String: DNSOutcome]
    let delays: [String: Duration]
    let ptr: [IPAddress: Result<[String], DNSFailure>]
    let forward: [String: Result<[IPAddress], DNSFailure>]
    private let asked = Mutex<[String]>([])
    private let ended = Mutex<[String]>([])

    init(
        answers: [String: DNSOutcome] = [:], delays: [String: Duration] = [:],
        ptr: [IPAddress: Result<[String], DNSFailure>] = [:], forward: [String: Result<[IPAddress], DNSFailure>] = [:]
    ) {
        self.answers = answers
        self.delays = delays
        self.ptr = ptr
        self.forward = forward
    }

    /// A listing answer: `listed("127.0.0.2", "127.0.0.10")`.
    static func listed(_ addresses: String..., ttl: Int = 300) -> DNSOutcome {
        .answer(addresses: addresses.map { $0.split(separator: ".").map { UInt8($0)! } }, ttl: ttl)
    }

    /// Every question asked, in order: `A name`, `PTR address`, `A/AAAA name`.
    var questions: [String] { asked.withLock { $0 } }

    func count(_ name: String) -> Int { questions.filter { $0 == "A \(name)" }.count }

    /// How each delayed A query ended: `answered NAME` or `cancelled NAME` (the caller gave up).
    var endings: [String] { ended.withLock { $0 } }

    func addresses(of name: String) async -> DNSOutcome {
        asked.withLock { $0.append("A \(name)") }
        if let delay = delays[name] {
            do {
                try await Task.sleep(for: delay)
                ended.withLock { $0.append("answered \(name)") }
            } catch {
                ended.withLock { $0.append("cancelled \(name)") }
                return .failure(.failed("cancelled"))
            }
        }
        return answers[name] ?? .failure(.notFound)
    }

    func reverseNames(of address: IPAddress) async -> Result<[String], DNSFailure> {
        asked.withLock { $0.append("PTR \(address)") }
        return ptr[address] ?? .failure(.notFound)
    }

    func forwardAddresses(of name: String) async -> Result<[IPAddress], DNSFailure> {
        asked.withLock { $0.append("A/AAAA \(name)") }
        return forward[name] ?? .failure(.notFound)
    }
}

struct FakeGeo: PolicyGeo {
    var data: [IPAddress: GeoInfo]

    func lookup(_ address: IPAddress) -> GeoInfo? { data[address] }
}

func ip(_ text: String) -> IPAddress { IPAddress(text)! }

/// A client policy compiled from rule text (and lists), with fakes behind it.
struct PolicyFixture {
    let policy: ClientPolicy
    let tree: TempTree
    let dns: FakeDNS

    init(
        _ rules: String, lists: [String: String] = [:], dns: FakeDNS = FakeDNS(), geo: FakeGeo? = nil,
        cache: DNSListCache = DNSListCache(), health: ZoneHealth = ZoneHealth(), ourNames: Set<String> = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let outcome = loadRules(rules, lists: lists)
        let set = try #require(outcome.ruleSet, "rules load: \(outcome.messages)", sourceLocation: sourceLocation)
        tree = outcome.tree
        self.dns = dns
        policy = ClientPolicy(rules: set, dns: dns, geo: geo, cache: cache, health: health, ourNames: ourNames)
    }

    /// A list file as list evidence names it.
    func list(_ name: String) -> String { "Blocklists/\(name)" }

    func facts(_ lookups: ClientLookups, helo: String? = nil, earlyTalker: Bool = false) -> SessionFacts {
        var facts = SessionFacts(sessionID: "t", listener: "smtp", clientAddress: lookups.address, clientPort: 40000, helo: helo)
        facts.earlyTalker = earlyTalker
        facts.lookups = lookups
        return facts
    }

    func decide(_ address: String, helo: String? = nil, earlyTalker: Bool = false, atGreeting: Bool = false) async -> Decision {
        let lookups = policy.startLookups(for: ip(address))
        return await policy.decide(lookups, facts: facts(lookups, helo: helo, earlyTalker: earlyTalker), atGreeting: atGreeting)
    }
}

