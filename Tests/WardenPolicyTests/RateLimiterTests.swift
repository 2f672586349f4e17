import SMTPCore
import Testing

@testable import WardenPolicy

/// The rate and bulk checks give the same counts and decisions whether the store is awaited
/// (`check`, Redis) or answers at once (`checkNow`, memory: the session asks without a task).
@Suite struct RateLimiterTests {
    static let rules = """
        ratelimit  CONN   key=client_ip count=connections limit=2/1h
        ratelimit  MSG    key=client_ip count=messages limit=2/1h
        ratelimit  RCPT   key=client_ip count=recipients limit=3/1h
        ratelimit  DR     key=client_ip count=distinct_recipients limit=2/1h
        ratelimit  BYTES  key=client_ip count=bytes limit=1000/1h
        bulk       BULK   key=client_ip limit=2/1h
        """

    /// A store that answers only by awaiting, as the shared store does.
    final class AwaitedStore: CounterStore {
        let memory = MemoryCounterStore()
        func add(_ key: String, amount: Int, window: Duration, now: Double?) async throws -> Double {
            memory.add(key, amount: amount, window: window, now: now)
        }
        func addDistinct(_ key: String, member: String, window: Duration, now: Double?) async throws -> Int {
            memory.addDistinct(key, member: member, window: window, now: now)
        }
        func count(_ key: String, window: Duration, now: Double?) async throws -> Double {
            memory.count(key, window: window, now: now)
        }
        func distinctCount(_ key: String, window: Duration, now: Double?) async throws -> Int {
            memory.distinctCount(key, window: window, now: now)
        }
    }

    struct Event {
        var stage: RateLimiter.Stage
        var recipient: String? = nil
        var size = 0
    }

    static let events: [Event] = [
        Event(stage: .connect), Event(stage: .connect), Event(stage: .connect),
        Event(stage: .mail), Event(stage: .rcpt, recipient: "a@example.test"), Event(stage: .rcpt, recipient: "b@example.test"),
        Event(stage: .rcpt, recipient: "A@example.test"), Event(stage: .rcpt, recipient: "c@example.test"),
        Event(stage: .dataEnd, size: 600), Event(stage: .mail), Event(stage: .dataEnd, size: 600), Event(stage: .mail),
        Event(stage: .mail),
    ]

    static func facts() -> SessionFacts {
        SessionFacts(sessionID: "s", listener: "smtp", clientAddress: IPAddress("192.0.2.1"), clientPort: 40000)
    }

    static func describe(_ outcome: RateLimiter.Outcome) -> String {
        "\(outcome.decision.verdict) \(outcome.decision.hits.map { "\($0.rule): \($0.evidence)" }) \(outcome.reservations.map { "\($0.key)+\($0.amount)" })"
    }

    @Test func theStoreAnsweringAtOnceCountsAndDecidesAsTheAwaitedOne() async throws {
        let ruleSet = try #require(loadRules(Self.rules).ruleSet)
        let awaited = RateLimiter(rules: ruleSet, store: AwaitedStore())
        let immediate = RateLimiter(rules: ruleSet, store: MemoryCounterStore())
        #expect(!awaited.answersAtOnce && immediate.answersAtOnce)
        var verdicts: [Verdict] = []
        for event in Self.events {
            let expected = await awaited.check(event.stage, facts: Self.facts(), recipient: event.recipient, size: event.size)
            let now = try #require(immediate.checkNow(event.stage, facts: Self.facts(), recipient: event.recipient, size: event.size))
            #expect(Self.describe(now) == Self.describe(expected))
            verdicts.append(now.decision.verdict)
        }
        // The third connection, the third distinct recipient (A@ is a@ again), the bytes past
        // 1,000 and the third message refuse; a refused event keeps no reservation.
        #expect(verdicts.map { $0.refuses } == [false, false, true, false, false, false, false, true, false, false, true, true, true])
        #expect(awaited.checkNow(.mail, facts: Self.facts()) == nil, "an awaited store is never asked at once")
    }

    @Test func reservationsAreGivenBackAtOnce() async throws {
        let ruleSet = try #require(loadRules("ratelimit  MSG  key=client_ip count=messages limit=1/1h\n").ruleSet)
        let limiter = RateLimiter(rules: ruleSet, store: MemoryCounterStore())
        let first = try #require(limiter.checkNow(.mail, facts: Self.facts()))
        #expect(first.decision.verdict == .continue && first.reservations.count == 1)
        #expect(limiter.releaseNow(first.reservations))
        let again = try #require(limiter.checkNow(.mail, facts: Self.facts()))
        #expect(again.decision.verdict == .continue, "the message given back does not count")
        #expect(try #require(limiter.checkNow(.mail, facts: Self.facts())).decision.verdict.refuses)
        #expect(!RateLimiter(rules: ruleSet, store: AwaitedStore()).releaseNow(first.reservations))
    }

    @Test func bulkCountsAndDecidesAlikeAtOnceAndAwaited() async throws {
        let ruleSet = try #require(loadRules(Self.rules).ruleSet)
        let awaited = RateLimiter(rules: ruleSet, store: AwaitedStore())
        let immediate = RateLimiter(rules: ruleSet, store: MemoryCounterStore())
        let body = "Subject: offer\r\n\r\nDear Alice, your account has been selected for a special offer today only, reply now.\r\n"
        let fingerprint = try #require(BodyFingerprint.make(message: Array(body.utf8)))
        var refused: [Bool] = []
        for recipients in [["a@example.test"], ["b@example.test", "A@example.test"], ["c@example.test"]] {
            let expected = await awaited.checkBulk(fingerprint: fingerprint, recipients: recipients, facts: Self.facts())
            let now = try #require(immediate.checkBulkNow(fingerprint: fingerprint, recipients: recipients, facts: Self.facts()))
            #expect(now.verdict == expected.verdict)
            #expect(now.hits == expected.hits)
            refused.append(now.verdict.refuses)
        }
        #expect(refused == [false, false, true], "the third distinct recipient of one body is over 2")
        #expect(awaited.checkBulkNow(fingerprint: fingerprint, recipients: ["d@example.test"], facts: Self.facts()) == nil)
    }
}
