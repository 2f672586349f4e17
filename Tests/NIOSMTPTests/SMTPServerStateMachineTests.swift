import NIOCore
import NIOSMTP
import SMTPCore
import Testing

@Suite struct SMTPServerStateMachineTests {
    static let configuration = SMTPServerConfiguration(
        hostname: "mx.test", maxRecipients: 2, maxMessageSize: 1000, maxErrors: 5, maxCommands: 50,
        startTLSAvailable: true, authAvailable: true
    )

    let mail = MailCommand(reversePath: Mailbox(localPart: "a", domain: "example.org"))
    let rcpt = RcptCommand(forwardPath: .mailbox(Mailbox(localPart: "b", domain: "example.test")))

    func greeted() -> SMTPServerStateMachine {
        var machine = SMTPServerStateMachine(configuration: Self.configuration)
        #expect(machine.receivedCommand(.ehlo("client.test")) == .process(.ehlo("client.test")))
        _ = machine.heloAccepted(.ehlo("client.test"))
        return machine
    }

    @Test func mailNeedsAGreeting() {
        var machine = SMTPServerStateMachine(configuration: Self.configuration)
        #expect(machine.receivedCommand(.mail(mail)) == .reply(SMTPServerReplies.greetFirst))
        #expect(machine.errorCount == 1)
    }

    @Test func aWholeTransaction() {
        var machine = greeted()
        #expect(machine.receivedCommand(.mail(mail)) == .process(.mail(mail)))
        machine.mailAccepted(mail)
        #expect(machine.receivedCommand(.mail(mail)) == .reply(SMTPServerReplies.nestedMail))
        #expect(machine.receivedCommand(.data) == .reply(SMTPServerReplies.noRecipients))
        #expect(machine.receivedCommand(.rcpt(rcpt)) == .process(.rcpt(rcpt)))
        machine.rcptAccepted(rcpt)
        #expect(machine.receivedCommand(.data) == .process(.data))
        machine.dataStarted()
        machine.dataFinished()
        #expect(machine.phase == .ready)
        #expect(machine.transactionCount == 1)
        #expect(machine.receivedCommand(.rcpt(rcpt)) == .reply(SMTPServerReplies.needMail))
    }

    @Test func recipientLimitAnswers452() {
        var machine = greeted()
        _ = machine.receivedCommand(.mail(mail))
        machine.mailAccepted(mail)
        for _ in 0..<2 {
            #expect(machine.receivedCommand(.rcpt(rcpt)) == .process(.rcpt(rcpt)))
            machine.rcptAccepted(rcpt)
        }
        #expect(machine.receivedCommand(.rcpt(rcpt)) == .reply(SMTPServerReplies.tooManyRecipients))
    }

