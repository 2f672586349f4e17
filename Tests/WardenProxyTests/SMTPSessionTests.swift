import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import SMTPCore
import Testing
import WardenPolicy

@testable import WardenProxy

/// The session handler through an EmbeddedChannel: exact bytes on the wire, a fake upstream.
@Suite struct SMTPSessionTests {
    let upstream = FakeUpstream()
    let channel = EmbeddedChannel()

    init() throws {
        try self.init(listener: ListenerConfiguration(name: "smtp", address: "127.0.0.1", port: 25))
    }

    init(listener: ListenerConfiguration) throws {
        var limits = LimitsConfiguration()
        limits.spoolDirectory = NSTemporaryDirectory()
        let configuration = WardenConfiguration(
            server: ServerConfiguration(hostname: "mx.test"),
            listeners: [listener],
            upstream: UpstreamConfiguration(target: .smtp(host: "127.0.0.1", port: 1)),
            limits: limits,
            relay: RelayConfiguration(acceptedDomains: ["example.test"])
        )
        let policy = Policy(relayControl: RelayControl(acceptedDomains: ["example.test"], trustedNetworks: NetworkSet([])))
        let runtime = ProxyRuntime(
            settings: RuntimeSettings(configuration: configuration, policy: policy, upstream: upstream),
            metrics: WardenMetrics(), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let listener = ListenerContext(configuration: configuration.listeners[0], tls: nil)
        try channel.pipeline.syncOperations.addHandler(SMTPSession(runtime: runtime, listener: listener))
        try channel.connect(to: SocketAddress(ipAddress: "203.0.113.7", port: 40000)).wait()
    }

    func send(_ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    func output() throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    func greet() throws {
        #expect(try output() == "220 mx.test ESMTP Warden\r\n")
        try send("EHLO client.test\r\n")
        _ = try output()
    }

    @Test func ehloListsWhatWardenOffers() throws {
        #expect(try output() == "220 mx.test ESMTP Warden\r\n")
        try send("EHLO client.test\r\n")
        #expect(try output() == "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 DSN\r\n")
        #expect(upstream.connects == 0, "the upstream is opened lazily, at MAIL")
    }

    @Test func pipelinedTransactionIsRelayedInLockstep() throws {
        try greet()
        upstream.hold = true
        try send("MAIL FROM:<a@example.org> SIZE=100\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
        #expect(try output() == "")
        #expect(upstream.sent == ["MAIL FROM:<a@example.org> SIZE=100"], "one command at a time")
        upstream.release()
        upstream.release()
        #expect(upstream.sent == ["MAIL FROM:<a@example.org> SIZE=100", "RCPT TO:<b@example.test>"])
        #expect(try output() == "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n")
        try send("Subject: hi\r\n\r\n..dot\r\n.\r\n")
        #expect(upstream.sent.last == "DATA", "DATA goes upstream only once the message is complete")
        upstream.release()
        #expect(upstream.messages == ["Subject: hi\r\n\r\n.dot\r\n"])
        #expect(try output() == "", "no 250 before the upstream said 250")
        upstream.release()
        #expect(try output() == "250 2.0.0 Ok\r\n")
    }

    @Test func relayIsRefusedWithAReference() throws {
        try greet()
        try send("MAIL FROM:<a@example.org>\r\nRCPT TO:<u@elsewhere.test>\r\nRCPT TO:<u%elsewhere.test@example.test>\r\n")
        let lines = try output().split(separator: "\r\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("554 5.7.1 <u@elsewhere.test>: Relay access denied [ref="))
        #expect(lines[2].hasPrefix("554 5.7.1 <u%elsewhere.test@example.test>: Relay access denied [ref="))
        #expect(lines[1] != lines[2], "each refusal has its own reference")
        #expect(upstream.sent == ["MAIL FROM:<a@example.org>"])
    }

    @Test func upstreamRefusalReachesTheClientUnchanged() throws {
        try greet()
        try send("MAIL FROM:<a@example.org>\r\nRCPT TO:<nobody@example.test>\r\nDATA\r\n")
        #expect(try output() == "250 2.0.0 Ok\r\n550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown\r\n554 5.5.1 No valid recipients\r\n")
    }

    @Test func upstreamDownGives451() throws {
        try greet()
        upstream.refuseConnect = true
        try send("MAIL FROM:<a@example.org>\r\n")
        let reply = try output()
        #expect(reply.hasPrefix("451 4.4.1 Mail server unavailable, try again later [ref="))
    }

    @Test func upstreamLostDuringTheMessageGives421() throws {
        try greet()
        upstream.failMessage = true
        try send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nhello\r\n.\r\n")
        let lines = try output().split(separator: "\r\n").map(String.init)
        #expect(lines.last?.hasPrefix("421 4.4.2 mx.test Mail server connection lost, try again later [ref=") == true)
        #expect(!lines.contains { $0.hasPrefix("250 2.0.0 Ok: ") })
    }

    @Test func upstreamGoneBeforeRcptEndsTheSessionWith421() throws {
        try greet()
        try send("MAIL FROM:<a@example.org>\r\n")
        _ = try output()
        upstream.dropped = true
        try send("RCPT TO:<b@example.test>\r\n")
        let reply = try output()
        #expect(reply.hasPrefix("421 4.4.2 mx.test Mail server connection lost, try again later [ref="))
        #expect(upstream.connects == 1, "no new upstream session for half a transaction")
    }

    @Test func upstreamGoneDuringTheUploadIsReplayed() throws {
        try greet()
        try send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\nhello\r\n")
        _ = try output()
        upstream.dropped = true
        upstream.script = { [upstream] command in
            upstream.dropped = false
            return command.hasPrefix("DATA") ? SMTPReply(354, nil, "go") : SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok")
        }
        try send(".\r\n")
        #expect(try output() == "250 2.0.0 Ok\r\n")
        #expect(upstream.connects == 2)
        #expect(upstream.sent.suffix(5) == ["MAIL FROM:<a@example.org>", "RCPT TO:<b@example.test>", "RCPT TO:<c@example.test>", "DATA", "<message>"])
        #expect(upstream.messages == ["hello\r\n"])
    }

    @Test func dataRefusedByTheUpstreamResetsItsTransaction() throws {
        try greet()
        upstream.script = { command in
            command == "DATA" ? SMTPReply(451, EnhancedStatusCode(4, 3, 0), "milter unavailable") : SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok")
        }
        try send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nhello\r\n.\r\n")
        #expect(try output().hasSuffix("354 End data with <CR><LF>.<CR><LF>\r\n451 4.3.0 milter unavailable\r\n"))
        #expect(upstream.sent.suffix(2) == ["DATA", "RSET"])
    }

    @Test func upstream421ClosesTheClientSession() throws {
        try greet()
        upstream.script = { _ in SMTPReply(421, EnhancedStatusCode(4, 3, 2), "shutting down") }
        try send("MAIL FROM:<a@example.org>\r\n")
        #expect(try output().hasPrefix("421 4.4.2 mx.test Mail server connection lost, try again later [ref="))
    }

    @Test func bareLineFeedInDataIsRefusedAndCloses() throws {
        try greet()
        try send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nhello\n.\nMAIL FROM:<evil@example.test>\r\n")
        let lines = try output().split(separator: "\r\n").map(String.init)
        #expect(lines.last?.hasPrefix("521 5.5.2 mx.test Error: bare <LF> received; use CRLF line endings [ref=") == true)
        #expect(upstream.messages.isEmpty)
        #expect(upstream.sent == ["MAIL FROM:<a@example.org>", "RCPT TO:<b@example.test>"])
    }

    @Test func overlongCommandLineIsRefused() throws {
        try greet()
        try send(String(repeating: "x", count: 600))
        let refusal = try output()
        #expect(refusal.hasPrefix("500 5.5.2 Line too long [ref=") && refusal.hasSuffix("]\r\n"))
        try send("yyy\r\nNOOP\r\n")
        #expect(try output() == "250 2.0.0 Ok\r\n")
    }

    @Test func oversizedMessageIsRefusedAfterItsEnd() throws {
        try greet()
        try send("MAIL FROM:<a@example.org> SIZE=10\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
        _ = try output()
        try send("more than ten bytes of text\r\n.\r\nNOOP\r\n")
        let lines = try output().split(separator: "\r\n").map(String.init)
        #expect(lines.first?.hasPrefix("552 5.3.4 Message size exceeds fixed limit [ref=") == true)
        #expect(lines.last == "250 2.0.0 Ok")
        #expect(upstream.messages.isEmpty)
        #expect(upstream.sent.last == "RSET", "the upstream transaction is reset")
    }

    @Test func authIsNotAvailableWhereTheListenerDoesNotOfferIt() throws {
        try greet()
        try send("AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n")
        #expect(try output() == "503 5.5.1 AUTH is not available\r\n")
        #expect(upstream.connects == 0)
    }
}

@Suite struct SMTPSessionAuthTests {
    @Test func authIsNotOfferedBeforeTLS() throws {
        let session = try SMTPSessionTests(listener: ListenerConfiguration(name: "sub", address: "127.0.0.1", port: 587, kind: .submission))
        try session.greet()
        try session.send("AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n")
        #expect(try session.output() == "530 5.7.0 Must issue a STARTTLS command first\r\n")
    }

    @Test func loginExchangeIsRelayedAndTheUserLearned() throws {
        let session = try SMTPSessionTests(
            listener: ListenerConfiguration(name: "sub", address: "127.0.0.1", port: 587, kind: .submission, authBeforeTLS: true))
        let upstream = session.upstream
        upstream.script = { line in
            switch line {
            case "AUTH LOGIN": return SMTPReply(334, nil, "VXNlcm5hbWU6")
            case "YWxpY2U=": return SMTPReply(334, nil, "UGFzc3dvcmQ6")
            case "czNjcmV0": return SMTPReply(235, EnhancedStatusCode(2, 7, 0), "Authentication successful")
            default: return SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok")
            }
        }
        try session.greet()
        try session.send("AUTH LOGIN\r\nYWxpY2U=\r\nczNjcmV0\r\nMAIL FROM:<alice@example.test>\r\nRCPT TO:<x@elsewhere.test>\r\n")
        #expect(try session.output() == "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n")
        #expect(upstream.sent == ["AUTH LOGIN", "YWxpY2U=", "czNjcmV0", "MAIL FROM:<alice@example.test>", "RCPT TO:<x@elsewhere.test>"],
                "an authenticated user may relay")
    }

    @Test func failedAuthDoesNotAuthenticate() throws {
        let session = try SMTPSessionTests(
            listener: ListenerConfiguration(name: "sub", address: "127.0.0.1", port: 587, kind: .submission, authBeforeTLS: true))
        session.upstream.script = { line in
            line.hasPrefix("AUTH") ? SMTPReply(535, EnhancedStatusCode(5, 7, 8), "Authentication failed") : SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok")
        }
        try session.greet()
        try session.send("AUTH PLAIN AGFsaWNlAHdyb25n\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<x@elsewhere.test>\r\n")
        let lines = try session.output().split(separator: "\r\n").map(String.init)
        #expect(lines[0] == "535 5.7.8 Authentication failed")
        #expect(lines[2].hasPrefix("554 5.7.1 <x@elsewhere.test>: Relay access denied"))
    }
}
