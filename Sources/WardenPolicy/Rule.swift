/// What a client rule tests (connect stage, DESIGN.md section 1 step 2).
public enum ClientCondition: Sendable {
    /// The list and its file as the operator names it (`Blocklists/drop.txt`).
    case list(AddressList, file: String)
    case dnsList(zone: String, filter: DNSListFilter)
    case country(Set<String>)
    case continent(Set<String>)
    case asn(Set<Int>)
    case noReverseDNS
    case earlyTalker
}

/// What a HELO rule tests.
public enum HeloCondition: String, Sendable, Hashable, CaseIterable {
    case ipLiteral = "ip-literal"
    case notFQDN = "not-fqdn"
    case claimsUs = "claims-us"
    case noFCrDNSMatch = "no-fcrdns-match"
}

/// A verdict a rule takes by itself when it hits, whatever the score.
public enum RuleAction: String, Sendable, Hashable, CaseIterable {
    case accept, tempfail, reject, disconnect

    var verdict: Verdict {
        switch self {
        case .accept: return .accept
        case .tempfail: return .tempfail
        case .reject: return .reject
        case .disconnect: return .disconnect
        }
    }
}

/// One named rule of `Rules/*.cf`, compiled.
public struct Rule: Sendable {
    public enum Test: Sendable {
        case client(ClientCondition)
        case helo(HeloCondition)
        case rate(RateLimit)
        case bulk(BulkLimit)
        /// A SpamAssassin content rule, run at the end of DATA.
        case content(ContentTest)
    }

    public let name: String
    public let test: Test
    public var summary: String?
    public var score: Double = 1
    public var action: RuleAction?
    /// Evaluated, logged and counted as "would have refused"; never applied.
    public var shadow = false
    /// `tflags` that change how a content rule runs.
    public var flags = RuleFlags()
    /// SpamAssassin's `priority`: content rules run in ascending order of it.
    public var priority = 0
    public let file: String
    public let line: Int

    public init(name: String, test: Test, file: String, line: Int) {
        self.name = name
        self.test = test
        self.file = file
        self.line = line
    }

    /// Sub-rules (`__NAME`) are evaluated for others and never scored.
    public var isSubRule: Bool { name.hasPrefix("__") }
}

/// How one DNS zone is queried and what its failure decides.
public struct ZoneSettings: Sendable, Hashable {
    public enum OnError: String, Sendable, Hashable { case ignore, tempfail }
    public var timeoutSeconds: Double = 3
    public var onError: OnError = .ignore

    public init(timeoutSeconds: Double = 3, onError: OnError = .ignore) {
        self.timeoutSeconds = timeoutSeconds
        self.onError = onError
    }
}

/// A compiled `Rules/` directory: the rules in file order and the global settings.
public struct RuleSet: Sendable {
    public enum RefusalPoint: String, Sendable, Hashable { case rcpt, greeting }

    public var rules: [Rule] = []
    public var tempfailThreshold: Double?
    public var rejectThreshold: Double?
    public var allowThreshold: Double?
    public var refusalPoint: RefusalPoint = .rcpt
    public var shadow = false
    public var greetingDelaySeconds: Double = 0
    public var zones: [String: ZoneSettings] = [:]
    /// Every rule and list file read, for reloading on change.
    public var files: [String] = []
    public var warnings: [RuleDiagnostic] = []
    /// SpamAssassin rules that were recognised but not loaded, with the reason.
    public var skipped: [String: String] = [:]
    /// Content rules that could not be compiled (a regex PCRE2 refuses), with the reason. Like
    /// SpamAssassin, the rest of the rules load; `warden check` lists them.
    public var failed: [String: String] = [:]
    /// `tflags` that Warden reads but that change nothing here, with how often they appear.
    public var ignoredFlags: [String: Int] = [:]
    /// The content rules, compiled for scanning at the end of DATA; nil when there are none.
    public var content: ContentRules?
    /// Bytes of a message the content rules read (`scan_size`); the rest is not scanned.
    public var scanBytes = MIMELimits.defaultMaximumBytes
    /// Header fields added to messages that pass (`tag_headers`, `tag_header`, `tag_threshold`).
    public var tagging = TagHeaders()

    public init() {}

    public static let empty = RuleSet()

    /// The zones some rule queries, each with its settings.
    public var queriedZones: [String: ZoneSettings] {
        var result: [String: ZoneSettings] = [:]
        for rule in rules {
            if case .client(.dnsList(let zone, _)) = rule.test { result[zone] = zones[zone] ?? ZoneSettings() }
        }
        return result
    }

    /// The rate-limit and bulk rules, in file order.
    public var limitRules: [Rule] {
        rules.filter { rule in
            switch rule.test {
            case .rate, .bulk: return true
            default: return false
            }
        }
    }

    public var needsReverseDNS: Bool {
        rules.contains { rule in
            switch rule.test {
            case .client(.noReverseDNS), .helo(.noFCrDNSMatch): return true
            default: return false
            }
        }
    }

    public var needsGeo: Bool {
        rules.contains { rule in
            switch rule.test {
            case .client(.country), .client(.continent), .client(.asn): return true
            default: return false
            }
        }
    }
}
