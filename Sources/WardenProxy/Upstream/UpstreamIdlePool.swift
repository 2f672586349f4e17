import NIOConcurrencyHelpers
import NIOCore

/// Upstream sessions kept open between client sessions, per event loop, so that the next client
/// session on that loop skips the connect, the greeting, EHLO and the QUIT at its end.
///
/// A session is kept only when reusing it hides nothing the upstream was told about one client
/// from the next (`SMTPUpstreamConnection.isReusable`): no XCLIENT (it carries the client's
/// address, HELO and login), no PROXY header, no AUTH exchange, no transaction open, no reply
/// outstanding. The next client session sends RSET with its first command (pipelined where the
/// upstream allows), which also proves the session is alive; when that fails it opens a fresh
/// one and says the command again, so a kept session that died costs no message.
/// A kept session closes (QUIT) after `idleSeconds` unused or `maximumTransactions` messages.
final class UpstreamIdlePool: Sendable {
    /// Idle sessions kept per event loop at most: one per client session that ended recently.
    static let maximumPerLoop = 64
    /// Messages one upstream session carries at most, under Exim's default
    /// `smtp_accept_max_per_connection` (1000).
    static let maximumTransactions = 500
    /// How often kept sessions are checked for expiry, and how many end at most per check.
    static let sweepPeriod = TimeAmount.milliseconds(250)
    static let sweepBatch = 4

    private struct Idle {
        var connection: SMTPUpstreamConnection
        var since: NIODeadline
    }

    let idleSeconds: Int64
    private let idle = NIOLockedValueBox<[ObjectIdentifier: [Idle]]>([:])
    private let sweeping = NIOLockedValueBox<Set<ObjectIdentifier>>([])

    init(idleSeconds: Int) {
        self.idleSeconds = Int64(idleSeconds)
    }

    var isEnabled: Bool { idleSeconds > 0 }

    /// The most recently kept session of this loop, if it is still open and fresh. When it is
    /// not, the older ones are not either: they are left to the sweep, which ends a few at a time.
    func take(on eventLoop: EventLoop) -> SMTPUpstreamConnection? {
        guard let entry = idle.withLockedValue({ $0[ObjectIdentifier(eventLoop)]?.popLast() }) else { return nil }
        if entry.connection.isUsable, eventLoop.now - entry.since < .seconds(idleSeconds) { return entry.connection }
        entry.connection.quit()
        return nil
    }

    /// Keeps `connection` for the next client session of its loop; false when it may not be
    /// kept (the caller ends it).
    func keep(_ connection: SMTPUpstreamConnection) -> Bool {
        guard isEnabled, connection.isReusable(maximumTransactions: Self.maximumTransactions) else { return false }
        let eventLoop = connection.channel.eventLoop
        let key = ObjectIdentifier(eventLoop)
        let kept = idle.withLockedValue { idle in
            guard idle[key, default: []].count < Self.maximumPerLoop else { return false }
            idle[key, default: []].append(Idle(connection: connection, since: eventLoop.now))
            return true
        }
        if kept { startSweeping(eventLoop) }
        return kept
    }

    /// Ends, a few at a time, the sessions of `eventLoop` kept longer than `idleSeconds`: after a
    /// burst the loop holds many that expire together, and ending them all in one turn (a QUIT,
    /// a reply and a close each) would hold up the sessions it serves.
    private func startSweeping(_ eventLoop: EventLoop) {
        let key = ObjectIdentifier(eventLoop)
        guard sweeping.withLockedValue({ $0.insert(key).inserted }) else { return }
        eventLoop.scheduleRepeatedTask(initialDelay: Self.sweepPeriod, delay: Self.sweepPeriod) { [weak self] task in
            guard let self else { return task.cancel() }  // a reload replaced the upstream and its pool
            let cutoff = eventLoop.now - .seconds(idleSeconds)
            let expired = idle.withLockedValue { idle -> [Idle] in
                // Oldest first: the first `sweepBatch` that are expired or closed go.
                var all = idle[key] ?? []
                var ended: [Idle] = []
                all.removeAll { entry in
                    guard ended.count < Self.sweepBatch, entry.since <= cutoff || !entry.connection.isUsable else { return false }
                    ended.append(entry)
                    return true
                }
                idle[key] = all
                return ended
            }
            for entry in expired { entry.connection.quit() }
            // Nothing left to watch: the next `keep` on this loop starts the sweep again (both
            // run on this loop, so they cannot cross).
            if idle.withLockedValue({ $0[key]?.isEmpty ?? true }) {
                sweeping.withLockedValue { _ = $0.remove(key) }
                task.cancel()
            }
        }
    }
}
