import NIOConcurrencyHelpers
import NIOCore
import SMTPCore
import WardenPolicy

@testable import WardenProxy

/// An upstream that records what Warden sent and answers from a script; with `hold` set, replies
/// wait until the test releases them, so a test can see that nothing reaches the client first.
final class FakeUpstream: Upstream, @unchecked Sendable {
    var sent: [String] = []
    var messages: [String] = []
    var connects = 0
    var refuseConnect = false
    /// The connection breaks while idle (an upstream restart between commands).
    var dropped = false
    var failMessage = false
    var hold = false
    var held: [(EventLoopPromise<SMTPReply>, SMTPReply)] = []
    var script: (String) -> SMTPReply = { command in
        if command.hasPrefix("RCPT TO:<nobody@") { return SMTPReply(550, EnhancedStatusCode(5, 1, 1), "<nobody@example.test>: Recipient address rejected: User unknown") }
        if command.hasPrefix("DATA") { return SMTPReply(354, nil, "go ahead") }
        return SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok")
    }

    func connect(facts: SessionFacts, client: ClientEndpoint, on eventLoop: EventLoop, reuse: Bool) -> EventLoopFuture<any UpstreamConnection> {
        connects += 1
        if refuseConnect { return eventLoop.makeFailedFuture(UpstreamError(.connectFailed, "test")) }
        return eventLoop.makeSucceededFuture(FakeConnection(upstream: self, eventLoop: eventLoop))
    }

    func answer(_ command: String, on eventLoop: EventLoop) -> EventLoopFuture<SMTPReply> {
        sent.append(command)
        let reply = script(command)
        guard hold else { return eventLoop.makeSucceededFuture(reply) }
        let promise = eventLoop.makePromise(of: SMTPReply.self)
        held.append((promise, reply))
        return promise.futureResult
    }

    func release() {
        let waiting = held
        held = []
        for (promise, reply) in waiting { promise.succeed(reply) }
    }
}

final class FakeConnection: UpstreamConnection, @unchecked Sendable {
    let upstream: FakeUpstream
    let eventLoop: EventLoop
    let capabilities = UpstreamCapabilities(["8BITMIME": "", "SMTPUTF8": "", "DSN": "", "SIZE": "", "AUTH": "PLAIN LOGIN"])
    var isUsable: Bool { !upstream.dropped }
    let protectsCredentials = true

    init(upstream: FakeUpstream, eventLoop: EventLoop) {
        self.upstream = upstream
        self.eventLoop = eventLoop
    }

    func send(_ command: SMTPCommand) -> EventLoopFuture<SMTPReply> {
        var buffer = ByteBuffer()
        command.write(into: &buffer)
        return upstream.answer(String(buffer: buffer).trimmingCharacters(in: .newlines), on: eventLoop)
    }

    func sendAuthLine(_ line: String) -> EventLoopFuture<SMTPReply> {
        upstream.answer(line, on: eventLoop)
    }

    func sendMessage(_ message: MessageSpool, envelope: Envelope) -> EventLoopFuture<MessageOutcome> {
        if upstream.failMessage { return eventLoop.makeFailedFuture(UpstreamError(.closed, "test")) }
        return send(.data).assumeIsolated().flatMap { reply in
            guard reply.code == 354 else { return self.eventLoop.makeSucceededFuture(MessageOutcome(reply: reply, contentSent: false)) }
            let content = (try? message.readAll()).map { String(buffer: $0) } ?? "<unreadable>"
            self.upstream.messages.append(content)
            return self.upstream.answer("<message>", on: self.eventLoop).map { MessageOutcome(reply: $0, contentSent: true) }
        }.nonisolated()
    }

    func quit() {}

    func release() {}
}
