import NIOCore
import SMTPCore
import WardenPolicy

/// What the upstream said it supports in its EHLO reply (RFC 5321 4.1.1.1), keyword uppercased.
public struct UpstreamCapabilities: Sendable, Hashable {
    public var keywords: [String: String]

    public init(ehloReply: SMTPReply?) {
        var keywords: [String: String] = [:]
        for line in (ehloReply?.lines ?? []).dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let keyword = parts.first else { continue }
            keywords[keyword.uppercased()] = parts.count > 1 ? String(parts[1]) : ""
        }
        self.keywords = keywords
    }

    public init(_ keywords: [String: String]) { self.keywords = keywords }

    public func offers(_ keyword: String) -> Bool { keywords[keyword] != nil }
}

/// Why the upstream could not be used; the session turns each into a 4xx for the client.
public struct UpstreamError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case connectFailed = "connect failed"
        case refused = "refused the session"
        case timeout = "timed out"
        case closed = "closed the connection"
        case tlsRequired = "does not offer STARTTLS but TLS is required"
        case tlsFailed = "TLS handshake failed"
        case protocolViolation = "broke the SMTP protocol"
        case storeFailed = "could not store the message"
        /// A session kept from an earlier client session was closed or refused RSET: not a
        /// failure of the upstream, the client session asks for a fresh session instead.
        case keptSessionGone = "closed a kept session"
    }
    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? "upstream \(kind.rawValue)" : "upstream \(kind.rawValue): \(detail)" }
}

/// One open session with the upstream, used from the client session's event loop only (it is
/// `Sendable` so that futures can carry it; implementations stay on that loop).
/// Commands are relayed in lockstep: one command, one reply.
public protocol UpstreamConnection: AnyObject, Sendable {
    var capabilities: UpstreamCapabilities { get }
    var isUsable: Bool { get }
    /// Whether credentials may cross this link: TLS is up, or the peer is on this machine.
    var protectsCredentials: Bool { get }
    func send(_ command: SMTPCommand) -> EventLoopFuture<SMTPReply>
    /// A line of an AUTH exchange (RFC 4954 4), sent as is.
    func sendAuthLine(_ line: String) -> EventLoopFuture<SMTPReply>
    /// DATA, the canonical dot-stuffed content, and the final reply. A refusal of DATA itself is
    /// returned with `contentSent` false. The spool must stay untouched until the future completes.
    func sendMessage(_ message: MessageSpool, envelope: Envelope) -> EventLoopFuture<MessageOutcome>
    /// Ends the session politely (QUIT) and closes.
    func quit()
    /// The client session ended with no transaction open here: the upstream session is kept for
    /// the next client session where that is allowed (`UpstreamIdlePool`), else ended (QUIT).
    func release()
}

/// The upstream's answer to a message, and whether it got as far as the content.
public struct MessageOutcome: Sendable {
    public var reply: SMTPReply
    public var contentSent: Bool

    public init(reply: SMTPReply, contentSent: Bool) {
        self.reply = reply
        self.contentSent = contentSent
    }
}

/// The envelope of one message as the session accepted it.
public struct Envelope: Sendable {
    public var sender: MailCommand
    public var recipients: [RcptCommand]
    public var facts: SessionFacts

    public init(sender: MailCommand, recipients: [RcptCommand], facts: SessionFacts) {
        self.sender = sender
        self.recipients = recipients
        self.facts = facts
    }
}

/// The client socket as Warden saw it (after a PROXY header: the real client).
public struct ClientEndpoint: Sendable {
    public var address: SocketAddress?
    public var local: SocketAddress?
    public var ip: IPAddress?
}

/// Opens upstream sessions; one per configured `upstream.url`.
public protocol Upstream: Sendable {
    /// An upstream session for a client session. With `reuse`, one that an earlier client
    /// session left open may come back at once: its first command then carries a RSET and fails
    /// with `UpstreamError` `keptSessionGone` when that session turns out closed, and the caller
    /// asks again without `reuse`.
    func connect(facts: SessionFacts, client: ClientEndpoint, on eventLoop: EventLoop, reuse: Bool) -> EventLoopFuture<any UpstreamConnection>
}
