import Logging
import NIOCore
import NIOEmbedded
import SMTPCore
import Testing
import WardenPolicy

@testable import WardenProxy

/// One upstream session over an EmbeddedChannel: the bytes Warden writes, the replies it is fed,
/// and whether the session may be kept for another client session.
@Suite struct UpstreamConnectionTests {
    /// A greeted upstream session (220, EHLO answered with `capabilities`).
    static func greeted(_ capabilities: [String], connectTimeout: Int = 10) throws -> (EmbeddedChannel, SMTPUpstreamConnection) {
        let channel = EmbeddedChannel()
        let replies = UpstreamReplyHandler()
        try channel.pipeline.syncOperations.addHandler(replies)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        let configuration = UpstreamConfiguration(
            target: .smtp(host: "127.0.0.1", port: 25), heloName: "warden.test", connectTimeoutSeconds: connectTimeout,
            commandTimeoutSeconds: 300)
        let connection = SMTPUpstreamConnection(channel: channel, replies: replies, configuration: configuration)
        let facts = SessionFacts(sessionID: "s", listener: "smtp", clientAddress: nil, clientPort: 0)
        let handshake = connection.handshake(
            facts: facts, client: ClientEndpoint(), tlsContext: nil, serverName: "upstream.test",
            deadline: .now() + .seconds(10), logger: Logger(label: "test"))
        try channel.writeInbound(ByteBuffer(string: "220 upstream.test ESMTP\r\n"))
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "EHLO warden.test\r\n")
        let lines = ["upstream.test"] + capabilities
        let ehlo = lines.enumerated().map { "250\($0.offset == lines.count - 1 ? " " : "-")\($0.element)\r\n" }.joined()
        try channel.writeInbound(ByteBuffer(string: ehlo))
        try handshake.wait()
        return (channel, connection)
    }

    static func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    static let mail = SMTPCommand.mail(MailCommand(reversePath: Mailbox(localPart: "a", domain: "example.test")))

    /// A reply's outcome, set and read on the test's one thread (the embedded event loop).
    final class Outcome: @unchecked Sendable {
        var result: Result<SMTPReply, Error>?
    }

    /// A kept session (the upstream offers PIPELINING) that has just sent RSET and MAIL.
    static func keptSessionSendingMail(connectTimeout: Int) throws -> (EmbeddedChannel, Outcome) {
        let (channel, connection) = try greeted(["PIPELINING"], connectTimeout: connectTimeout)
        connection.resetPending = true
        let outcome = Outcome()
        connection.send(mail).whenComplete { outcome.result = $0 }
        _ = try written(channel)
        return (channel, outcome)
    }

    /// AUTH with an initial response logs the upstream session in as the client's user: it must
    /// never be handed to another client session.
    @Test func anAuthenticatedSessionIsNeverKept() throws {
        let (channel, connection) = try Self.greeted(["AUTH PLAIN", "PIPELINING"])
        #expect(connection.isReusable(maximumTransactions: 500))
        let reply = connection.send(.auth(mechanism: "PLAIN", initialResponse: "AGJvYgBzZWNyZXQ="))
        try channel.writeInbound(ByteBuffer(string: "235 2.7.0 Authentication successful\r\n"))
        #expect(try reply.wait().code == 235)
        #expect(!connection.isReusable(maximumTransactions: 500))
    }

    /// A kept session sends RSET with the next command in one write, and answers the command's reply.
    @Test func aKeptSessionSendsRSETWithTheNextCommand() throws {
        let (channel, connection) = try Self.greeted(["PIPELINING"])
        connection.resetPending = true
        let reply = connection.send(Self.mail)
        #expect(try Self.written(channel) == "RSET\r\nMAIL FROM:<a@example.test>\r\n")
        try channel.writeInbound(ByteBuffer(string: "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n"))
        #expect(try reply.wait().code == 250)
        #expect(!connection.resetPending)
    }

    /// A kept session whose path died silently: its RSET is given up on after the connect timeout
    /// (not the command's 300 s), with `keptSessionGone`, so the client session opens a fresh one.
    @Test func aSilentKeptSessionIsGivenUpAfterTheConnectTimeout() throws {
        let (channel, outcome) = try Self.keptSessionSendingMail(connectTimeout: 10)
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(outcome.result == nil)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        guard case .failure(let error as UpstreamError) = outcome.result else {
            Issue.record("expected a failure, got \(String(describing: outcome.result))")
            return
        }
        #expect(error.kind == .keptSessionGone)
    }

    /// Once RSET is answered, the command has its own timeout again.
    @Test func theCommandAfterAnAnsweredRSETHasItsOwnTimeout() throws {
        let (channel, outcome) = try Self.keptSessionSendingMail(connectTimeout: 10)
        try channel.writeInbound(ByteBuffer(string: "250 2.0.0 Ok\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(outcome.result == nil, "MAIL waits up to the command timeout once RSET is answered")
        try channel.writeInbound(ByteBuffer(string: "250 2.1.0 Ok\r\n"))
        guard case .success(let answer) = outcome.result else {
            Issue.record("expected the reply, got \(String(describing: outcome.result))")
            return
        }
        #expect(answer.code == 250)
    }
}
