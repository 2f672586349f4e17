import Logging
import NIOCore
import NIOSMTP
import SMTPCore
import WardenPolicy

extension SMTPSession {
    /// Runs `body` with an open upstream session, opening it now if needed (lazily: a client
    /// refused before MAIL or AUTH never costs the upstream a connection). With `reuse` it may
    /// be one an earlier client session left open (see `Upstream.connect`).
    func withUpstream(reuse: Bool = true, _ body: @escaping (any UpstreamConnection) -> Void) {
        if let upstream, upstream.isUsable {
            body(upstream)
            return
        }
        upstream = nil
        upstreamInTransaction = false
        guard let context else { return }
        busy = true
        settings.upstream.connect(facts: facts, client: client, on: context.eventLoop, reuse: reuse)
            .assumeIsolated()
            .whenComplete { [self] result in
                busy = false
                guard !closing else {
                    if case .success(let connection) = result { connection.quit() }
                    return
                }
                switch result {
                case .success(let connection):
                    upstream = connection
                    body(connection)
                case .failure(let error):
                    upstreamUnavailable(error)
                }
                carryOn()
            }
    }

    /// Sends one command and hands the upstream's reply to `then`; a failure to get a reply
    /// becomes a 4xx for the client.
    func relay(_ command: SMTPCommand, on connection: any UpstreamConnection, then: @escaping (SMTPReply) -> Void) {
        wait(for: connection.send(command), reply: \.self, then: then)
    }

    /// Waits for the upstream. An upstream that fails, or says 421 (it is closing), ends the
    /// client session with a 4xx: its transaction state is lost. A kept session found closed
    /// (`keptSessionGone`, at the first command only) is dropped and `retry` runs instead, when given.
    func wait<Answer>(
        for future: EventLoopFuture<Answer>, reply: @escaping (Answer) -> SMTPReply, retry: (() -> Void)? = nil,
        then: @escaping (Answer) -> Void
    ) {
        busy = true
        let started = NIODeadline.now()
        future.assumeIsolated().whenComplete { [self] result in
            busy = false
            guard !closing else { return }
            switch result {
            case .success(let answer) where reply(answer).code == 421:
                upstreamLost(UpstreamError(.closed, "it said \(reply(answer))"))
            case .success(let answer):
                runtime.metrics.upstreamReply(seconds: Double((NIODeadline.now() - started).nanoseconds) / 1e9)
                then(answer)
            case .failure(let error as UpstreamError) where error.kind == .keptSessionGone && retry != nil:
                logger.debug("kept upstream session gone, opening a fresh one", metadata: ["error": "\(error)"])
                upstream = nil
                upstreamInTransaction = false
                retry?()
            case .failure(let error):
                upstreamLost(error)
            }
            carryOn()
        }
    }

    /// After a wait: send what was written, and go on with pipelined input unless waiting again.
    func carryOn() {
        flushIfNeeded()
        if !busy { resume() }
    }

    /// The upstream could not be opened: the client keeps its message and tries later.
    func upstreamUnavailable(_ error: Error) {
        let reference = nextReference()
        refusals += 1
        runtime.metrics.refusal(reason: "upstream_unavailable")
        logger.warning("upstream unavailable", metadata: ["ref": "\(reference)", "error": "\(error)"])
        if machine.phase == .data {
            endMessage(SMTPReply(451, EnhancedStatusCode(4, 4, 1), "Mail server unavailable, try again later [ref=\(reference)]"), refused: true)
            return
        }
        facts.sender = nil
        if machine.phase == .auth {
            endAuth(user: nil)
            write(SMTPReply(454, EnhancedStatusCode(4, 7, 0), "Temporary authentication failure, try again later [ref=\(reference)]"))
        } else {
            write(SMTPReply(451, EnhancedStatusCode(4, 4, 1), "Mail server unavailable, try again later [ref=\(reference)]"))
        }
        armCommandDeadline()
    }

    /// The upstream failed inside a session: its state is lost, so the client session ends with
    /// a 4xx and the client retries the whole transaction.
    func upstreamLost(_ error: Error) {
        let reference = nextReference()
        refusals += 1
        upstream = nil
        upstreamInTransaction = false
        runtime.metrics.refusal(reason: "upstream_lost")
        logger.warning("upstream lost", metadata: ["ref": "\(reference)", "error": "\(error)", "phase": "\(machine.phase)"])
        close(with: SMTPReply(421, EnhancedStatusCode(4, 4, 2), "\(hostname) Mail server connection lost, try again later [ref=\(reference)]"))
    }

    /// Ends the upstream's transaction (RSET) when one is open there, in lockstep.
    func resetUpstreamTransaction() {
        guard upstreamInTransaction, let upstream, upstream.isUsable else { return }
        upstreamInTransaction = false
        relay(.rset, on: upstream) { [self] reply in
            if !reply.isPositiveCompletion {
                logger.warning("upstream refused RSET", metadata: ["reply": "\(reply)"])
                self.upstream?.quit()
                self.upstream = nil
            }
        }
    }

    /// Opens the upstream again and repeats MAIL and every accepted RCPT, for a message whose
    /// upstream session ended while the client was still sending it (the upstream's own idle
    /// timeout can be shorter than a slow upload). Anything but the same acceptance: `451`.
    func replayEnvelope(then: @escaping (any UpstreamConnection) -> Void) {
        guard let mail = machine.mail else { preconditionFailure("replay without MAIL in phase \(machine.phase)") }
        logger.info("upstream closed during the message, opening it again", metadata: ["rcpts": "\(recipients.count)"])
        withUpstream(reuse: false) { [self] connection in
            guard case .success(let forwarded) = UpstreamAdaptation.mail(mail, for: connection.capabilities, authenticated: facts.authenticatedUser != nil) else {
                return replayFailed("MAIL no longer fits the upstream's capabilities")
            }
            relay(.mail(forwarded), on: connection) { [self] reply in
                guard reply.isPositiveCompletion else { return replayFailed("MAIL answered \(reply)") }
                upstreamInTransaction = true
                replayRecipients(Array(recipients), on: connection, then: then)
            }
        }
    }

    private func replayRecipients(_ remaining: [RcptCommand], on connection: any UpstreamConnection, then: @escaping (any UpstreamConnection) -> Void) {
        guard let next = remaining.first else { return then(connection) }
        relay(.rcpt(UpstreamAdaptation.rcpt(next, for: connection.capabilities)), on: connection) { [self] reply in
            guard reply.isPositiveCompletion else { return replayFailed("RCPT \(next.forwardPath) answered \(reply)") }
            replayRecipients(Array(remaining.dropFirst()), on: connection, then: then)
        }
    }

    private func replayFailed(_ why: String) {
        let reference = nextReference()
        logger.warning("upstream replay failed", metadata: ["ref": "\(reference)", "reason": "\(why)"])
        endMessage(SMTPReply(451, EnhancedStatusCode(4, 4, 1), "Mail server unavailable, try again later [ref=\(reference)]"), refused: true)
    }
}