    @Test func errorLimitCloses() {
        var machine = SMTPServerStateMachine(configuration: Self.configuration)
        for _ in 0..<4 { #expect(machine.receivedCommand(.data) == .reply(SMTPServerReplies.needMail)) }
        #expect(machine.receivedCommand(.data) == .close(SMTPServerReplies.tooManyErrors))
        #expect(machine.phase == .closed)
    }

    @Test func commandLimitCloses() {
        var machine = SMTPServerStateMachine(configuration: Self.configuration)
        for _ in 0..<50 { #expect(machine.receivedCommand(.noop) == .reply(SMTPServerReplies.ok)) }
        #expect(machine.receivedCommand(.noop) == .close(SMTPServerReplies.tooManyCommands))
    }

    @Test func declaredSizeOverTheLimitIsRefusedAtMail() {
        var machine = greeted()
        let big = MailCommand(reversePath: nil, parameters: [ESMTPParameter("SIZE", "1001")])
        #expect(machine.receivedCommand(.mail(big)) == .reply(SMTPServerReplies.sizeExceeded))
        let fits = MailCommand(reversePath: nil, parameters: [ESMTPParameter("SIZE", "1000")])
        #expect(machine.receivedCommand(.mail(fits)) == .process(.mail(fits)))
        machine.mailAccepted(fits)
        #expect(machine.declaredSize == 1000)
    }

    @Test func unknownParametersAnswer555() {
        var machine = greeted()
        let odd = MailCommand(reversePath: nil, parameters: [ESMTPParameter("XFOO", nil)])
        guard case .reply(let reply) = machine.receivedCommand(.mail(odd)) else {
            Issue.record("expected a reply")
            return
        }
        #expect(reply.code == 555)
        #expect(reply.enhanced == EnhancedStatusCode(5, 5, 4))
    }

    @Test func nonASCIIAddressNeedsSMTPUTF8() {
        var machine = greeted()
        let utf8 = MailCommand(reversePath: Mailbox(localPart: "jörg", domain: "example.org"))
        #expect(machine.receivedCommand(.mail(utf8)) == .reply(SMTPServerReplies.needsSMTPUTF8))
        let declared = MailCommand(reversePath: Mailbox(localPart: "jörg", domain: "example.org"), parameters: [ESMTPParameter("SMTPUTF8", nil)])
        #expect(machine.receivedCommand(.mail(declared)) == .process(.mail(declared)))
    }

    @Test func startTLSResetsTheGreetingAndIsOfferedOnce() {
        var machine = greeted()
        #expect(machine.receivedCommand(.starttls) == .startTLS(SMTPServerReplies.readyForTLS))
        #expect(machine.helo == nil)
        #expect(machine.receivedCommand(.mail(mail)) == .reply(SMTPServerReplies.greetFirst))
        _ = machine.receivedCommand(.ehlo("client.test"))
        let reply = machine.heloAccepted(.ehlo("client.test"))
        #expect(!reply.lines.contains("STARTTLS"))
        #expect(reply.lines.contains("AUTH PLAIN LOGIN"))
        #expect(machine.receivedCommand(.starttls) == .reply(SMTPServerReplies.tlsActive))
    }

    @Test func authIsNotOfferedBeforeTLS() {
        var machine = greeted()
        #expect(machine.receivedCommand(.auth(mechanism: "PLAIN", initialResponse: nil)) == .reply(SMTPServerReplies.authNeedsTLS))
        let reply = SMTPServerCapabilities.ehloReply(Self.configuration, tlsActive: false, authenticated: false)
        #expect(reply.lines == ["mx.test", "PIPELINING", "SIZE 1000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "DSN", "STARTTLS"])
    }

    @Test func bdatIsSkippedWhenNotOffered() {
        var machine = greeted()
        #expect(machine.receivedCommand(.bdat(size: 10, last: true)) == .skipChunk(10, SMTPServerReplies.chunkingUnavailable))
    }

    @Test func quitCloses() {
        var machine = greeted()
        #expect(machine.receivedCommand(.quit) == .close(SMTPServerReplies.bye))
    }
}

@Suite struct DotStufferTests {
    static let cases: [([String], String)] = [
        (["hello\r\n"], "hello\r\n.\r\n"),
        ([".\r\n"], "..\r\n.\r\n"),
        (["a\r\n.b\r\n"], "a\r\n..b\r\n.\r\n"),
        (["a\r", "\n.", "b\r\n"], "a\r\n..b\r\n.\r\n"),
        (["a\r\n", ".b\r\n"], "a\r\n..b\r\n.\r\n"),
        (["a\n.b\r\n"], "a\n.b\r\n.\r\n"),
        (["no newline"], "no newline\r\n.\r\n"),
        ([], ".\r\n"),
    ]

    @Test(arguments: cases)
    func stuffs(chunks: [String], expected: String) {
        var stuffer = DotStuffer()
        var output = ByteBufferAllocatorShim.buffer()
        for chunk in chunks { stuffer.stuff(ByteBufferAllocatorShim.buffer(chunk), into: &output) }
        stuffer.finish(into: &output)
        #expect(String(buffer: output) == expected)
    }

    @Test(arguments: cases)
    func stuffedGivesTheSameBytes(chunks: [String], expected: String) {
        var stuffer = DotStuffer()
        var output = ByteBufferAllocatorShim.buffer()
        for chunk in chunks {
            var stuffed = stuffer.stuffed(ByteBufferAllocatorShim.buffer(chunk), allocator: ByteBufferAllocator())
            output.writeBuffer(&stuffed)
        }
        stuffer.finish(into: &output)
        #expect(String(buffer: output) == expected)
    }

    /// Random content of dots, CRs, LFs and letters, cut at random places, against a byte-at-a-time
    /// statement of the rule.
    @Test func randomChunksMatchTheRule() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                [UInt8(ascii: "."), 0x0D, 0x0A, UInt8(ascii: "a")].randomElement(using: &generator)!
            }
            var expected: [UInt8] = []
            for (index, byte) in bytes.enumerated() {
                let lineStart = index == 0 || (index >= 2 && bytes[index - 2] == 0x0D && bytes[index - 1] == 0x0A)
                if lineStart && byte == UInt8(ascii: ".") { expected.append(byte) }
                expected.append(byte)
            }
            var stuffer = DotStuffer()
            var output = ByteBufferAllocatorShim.buffer()
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 1...5, using: &generator))
                var stuffed = stuffer.stuffed(ByteBuffer(bytes: bytes[start..<end]), allocator: ByteBufferAllocator())
                output.writeBuffer(&stuffed)
                start = end
            }
            #expect(Array(output.readableBytesView) == expected, "\(bytes)")
        }
    }
}
