import SMTPCore
import Testing

@testable import WardenPolicy

@Suite struct RelayControlTests {
    let relay = RelayControl(
        acceptedDomains: ["example.test", "Mixed.Example"],
        trustedNetworks: try! NetworkSet(parsing: ["192.0.2.0/24"])
    )

    func decide(_ local: String, _ domain: String, route: [String] = [], client: String = "203.0.113.5", user: String? = nil) -> Verdict {
        let facts = SessionFacts(
            sessionID: "s", listener: "smtp", clientAddress: IPAddress(client), clientPort: 1, authenticatedUser: user)
        let rcpt = RcptCommand(forwardPath: .mailbox(Mailbox(localPart: local, domain: domain)), sourceRoute: route)
        guard case .now(let decision) = relay.evaluate(PolicyQuery(stage: .rcpt, facts: facts, recipient: rcpt)) else {
            Issue.record("relay control must answer at once")
            return .continue
        }
        return decision.verdict
    }

    @Test(arguments: [
        ("user", "example.test", [String](), Verdict.continue),
        ("user", "EXAMPLE.TEST", [], .continue),
        ("user", "mixed.example", [], .continue),
        ("user", "elsewhere.test", [], .reject),
        ("user", "sub.example.test", [], .reject),
        ("user%elsewhere.test", "example.test", [], .reject),
        ("elsewhere.test!user", "example.test", [], .reject),
        ("\"user@elsewhere.test\"", "example.test", [], .reject),
        ("user", "[127.0.0.1]", [], .reject),
        ("user", "elsewhere.test", ["example.test"], .reject),
        ("user", "example.test", ["elsewhere.test"], .reject),
    ])
    func untrustedClient(local: String, domain: String, route: [String], expected: Verdict) {
        #expect(decide(local, domain, route: route) == expected)
    }

    @Test func trustedNetworkAndAuthenticatedUsersMayRelay() {
        #expect(decide("user", "elsewhere.test", client: "192.0.2.9") == .continue)
        #expect(decide("user", "elsewhere.test", user: "alice") == .continue)
        #expect(decide("user", "elsewhere.test", client: "::ffff:192.0.2.9") == .continue)
    }

    @Test func refusalNamesTheReferenceAndReason() {
        let facts = SessionFacts(sessionID: "s", listener: "smtp", clientAddress: IPAddress("203.0.113.5"), clientPort: 1)
        let rcpt = RcptCommand(forwardPath: .mailbox(Mailbox(localPart: "u", domain: "elsewhere.test")))
        guard case .now(let decision) = relay.evaluate(PolicyQuery(stage: .rcpt, facts: facts, recipient: rcpt)) else {
            Issue.record("relay control must answer at once")
            return
        }
        let reply = decision.refusalReply(reference: "abc.1")
        #expect(reply?.code == 554)
        #expect(reply?.enhanced == EnhancedStatusCode(5, 7, 1))
        #expect(reply?.text == "<u@elsewhere.test>: Relay access denied [ref=abc.1]")
        #expect(decision.hits.first?.evidence == "domain elsewhere.test is not accepted")
    }

    @Test func otherStagesPass() {
        let facts = SessionFacts(sessionID: "s", listener: "smtp", clientAddress: IPAddress("203.0.113.5"), clientPort: 1)
        guard case .now(let decision) = relay.evaluate(PolicyQuery(stage: .mail, facts: facts)) else {
            Issue.record("relay control must answer at once")
            return
        }
        #expect(decision.verdict == .continue)
    }
}
