import SMTPCore
import Testing

@testable import WardenPolicy

struct FixedCheck: PolicyCheck {
    let name: String
    let decision: Decision
    let waits: Bool

    func evaluate(_ query: PolicyQuery) -> PolicyAnswer {
        waits ? .later { decision } : .now(decision)
    }
}

@Suite struct PolicyTests {
    let query = PolicyQuery(stage: .mail, facts: SessionFacts(sessionID: "s", listener: "l", clientAddress: nil, clientPort: 0))

    func hit(_ rule: String, _ verdict: Verdict, _ score: Double, waits: Bool = false) -> FixedCheck {
        FixedCheck(name: rule, decision: Decision(verdict: verdict, score: score, hits: [PolicyHit(rule: rule, score: score, evidence: "e")]), waits: waits)
    }

    @Test func relayControlCannotBeSkippedByAnAccept() async {
        let relay = RelayControl(acceptedDomains: ["example.test"], trustedNetworks: NetworkSet([]))
        let policy = Policy(relayControl: relay, checks: [hit("allow", .accept, -5)])
        let facts = SessionFacts(sessionID: "s", listener: "l", clientAddress: IPAddress("203.0.113.1"), clientPort: 0)
        let rcpt = RcptCommand(forwardPath: .mailbox(Mailbox(localPart: "u", domain: "elsewhere.test")))
        guard case .now(let decision) = policy.evaluate(PolicyQuery(stage: .rcpt, facts: facts, recipient: rcpt)) else {
            Issue.record("relay control answers at once")
            return
        }
        #expect(decision.verdict == .reject)
        #expect(decision.hits.map(\.rule) == ["relay_control"])
    }

    func run(_ policy: Policy) async -> Decision {
        switch policy.evaluate(query) {
        case .now(let decision): return decision
        case .later(let wait): return await wait()
        }
    }

    @Test func scoresAddAndTheFirstRefusalEndsTheStage() async {
        let policy = Policy(relayControl: nil, checks: [hit("a", .continue, 1), hit("b", .reject, 2), hit("c", .reject, 4)])
        let decision = await run(policy)
        #expect(decision.verdict == .reject)
        #expect(decision.score == 3)
        #expect(decision.hits.map(\.rule) == ["a", "b"])
    }

    @Test func acceptSkipsTheRemainingChecks() async {
        let policy = Policy(relayControl: nil, checks: [hit("allow", .accept, -5), hit("block", .reject, 10)])
        let decision = await run(policy)
        #expect(decision.verdict == .accept)
        #expect(decision.hits.map(\.rule) == ["allow"])
    }

    @Test func aWaitingCheckKeepsTheOrder() async {
        let policy = Policy(relayControl: nil, checks: [hit("a", .continue, 1), hit("dns", .continue, 2, waits: true), hit("c", .tempfail, 4)])
        guard case .later = policy.evaluate(query) else {
            Issue.record("a waiting check makes the answer wait")
            return
        }
        let decision = await run(policy)
        #expect(decision.verdict == .tempfail)
        #expect(decision.score == 7)
        #expect(decision.hits.map(\.rule) == ["a", "dns", "c"])
    }

    @Test func defaultRepliesCarryTheReference() {
        let decision = Decision(verdict: .tempfail)
        #expect(decision.refusalReply(reference: "r.1") == SMTPReply(451, EnhancedStatusCode(4, 7, 1), "Try again later [ref=r.1]"))
        #expect(Decision.pass.refusalReply(reference: "r.2") == nil)
    }
}
