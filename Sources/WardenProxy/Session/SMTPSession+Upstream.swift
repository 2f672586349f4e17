import Logging
import NIOCore
import NIOSMTP
import SMTPCore
import WardenPolicy

extension SMTPSession {
    /// Runs `body` with an open upstream session, opening it now if needed (lazily: a client
    /// refused before MAIL or AUTH never costs the upstream a connection).
    func withUpstream(_ body: @escaping (any UpstreamConnection) -> Void) {
        if let upstream, upstream.isUsable {
            body(upstream)
            return
        }
        upstream = nil
        guard let context else { return }
        busy = true
        let started = NIODeadline.now()
        settings.upstream.connect(facts: facts, client: client, on: context.eventLoop)
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
                    let milliseconds = (NIODeadline.now() - started).nanoseconds / 1_000_000
                    logger.debug("upstream open", metadata: ["ms": "\(milliseconds)"])
                    body(connection)
                case .failure(let error):
                    upstreamUnavailable(error)
                }
                if !busy { resume() }
            }
    }

    /// Sends one command and hands the upstream's reply to `then`; a failure to get a reply
    /// becomes a 4xx for the client.
    func relay(_ command: SMTPCommand, on connection: any UpstreamConnection, then: @escaping (SMTPReply) -> Void) {
        wait(for: connection.send(command), then: then)
    }

    func wait(for future: EventLoopFuture<SMTPReply>, then: @escaping (SMTPReply) -> Void) {
        busy = true
        let started = NIODeadline.now()
        future.assumeIsolated().whenComplete { [self] result in
            busy = false
            guard !closing else { return }
            switch result {
            case .success(let reply):
                runtime.metrics.upstreamReply(seconds: Double((NIODeadline.now() - started).nanoseconds) / 1e9)
                then(reply)
            case .failure(let error):
                upstreamLost(error)
            }
            if !busy { resume() }
        }
    }

    /// The upstream could not be opened: the client keeps its message and tries later.
    func upstreamUnavailable(_ error: Error) {
        let reference = nextReference()
        refusals += 1
        runtime.metrics.refusal(reason: "upstream_unavailable")
        logger.warning("upstream unavailable", metadata: ["ref": "\(reference)", "error": "\(error)"])
        facts.sender = nil
        if machine.phase == .auth { endAuth(user: nil) }
        write(SMTPReply(451, EnhancedStatusCode(4, 4, 1), "Mail server unavailable, try again later [ref=\(reference)]"))
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
        wait(for: upstream.send(.rset)) { [self] reply in
            if !reply.isPositiveCompletion {
                logger.warning("upstream refused RSET", metadata: ["reply": "\(reply)"])
                self.upstream?.quit()
                self.upstream = nil
            }
        }
    }
}
