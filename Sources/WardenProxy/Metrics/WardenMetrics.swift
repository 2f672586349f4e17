import Prometheus
import Synchronization

/// Warden's own metrics, exposed in the Prometheus text format by ``MetricsServer``.
///
/// Every accessor is safe to call from any event loop. Metrics without a label, and the fixed
/// label sets (reply classes, reload results), are created once in `init`, so bumping them takes
/// no lock. Labels whose values come from the running system (listener names, verbs, refusal
/// reasons) create their child on first use and cache it; later uses take one uncontended lock
/// and a dictionary lookup, and allocate nothing.
///
/// A label's value set is bounded by ``maximumLabelValues``: once a family holds that many
/// children, further new values are counted under `other`, so a client that invents verbs
/// cannot grow the registry.
///
/// | metric | type | labels |
/// |---|---|---|
/// | `warden_sessions_open` | gauge | |
/// | `warden_sessions_total` | counter | `listener` |
/// | `warden_commands_total` | counter | `verb` |
/// | `warden_replies_total` | counter | `class` (`2xx` ... `5xx`, `other`) |
/// | `warden_messages_relayed_total` | counter | |
/// | `warden_message_bytes_total` | counter | |
/// | `warden_refusals_total` | counter | `reason` |
/// | `warden_content_rule_errors_total` | counter | `rule` |
/// | `warden_mime_problems_total` | counter | `problem` |
/// | `warden_upstream_connect_seconds` | histogram | |
/// | `warden_upstream_connect_failures_total` | counter | |
/// | `warden_upstream_reply_seconds` | histogram | |
/// | `warden_config_reloads_total` | counter | `result` (`success`, `failure`) |
public final class WardenMetrics: Sendable {
    /// Bound on the distinct values of one label; past it new values are counted as `other`.
    public static let defaultMaximumLabelValues = 256
    /// Upper bounds of the upstream connect histogram's buckets, in seconds.
    public static let connectBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    /// Upper bounds of the upstream reply histogram's buckets, in seconds. End-of-data replies
    /// may take minutes (RFC 5321 section 4.5.3.2.6 allows the server 10).
    public static let replyBuckets: [Double] = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600]

    /// The registry every metric lives in; other components may register their own metrics here.
    public let registry: PrometheusCollectorRegistry
    /// See ``defaultMaximumLabelValues``.
    public let maximumLabelValues: Int

    private let sessionsOpen: Gauge
    private let sessionsTotal: LabelledCounters
    private let commands: LabelledCounters
    private let replyClasses: [Counter]  // index 0...3 is 2xx...5xx, 4 is other
    private let messagesRelayed: Counter
    private let messageBytes: Counter
    private let refusals: LabelledCounters
    private let ruleHits: LabelledCounters
    private let shadowRuleHits: LabelledCounters
    private let wouldHaveRefused: LabelledCounters
    private let listErrors: LabelledCounters
    private let contentRuleErrors: LabelledCounters
    private let mimeProblems: LabelledCounters
    private let zoneGauges = Mutex<[String: Gauge]>([:])
    private let upstreamConnectSeconds: ValueHistogram
    private let upstreamConnectFailures: Counter
    private let upstreamReused: Counter
    private let upstreamReplySeconds: ValueHistogram
    private let reloadSuccesses: Counter
    private let reloadFailures: Counter

    public init(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        maximumLabelValues: Int = WardenMetrics.defaultMaximumLabelValues
    ) {
        precondition(maximumLabelValues > 0, "maximumLabelValues must be positive")
        self.registry = registry
        self.maximumLabelValues = maximumLabelValues
        func name(_ base: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "warden", metricName: base, unitName: unit, helpText: help)
        }
        self.sessionsOpen = registry.makeGauge(descriptor: name("sessions_open", "", "Client sessions open now."))
        self.sessionsTotal = LabelledCounters(
            registry, name("sessions", "total", "Client sessions accepted."), label: "listener", limit: maximumLabelValues
        )
        self.commands = LabelledCounters(
            registry, name("commands", "total", "SMTP commands received from clients."), label: "verb",
            limit: maximumLabelValues
        )
        let replies = name("replies", "total", "Replies sent to clients, by class.")
        self.replyClasses = ["2xx", "3xx", "4xx", "5xx", "other"].map {
            registry.makeCounter(descriptor: replies, labels: [("class", $0)])
        }
        self.messagesRelayed = registry.makeCounter(
            descriptor: name("messages_relayed", "total", "Messages the upstream accepted.")
        )
        self.messageBytes = registry.makeCounter(
            descriptor: name("message_bytes", "total", "Bytes of messages the upstream accepted.")
        )
        self.refusals = LabelledCounters(
            registry, name("refusals", "total", "Policy refusals, by reason."), label: "reason", limit: maximumLabelValues
        )
        self.upstreamConnectSeconds = registry.makeValueHistogram(
            descriptor: name("upstream_connect", "seconds", "Time to connect to the upstream."),
            buckets: Self.connectBuckets
        )
        self.upstreamConnectFailures = registry.makeCounter(
            descriptor: name("upstream_connect_failures", "total", "Failed connections to the upstream.")
        )
        self.upstreamReused = registry.makeCounter(
            descriptor: name("upstream_reused", "total", "Client sessions served by a kept upstream session (no new connection).")
        )
        self.upstreamReplySeconds = registry.makeValueHistogram(
            descriptor: name("upstream_reply", "seconds", "Time the upstream took to reply to a command."),
            buckets: Self.replyBuckets
        )
        self.ruleHits = LabelledCounters(
            registry, name("rule_hits", "total", "Rule hits that counted, by rule."), label: "rule", limit: maximumLabelValues
        )
        self.shadowRuleHits = LabelledCounters(
            registry, name("rule_shadow_hits", "total", "Hits of rules in shadow mode, by rule."), label: "rule", limit: maximumLabelValues
        )
        self.wouldHaveRefused = LabelledCounters(
            registry, name("shadow_refusals", "total", "Decisions that would have refused without shadow mode, by verdict."),
            label: "verdict", limit: maximumLabelValues
        )
        self.listErrors = LabelledCounters(
            registry, name("dnsbl_errors", "total", "DNS list queries that failed or answered an error code, by zone."),
            label: "zone", limit: maximumLabelValues
        )
        self.contentRuleErrors = LabelledCounters(
            registry, name("content_rule_errors", "total", "Content rules stopped by the regex match limits, by rule."),
            label: "rule", limit: maximumLabelValues
        )
        self.mimeProblems = LabelledCounters(
            registry, name("mime_problems", "total", "Malformed MIME read as far as it went, by problem."),
            label: "problem", limit: maximumLabelValues
        )
        let reloads = name("config_reloads", "total", "Configuration reloads, by result.")
        self.reloadSuccesses = registry.makeCounter(descriptor: reloads, labels: [("result", "success")])
        self.reloadFailures = registry.makeCounter(descriptor: reloads, labels: [("result", "failure")])
    }

    /// A rule hit; `shadow` when it runs in shadow mode (logged, not applied).
    public func ruleHit(_ rule: String, shadow: Bool) {
        (shadow ? self.shadowRuleHits : self.ruleHits).counter(for: rule).increment()
    }

    /// A decision that would have refused (`verdict`) had shadow mode been off.
    public func wouldHaveRefused(verdict: String) {
        self.wouldHaveRefused.counter(for: verdict).increment()
    }

    /// A content rule that hit the regex match limits (a catastrophic pattern): counted as not hit.
    public func contentRuleError(_ rule: String) {
        self.contentRuleErrors.counter(for: rule).increment()
    }

    /// A problem the MIME reader forgave in a scanned message (`MIMEProblem`).
    public func mimeProblem(_ problem: String) {
        self.mimeProblems.counter(for: problem).increment()
    }

    /// A DNS list query that failed or got an error code (127.255.255.x).
    public func listError(zone: String) {
        self.listErrors.counter(for: zone).increment()
    }

    /// A zone's health check result: `warden_dnsbl_zone_healthy{zone}` is 1 or 0.
    public func zoneHealth(zone: String, healthy: Bool) {
        let gauge = self.zoneGauges.withLock { gauges in
            if let known = gauges[zone] { return known }
            let made = self.registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "warden", metricName: "dnsbl_zone_healthy", unitName: "",
                    helpText: "1 while the zone passes its health check, 0 while it is disabled."),
                labels: [("zone", zone)])
            gauges[zone] = made
            return made
        }
        gauge.set(healthy ? 1.0 : 0.0)
    }

    /// Whether rate counters are shared (Redis) or this machine's own (memory fallback).
    public func counterStoreShared(_ shared: Bool) {
        let gauge = self.zoneGauges.withLock { gauges in
            if let known = gauges["\u{0}store"] { return known }
            let made = self.registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "warden", metricName: "counter_store_shared", unitName: "",
                    helpText: "1 while rate counters are kept in the shared Redis store, 0 while this instance uses its own."))
            gauges["\u{0}store"] = made
            return made
        }
        gauge.set(shared ? 1.0 : 0.0)
    }

    /// A client connected on the listener named `listener`.
    public func sessionOpened(listener: String) {
        self.sessionsOpen.increment()
        self.sessionsTotal.counter(for: listener).increment()
    }

    /// A session opened with ``sessionOpened(listener:)`` ended, whatever the reason.
    public func sessionClosed(listener: String) {
        self.sessionsOpen.decrement()
    }

    /// A client sent a command; pass the canonical upper-case verb (`MAIL`, `RCPT`, ...), never
    /// the client's raw text.
    public func command(_ verb: String) {
        self.commands.counter(for: verb).increment()
    }

    /// Warden sent a reply with this code to a client.
    public func reply(code: Int) {
        let index = (200..<600).contains(code) ? code / 100 - 2 : 4
        self.replyClasses[index].increment()
    }

    /// The upstream accepted a message of `bytes` bytes.
    public func messageRelayed(bytes: Int) {
        self.messagesRelayed.increment()
        self.messageBytes.increment(by: Int64(max(0, bytes)))
    }

    /// Policy refused something; `reason` is a rule or check name, from configuration.
    public func refusal(reason: String) {
        self.refusals.counter(for: reason).increment()
    }

    /// A connection attempt to the upstream ended after `seconds`.
    public func upstreamConnect(seconds: Double, success: Bool) {
        self.upstreamConnectSeconds.record(max(0, seconds))
        if !success {
            self.upstreamConnectFailures.increment()
        }
    }

    /// A client session got a kept upstream session instead of a new connection.
    public func upstreamReuse() {
        self.upstreamReused.increment()
    }

    /// The upstream replied to a command `seconds` after it was sent.
    public func upstreamReply(seconds: Double) {
        self.upstreamReplySeconds.record(max(0, seconds))
    }

    /// A configuration reload finished.
    public func reloads(success: Bool) {
        (success ? self.reloadSuccesses : self.reloadFailures).increment()
    }

    /// Every registered metric in the Prometheus text exposition format, version 0.0.4.
    public func render() -> String {
        self.registry.emitToString()
    }
}

/// The children of one labelled counter family, created on first use.
private final class LabelledCounters: Sendable {
    static let overflowValue = "other"

    private let registry: PrometheusCollectorRegistry
    private let name: String
    private let help: String
    private let label: String
    private let limit: Int
    private let children = Mutex<[String: Counter]>([:])

    init(_ registry: PrometheusCollectorRegistry, _ descriptor: MetricNameDescriptor, label: String, limit: Int) {
        self.registry = registry
        // MetricNameDescriptor is not Sendable; keep its parts and rebuild it on first use.
        self.name = descriptor.name
        self.help = descriptor.helpText ?? ""
        self.label = label
        self.limit = limit
    }

    func counter(for value: String) -> Counter {
        self.children.withLock { children in
            if let counter = children[value] {
                return counter
            }
            let key = children.count < self.limit ? value : Self.overflowValue
            if let counter = children[key] {
                return counter
            }
            let descriptor = MetricNameDescriptor(metricName: self.name, unitName: "", helpText: self.help)
            let counter = self.registry.makeCounter(descriptor: descriptor, labels: [(self.label, key)])
            children[key] = counter
            return counter
        }
    }
}
