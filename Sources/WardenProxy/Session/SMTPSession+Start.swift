import Logging
import NIOCore
import NIOSMTP
import NIOSSL
import SMTPCore
import Synchronization
import WardenPolicy

extension SMTPSession {
    /// Reads a PROXY v1/v2 header from a trusted load balancer and takes the real client from it.
    func readProxyHeader() {
        do {
            guard let header = try ProxyHeaderParser.parse(&input) else {
                return
            }
            awaitingProxyHeader = false
            if let source = header.sourceAddress, let port = header.sourcePort {
                client.address = try? SocketAddress(ipAddress: source, port: port)
                client.ip = IPAddress(source)
            } else {
                // LOCAL or UNKNOWN: the balancer's own connection. Its address must not count as
                // the client's (it may be inside trusted_networks).
                client.address = nil
                client.ip = nil
            }
            begin()
            // Bytes that came with the header, before any greeting, are early talk too.
            if greetingDelayed {
                if input.readableBytes > 0 { receivedEarly() }
            } else {
                processInput()
            }
        } catch {
            logger.warning("bad PROXY header", metadata: ["client": "\(client.address.map { "\($0)" } ?? "?")", "error": "\(error)"])
            closing = true
            context?.close(promise: nil)
        }
    }

    /// The session proper starts: admission, the connect stage, the greeting.
    func begin() {
        facts.clientAddress = client.ip
        facts.clientPort = client.address?.port ?? 0
        logger[metadataKey: "client"] = "\(client.ip.map { "\($0)" } ?? "unknown")"
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let (admission, id) = runtime.registry.admit(
            client: client.ip, maxSessions: configuration.server.maxSessions,
            maxPerClient: configuration.server.maxSessionsPerClient, ratePerMinute: configuration.server.connectionRatePerClient
        ) { force in
            eventLoop.execute { loopBound.value.shutdownRequested(force: force) }
        }
        guard admission == .admitted, let id else {
            refuseSession(admission)
            return
        }
        registryID = id
        runtime.metrics.sessionOpened(listener: listener.configuration.name)
        logger.info("connect", metadata: ["listener": "\(listener.configuration.name)", "tls": "\(facts.tls)"])
        if let ip = client.ip, let clientPolicy = settings.policy.client {
            // DNS lists and reverse DNS are asked now, in parallel, and awaited where needed.
            facts.lookups = clientPolicy.startLookups(for: ip, on: taskExecutor)
        }
        let delay = settings.policy.client?.rules.greetingDelaySeconds ?? 0
        guard delay > 0 else {
            connectStage()
            return
        }
        // Early-talker detection (postscreen's pregreet test): a client that talks before the
        // greeting is a bot that does not wait for the server.
        greetingDelayed = true
        context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(delay * 1000))) { [self] in
            greetingDelayed = false
            guard !closing else { return }
            connectStage()
        }
    }

    private func connectStage() {
        checkLimits(.connect) { [self] allowed, _ in
            guard allowed else { return }
            ask(.connect) { decision in
                self.connectDecided(decision)
            }
        }
    }

    /// Bytes before the greeting: remembered as early talking and dropped.
    func receivedEarly() {
        if !facts.earlyTalker { logger.info("early talker", metadata: ["bytes": "\(input.readableBytes)"]) }
        facts.earlyTalker = true
        input.clear()
    }

    private func refuseSession(_ admission: SessionRegistry.Admission) {
        let reply: SMTPReply
        switch admission {
        case .shuttingDown:
            reply = SMTPReply(421, EnhancedStatusCode(4, 3, 2), "\(hostname) Service shutting down, try again later")
        case .tooManySessions:
            reply = SMTPReply(421, EnhancedStatusCode(4, 7, 0), "\(hostname) Too many connections, try again later")
        case .tooManyFromClient:
            reply = SMTPReply(421, EnhancedStatusCode(4, 7, 0), "\(hostname) Too many connections from your address, try again later")
        case .connectionRate:
            reply = SMTPReply(421, EnhancedStatusCode(4, 7, 0), "\(hostname) Too many connections from your address in the last minute, try again later")
        case .admitted:
            preconditionFailure("refusing an admitted session")
        }
        let reference = nextReference()
        runtime.metrics.refusal(reason: "\(admission)")
        logger.info("refused", metadata: ["stage": "connect", "verdict": "disconnect", "ref": "\(reference)", "reason": "\(admission)"])
        var withReference = reply
        withReference.lines[0] += " [ref=\(reference)]"
        close(with: withReference)
    }

    private func connectDecided(_ decision: Decision) {
        switch decision.verdict {
        case .disconnect:
            refuse(decision, stage: .connect)
        case .reject, .tempfail:
            // Answered at RCPT (DESIGN.md section 3) so that the envelope is logged.
            let reference = nextReference()
            connectRefusal = (decision, reference)
            logger.info("connect refusal deferred to RCPT", metadata: ["ref": "\(reference)"])
            greet()
        case .continue, .accept:
            guard settings.policy.client?.rules.refusalPoint == .greeting else { return greet() }
            whenDecided(settings.policy.clientDecision(facts, atGreeting: true)) { [self] decision in
                clientDecided(decision)
                guard decision.verdict.refuses else { return greet() }
                refuseGreeting(decision)
            }
        }
    }

    /// `reject_at greeting`: 554 instead of the 220 (RFC 5321 3.1); the session then answers
    /// every command but QUIT with 503 until the client leaves. A tempfail or disconnect closes.
    private func refuseGreeting(_ decision: Decision) {
        let reference = nextReference()
        logRefusal(decision, stage: .connect, reference: reference)
        let reply = decision.refusalReply(reference: reference) ?? SMTPServerReplies.ok
        guard decision.verdict == .reject else {
            var closing = reply
            closing.code = 421
            return close(with: closing)
        }
        greetingRefused = true
        write(reply)
        flushIfNeeded()
        arm(configuration.timeouts.greetingSeconds, "greeting")
    }

    /// The client decision is made: log its hits, count them per rule, and log a decision that
    /// shadow mode kept from refusing.
    func clientDecided(_ decision: Decision) {
        for (zone, what) in decision.listErrors.sorted(by: { $0.key < $1.key }) {
            runtime.metrics.listError(zone: zone)
            logger.warning("dns list error", metadata: ["zone": "\(zone)", "answer": "\(what)"])
        }
        guard !decision.hits.isEmpty || decision.wouldHave != nil else { return }
        for hit in decision.hits { runtime.metrics.ruleHit(hit.rule, shadow: hit.shadow) }
        let hits = decision.hits.map { "\($0.rule)(\($0.score)\($0.shadow ? ",shadow" : "")): \($0.evidence)" }.joined(separator: "; ")
        if let wouldHave = decision.wouldHave {
            let reference = nextReference()
            runtime.metrics.wouldHaveRefused(verdict: wouldHave.rawValue)
            logger.info("would have refused", metadata: [
                "ref": "\(reference)", "stage": "connect", "verdict": "\(wouldHave.rawValue)", "applied": "\(decision.verdict.rawValue)",
                "score": "\(decision.score)", "rules": "\(hits)",
            ])
        } else if !decision.verdict.refuses {
            logger.info("client rules", metadata: ["verdict": "\(decision.verdict.rawValue)", "score": "\(decision.score)", "rules": "\(hits)"])
        }
    }

    private func greet() {
        write(SMTPReply(220, nil, "\(hostname) ESMTP Warden"))
        flushIfNeeded()
        arm(configuration.timeouts.greetingSeconds, "greeting")
    }

    /// SIGTERM: an idle session closes now; one inside a transaction finishes it first.
    func shutdownRequested(force: Bool) {
        guard !closing else { return }
        drainRequested = true
        if force || (!busy && machine.phase != .transaction && machine.phase != .data && machine.phase != .auth) {
            close(with: Self.shuttingDown)
        }
    }

    /// The log line that explains a refusal: the reference, the stage, each rule with its score
    /// and evidence.
    func logRefusal(_ decision: Decision, stage: PolicyStage, reference: String) {
        refusals += 1
        let hits = decision.hits.filter { !$0.shadow }.map { "\($0.rule)(\($0.score)): \($0.evidence)" }.joined(separator: "; ")
        var metadata: Logger.Metadata = [
            "ref": "\(reference)", "stage": "\(stage.rawValue)", "verdict": "\(decision.verdict.rawValue)",
            "score": "\(decision.score)", "rules": "\(hits)", "reply": "\((decision.reply ?? decision.verdict.defaultReply)?.code ?? 0)",
        ]
        if let sender = facts.sender { metadata["from"] = "\(sender.reversePath.map { "\($0)" } ?? "")" }
        logger.info("refused", metadata: metadata)
        runtime.metrics.refusal(reason: decision.hits.first { !$0.shadow }?.rule ?? decision.verdict.rawValue)
    }

    static let shuttingDown = SMTPReply(421, EnhancedStatusCode(4, 3, 2), "Service shutting down, try again later")

    /// RFC 3207 4.2: write the 220, discard whatever the client pipelined after STARTTLS, and
    /// start the handshake; the client must greet again.
    func startTLS(_ reply: SMTPReply) {
        guard let context, let tls = listener.tls else { return }
        write(reply)
        flushIfNeeded()
        input.clear()
        decoder = SMTPFrameDecoder(maxLineLength: decoder.maxLineLength, bareLineEndings: decoder.bareLineEndings)
        upstream?.quit()
        upstream = nil
        facts.tls = true
        facts.helo = nil
        facts.authenticatedUser = nil
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
        } catch {
            logger.warning("TLS start failed", metadata: ["error": "\(error)"])
            closing = true
            context.close(promise: nil)
            return
        }
        arm(configuration.timeouts.greetingSeconds, "greeting")
    }

    // MARK: Policy

    /// Asks the policy at `stage`; `then` runs on the event loop, at once when the answer is ready.
    func ask(_ stage: PolicyStage, recipient: RcptCommand? = nil, then: @escaping (Decision) -> Void) {
        whenDecided(settings.policy.evaluate(PolicyQuery(stage: stage, facts: facts, recipient: recipient)), then: then)
    }

    /// Runs `then` with the decision, at once or when a waiting check answers, on the event loop.
    /// A waiting check runs as a task on the session's event loop; with `onLoop` false (long
    /// work: a big message's scan) on the shared concurrency pool, never holding up the loop.
    func whenDecided(_ answer: PolicyAnswer, onLoop: Bool = true, then: @escaping (Decision) -> Void) {
        switch answer {
        case .now(let decision):
            then(decision)
        case .later(let wait):
            guard let context else { return }
            busy = true
            // A check bounds its own wait; this deadline is the backstop for one that does not.
            arm(configuration.timeouts.commandSeconds, "policy")
            let promise = context.eventLoop.makePromise(of: Decision.self)
            if onLoop {
                Task(executorPreference: taskExecutor) { promise.succeed(await wait()) }
            } else {
                promise.completeWithTask { await wait() }
            }
            promise.futureResult.assumeIsolated().whenSuccess { [self] decision in
                busy = false
                guard !closing else { return }
                disarm()
                then(decision)
                carryOn()
            }
        }
    }

    /// Writes the refusal for `decision` with a fresh reference and logs what decided it.
    func refuse(_ decision: Decision, stage: PolicyStage, reference: String? = nil) {
        let reference = reference ?? nextReference()
        logRefusal(decision, stage: stage, reference: reference)
        let reply = decision.refusalReply(reference: reference) ?? SMTPServerReplies.ok
        if decision.verdict == .disconnect {
            close(with: reply)
            return
        }
        write(reply)
        if let closing = machine.commandFailed() { perform(closing) } else { armCommandDeadline() }
    }
}

