import Logging
import NIOCore
import NIOSMTP
import NIOSSL
import SMTPCore
import WardenPolicy

/// One SMTP session with the upstream. Lives on the client session's event loop.
///
///     S: 220 mx.example ESMTP
///     C: EHLO warden.example            (C = Warden here)
///     C: STARTTLS, EHLO                 (when configured and offered)
///     C: XCLIENT ADDR=192.0.2.10 ...    (when enabled and offered; the server greets again)
///     C: EHLO warden.example
final class SMTPUpstreamConnection: UpstreamConnection, @unchecked Sendable {
    // Every method runs on `channel.eventLoop`: the client session that owns it calls it there,
    // and all continuations below are scheduled on that loop.
    let channel: Channel
    let replies: UpstreamReplyHandler
    let configuration: UpstreamConfiguration
    /// Where this session is kept for the next client session when it may be reused.
    let pool: UpstreamIdlePool?
    private(set) var capabilities = UpstreamCapabilities([:])
    private(set) var tlsActive = false
    /// Whether the upstream was told who a client is (XCLIENT, a PROXY header) or saw an AUTH
    /// exchange: such a session belongs to that client and is never reused for another.
    var carriesClientState = false
    /// Messages sent (DATA accepted), over all the client sessions that used this one.
    private(set) var transactions = 0
    /// Taken from the idle pool by a new client session: RSET goes out with the next command.
    var resetPending = false
    /// Counts a kept session's successful reuse.
    let metrics: WardenMetrics?
    /// The wait for the current reply (or for the whole message content and its reply).
    private let deadline: LazyDeadline

    init(
        channel: Channel, replies: UpstreamReplyHandler, configuration: UpstreamConfiguration, pool: UpstreamIdlePool? = nil,
        metrics: WardenMetrics? = nil
    ) {
        self.channel = channel
        self.replies = replies
        self.configuration = configuration
        self.pool = pool
        self.metrics = metrics
        self.deadline = LazyDeadline(eventLoop: channel.eventLoop)
        channel.closeFuture.whenComplete { [self] _ in deadline.cancel() }
    }

    var isUsable: Bool { channel.isActive && !replies.isClosed }

    var protectsCredentials: Bool {
        tlsActive || channel.remoteAddress.flatMap(SessionID.ipAddress).map(Self.isLoopback) == true
    }

