import NIOCore
import NIOPosix
import SMTPCore
import WardenPolicy

/// The embedded upstream (`maildir:PATH`): accepted messages are stored as files, so a newcomer
/// sees mail accepted and refused before pointing Warden at a real server. It accepts every
/// envelope that passed Warden's own checks; `250` comes only after the file is renamed into
/// `new/` (MaildirStore syncs it first).
public struct MaildirUpstream: Upstream {
    let store: MaildirStore
    let hostname: String
    let threadPool: NIOThreadPool

    public init(path: String, hostname: String, threadPool: NIOThreadPool) throws {
        self.store = try MaildirStore(root: path)
        self.hostname = hostname
        self.threadPool = threadPool
    }

    public func connect(facts: SessionFacts, client: ClientEndpoint, on eventLoop: EventLoop, reuse: Bool) -> EventLoopFuture<any UpstreamConnection> {
        eventLoop.makeSucceededFuture(MaildirConnection(upstream: self, eventLoop: eventLoop))
    }
}

final class MaildirConnection: UpstreamConnection, @unchecked Sendable {
    // Immutable apart from what it hands to the thread pool; used on one event loop.
    let upstream: MaildirUpstream
    let eventLoop: EventLoop
    let capabilities = UpstreamCapabilities(["8BITMIME": "", "SMTPUTF8": "", "SIZE": "", "PIPELINING": ""])
    let isUsable = true
    let protectsCredentials = true

    init(upstream: MaildirUpstream, eventLoop: EventLoop) {
        self.upstream = upstream
        self.eventLoop = eventLoop
    }

    func send(_ command: SMTPCommand) -> EventLoopFuture<SMTPReply> {
        let reply: SMTPReply
        switch command {
        case .mail: reply = SMTPReply(250, EnhancedStatusCode(2, 1, 0), "Ok")
        case .rcpt: reply = SMTPReply(250, EnhancedStatusCode(2, 1, 5), "Ok")
        case .rset, .noop: reply = SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok")
        case .quit: reply = SMTPReply(221, EnhancedStatusCode(2, 0, 0), "Bye")
        case .auth: reply = SMTPReply(454, EnhancedStatusCode(4, 7, 0), "Authentication is not available with the maildir upstream")
        default: reply = SMTPReply(502, EnhancedStatusCode(5, 5, 1), "Command not implemented")
        }
        return eventLoop.makeSucceededFuture(reply)
    }

    func sendAuthLine(_ line: String) -> EventLoopFuture<SMTPReply> {
        eventLoop.makeSucceededFuture(SMTPReply(501, EnhancedStatusCode(5, 5, 2), "No authentication in progress"))
    }

    func sendMessage(_ message: MessageSpool, envelope: Envelope) -> EventLoopFuture<MessageOutcome> {
        let store = upstream.store
        let hostname = upstream.hostname
        let job = UncheckedSendable(message)
        let sender = envelope.sender.reversePath?.description ?? ""
        let recipients = envelope.recipients.map { "\($0.forwardPath)" }
        let client = envelope.facts.clientAddress.map { "\($0)" } ?? "unknown"
        let helo = envelope.facts.helo ?? "unknown"
        // File writes and fsync block: they run on the thread pool, never on the event loop.
        return upstream.threadPool.runIfActive(eventLoop: eventLoop) {
            try store.deliver(
                sender: sender, recipients: recipients, clientAddress: client, heloName: helo,
                message: job.value, receivedBy: hostname
            )
        }
        .map { path in
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return MessageOutcome(reply: SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok: stored as \(name)"), contentSent: true)
        }
        .flatMapErrorThrowing { error in
            throw UpstreamError(.storeFailed, "\(error)")
        }
    }

    func quit() {}

    func release() {}
}

/// Hands a value to another thread while its owner waits for the result and does not touch it.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