/// Short session identifiers, and conversions of socket addresses.
enum SessionID {
    /// Where this process starts counting: random, so that identifiers differ between runs.
    private static let start: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()
    private static let counter = Atomic<UInt64>(0)
    private static let mask: UInt64 = 0xff_ffff_ffff

    /// Ten hex digits: a session counter passed through a bijection of 40 bits, so that no two
    /// sessions of one process share an identifier (random ones would, after a million or so)
    /// and no system call is made per session.
    static func make() -> String {
        let text = String(scrambled(start &+ counter.wrappingAdd(1, ordering: .relaxed).oldValue), radix: 16)
        return String(repeating: "0", count: max(0, 10 - text.count)) + text
    }

    /// A bijection of the low 40 bits (xor-shifts and odd multipliers, each invertible modulo 2^40).
    static func scrambled(_ value: UInt64) -> UInt64 {
        var x = value & mask
        x ^= x >> 20
        x = (x &* 0x9E37_79B9_7F4B) & mask
        x ^= x >> 17
        x = (x &* 0xBF58_476D_1CE5) & mask
        x ^= x >> 19
        return x
    }

    /// The address of an IP socket, read from its bytes (not printed and parsed again).
    static func ipAddress(_ address: SocketAddress) -> IPAddress? {
        switch address {
        case .v4(let v4):
            return .v4(UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            return IPAddress(bytes16: withUnsafeBytes(of: &raw) { Array($0) })
        case .unixDomainSocket:
            return nil
        }
    }
}