    static func isLoopback(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let value): return value >> 24 == 127
        case .v6(let high, let low): return high == 0 && low == 1
        }
    }

    func send(_ command: SMTPCommand) -> EventLoopFuture<SMTPReply> {
        // AUTH logs this upstream session in as the client's user: never to be reused.
        if case .auth = command { carriesClientState = true }
        var buffer = channel.allocator.buffer(capacity: 128)
        command.write(into: &buffer)
        return exchange(buffer, timeout: configuration.commandTimeoutSeconds)
    }

    func sendAuthLine(_ line: String) -> EventLoopFuture<SMTPReply> {
        carriesClientState = true
        var buffer = channel.allocator.buffer(capacity: line.utf8.count + 2)
        buffer.writeString(line)
        buffer.writeString("\r\n")
        return exchange(buffer, timeout: configuration.commandTimeoutSeconds)
    }

    func sendMessage(_ message: MessageSpool, envelope: Envelope) -> EventLoopFuture<MessageOutcome> {
        send(.data).assumeIsolated().flatMap { reply in
            guard reply.code == 354 else {
                return self.channel.eventLoop.makeSucceededFuture(MessageOutcome(reply: reply, contentSent: false))
            }
            self.transactions += 1
            // One deadline for the whole content and the final reply.
            let due = self.channel.eventLoop.now + .seconds(Int64(self.configuration.dataTimeoutSeconds))
            self.deadline.set(due) { [self] in timedOut(after: configuration.dataTimeoutSeconds) }
            let writer = DataWriter(channel: self.channel, message: message)
            return writer.writeAll().assumeIsolated().flatMap { last in
                self.exchange(last, replies: 1, deadline: due, timeout: self.configuration.dataTimeoutSeconds)[0]
            }.map { reply in
                MessageOutcome(reply: reply, contentSent: true)
            }.nonisolated()
        }.nonisolated()
    }

    func quit() {
        guard isUsable else { return }
        let channel = self.channel
        send(.quit).whenComplete { _ in channel.close(promise: nil) }
    }

    func release() {
        if pool?.keep(self) != true { quit() }
    }

    /// Whether another client session may use this one: it carries nothing of this client's,
    /// is open, idle between transactions, and has not carried too many messages.
    func isReusable(maximumTransactions: Int) -> Bool {
        !carriesClientState && isUsable && !replies.isWaiting && !replies.hasBufferedInput && transactions < maximumTransactions
    }

    /// Writes `bytes` and waits for one reply, at most `timeout` seconds; a timeout closes the
    /// connection because its state is unknown afterwards.
    func exchange(_ bytes: ByteBuffer?, timeout: Int) -> EventLoopFuture<SMTPReply> {
        let due = channel.eventLoop.now + .seconds(Int64(timeout))
        guard resetPending, let bytes else { return exchange(bytes, deadline: due, timeout: timeout) }
        resetPending = false
        return exchangeAfterReset(bytes, deadline: due, timeout: timeout)
    }

    /// The first command of a new client session on a kept session: RSET (RFC 5321 4.1.1.5)
    /// before it, which leaves no transaction state behind and shows the upstream still answers,
    /// in the same write when the upstream offers PIPELINING (RFC 2920 3.1 lets RSET go in a
    /// group). A refused RSET, or a session that closed before answering it, closes it and fails
    /// with `keptSessionGone`: the client session then opens a fresh one and says it again.
    private func exchangeAfterReset(_ command: ByteBuffer, deadline due: NIODeadline, timeout: Int) -> EventLoopFuture<SMTPReply> {
        var rset = channel.allocator.buffer(capacity: 8)
        SMTPCommand.rset.write(into: &rset)
        let reset: EventLoopFuture<SMTPReply>
        let reply: EventLoopFuture<SMTPReply>
        // RSET has the connect timeout, as a fresh connection would: a kept session whose path
        // died silently is given up on as soon, not after the command's own timeout.
        let resetSeconds = configuration.connectTimeoutSeconds
        let resetDue = min(due, channel.eventLoop.now + .seconds(Int64(resetSeconds)))
        if capabilities.offers("PIPELINING") {
            let answers = exchange([rset, command], replies: 2, deadline: resetDue, timeout: resetSeconds)
            (reset, reply) = (answers[0], answers[1])
            reset.whenSuccess { [self] _ in
                if replies.isWaiting { deadline.set(due) { [self] in timedOut(after: timeout) } }
            }
        } else {
            reset = exchange(rset, deadline: resetDue, timeout: resetSeconds)
            reply = reset.flatMap { answer in
                guard answer.isPositiveCompletion else { return self.channel.eventLoop.makeFailedFuture(UpstreamError(.closed)) }
                return self.exchange(command, deadline: due, timeout: timeout)
            }
        }
        let channel = self.channel
        let metrics = self.metrics
        return reset.flatMapThrowing { answer in
            guard answer.isPositiveCompletion else { throw UpstreamError(.keptSessionGone, "RSET answered \(answer)") }
            metrics?.upstreamReuse()
        }.flatMapErrorThrowing { error in
            channel.close(promise: nil)
            if let error = error as? UpstreamError, error.kind == .keptSessionGone { throw error }
            throw UpstreamError(.keptSessionGone, "before answering RSET: \(error)")
        }.flatMap { reply }
    }

    private func exchange(_ bytes: ByteBuffer?, deadline due: NIODeadline, timeout: Int) -> EventLoopFuture<SMTPReply> {
        let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
        replies.expectReply(promise)
        if let bytes { channel.writeAndFlush(bytes, promise: nil) }
        awaitReplies(until: due, timeout: timeout, last: promise.futureResult)
        return promise.futureResult
    }

    /// Writes `parts` in one flush (one system call for a few of them) and waits for `count`
    /// replies, in order, all within `due`.
    private func exchange(_ parts: [ByteBuffer], replies count: Int, deadline due: NIODeadline, timeout: Int) -> [EventLoopFuture<SMTPReply>] {
        let promises = (0..<count).map { _ in channel.eventLoop.makePromise(of: SMTPReply.self) }
        for promise in promises { replies.expectReply(promise) }
        for part in parts { channel.write(part, promise: nil) }
        channel.flush()
        awaitReplies(until: due, timeout: timeout, last: promises[count - 1].futureResult)
        return promises.map(\.futureResult)
    }

    /// Runs the deadline for the replies just asked for, until `last` of them arrives.
    private func awaitReplies(until due: NIODeadline, timeout: Int, last: EventLoopFuture<SMTPReply>) {
        deadline.set(due) { [self] in timedOut(after: timeout) }
        last.whenComplete { [self] _ in
            if !replies.isWaiting { deadline.clear() }
        }
    }

    /// No reply in time: whatever waits fails with a timeout, and the connection closes.
    private func timedOut(after seconds: Int) {
        replies.failAll(UpstreamError(.timeout, "no reply within \(seconds)s"))
        channel.close(promise: nil)
    }

    // MARK: Handshake

    func handshake(
        facts: SessionFacts, client: ClientEndpoint, tlsContext: NIOSSLContext?, serverName: String,
        deadline: NIODeadline, logger: Logger
    ) -> EventLoopFuture<Void> {
        let seconds = max(1, Int((deadline - .now()).nanoseconds / 1_000_000_000))
        return expectGreeting(seconds: seconds)
            .flatMap { self.ehlo() }
            .flatMap { self.startTLSIfWanted(tlsContext, serverName: serverName) }
            .flatMap { self.sendXClientIfWanted(facts: facts, client: client, logger: logger) }
    }

    private func expectGreeting(seconds: Int) -> EventLoopFuture<Void> {
        exchange(nil, timeout: seconds).flatMapThrowing { reply in
            guard reply.code == 220 else { throw UpstreamError(.refused, "greeting \(reply)") }
        }
    }

    private func ehlo() -> EventLoopFuture<Void> {
        send(.ehlo(configuration.heloName)).flatMapThrowing { reply in
            guard reply.code == 250 else { throw UpstreamError(.refused, "EHLO answered \(reply)") }
            self.capabilities = UpstreamCapabilities(ehloReply: reply)
        }
    }

    private func startTLSIfWanted(_ context: NIOSSLContext?, serverName: String) -> EventLoopFuture<Void> {
        let eventLoop = channel.eventLoop
        guard let context, configuration.tls != .off else { return eventLoop.makeSucceededVoidFuture() }
        guard capabilities.offers("STARTTLS") else {
            if configuration.tls == .required { return eventLoop.makeFailedFuture(UpstreamError(.tlsRequired)) }
            return eventLoop.makeSucceededVoidFuture()
        }
        return send(.starttls).flatMap { reply in
            guard reply.code == 220 else {
                if self.configuration.tls == .required {
                    return eventLoop.makeFailedFuture(UpstreamError(.tlsFailed, "STARTTLS answered \(reply)"))
                }
                return eventLoop.makeSucceededVoidFuture()
            }
            guard !self.replies.hasBufferedInput else {
                return eventLoop.makeFailedFuture(UpstreamError(.protocolViolation, "data after the 220 to STARTTLS"))
            }
            do {
                let hostname = IPAddress(serverName) == nil ? serverName : nil
                let handler = try NIOSSLClientHandler(context: context, serverHostname: hostname)
                try self.channel.pipeline.syncOperations.addHandler(handler, position: .first)
                self.tlsActive = true
            } catch {
                return eventLoop.makeFailedFuture(UpstreamError(.tlsFailed, "\(error)"))
            }
            return self.ehlo()
        }
    }

    private func sendXClientIfWanted(facts: SessionFacts, client: ClientEndpoint, logger: Logger) -> EventLoopFuture<Void> {
        let eventLoop = channel.eventLoop
        guard configuration.xclient, configuration.proxyProtocol == .off,
            let offered = capabilities.keywords["XCLIENT"], let line = XClient.line(facts: facts, offered: offered)
        else { return eventLoop.makeSucceededVoidFuture() }
        var buffer = channel.allocator.buffer(capacity: line.utf8.count + 2)
        buffer.writeString(line + "\r\n")
        carriesClientState = true
        return exchange(buffer, timeout: configuration.commandTimeoutSeconds).flatMap { reply in
            guard reply.code == 220 else {
                // The upstream will see Warden's own address; relay control does not depend on it.
                logger.warning("upstream refused XCLIENT", metadata: ["reply": "\(reply)"])
                return eventLoop.makeSucceededVoidFuture()
            }
            return self.ehlo()
        }
    }
}

/// The XCLIENT command (Postfix XCLIENT_README): tells the upstream who the real client is.
enum XClient {
    static func line(facts: SessionFacts, offered: String) -> String? {
        let supported = Set(offered.uppercased().split(separator: " ").map(String.init))
        var attributes: [(String, String)] = []
        if let address = facts.clientAddress {
            attributes.append(("ADDR", address.isIPv4 ? "\(address)" : "IPV6:\(address)"))
        }
        attributes.append(("PORT", "\(facts.clientPort)"))
        attributes.append(("NAME", "[UNAVAILABLE]"))
        if let helo = facts.helo { attributes.append(("HELO", helo)) }
        attributes.append(("PROTO", facts.helo == nil ? "SMTP" : "ESMTP"))
        if let user = facts.authenticatedUser { attributes.append(("LOGIN", user)) }
        let sent = attributes.filter { supported.contains($0.0) }
        guard !sent.isEmpty else { return nil }
        return "XCLIENT " + sent.map { "\($0.0)=\(XText.encode($0.1))" }.joined(separator: " ")
    }
}
