import Logging
import NIOCore
import NIOSMTP
import NIOSSL
import SMTPCore
import WardenPolicy

/// One client session: feeds the client's bytes through the frame decoder into the server state
/// machine, asks the policy, relays to the upstream in lockstep and writes the replies. It
/// handles one frame at a time: while a policy answer or an upstream reply is awaited, further
/// input waits in the buffer (reading stops when that grows), so pipelined commands run in order.
final class SMTPSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Input kept while the session waits before it stops reading from the socket.
    static let inputHighWater = 65_536

    let runtime: ProxyRuntime
    let settings: RuntimeSettings
    let listener: ListenerContext
    let sessionID: String
    var logger: Logger
    var machine: SMTPServerStateMachine
    var decoder: SMTPFrameDecoder
    var input = ByteBuffer()
    var context: ChannelHandlerContext?
    var facts: SessionFacts
    var client = ClientEndpoint()
    var upstream: (any UpstreamConnection)?
    /// The upstream accepted a MAIL whose transaction is not finished yet.
    var upstreamInTransaction = false
    var registryID: UInt64?

    var awaitingProxyHeader = false
    var busy = false
    var closing = false
    var drainRequested = false
    var needsFlush = false
    var readingPaused = false
    /// The deadline of the current phase (command, message, policy wait); set in `handlerAdded`.
    var deadline: LazyDeadline?
    /// Where the session's policy tasks run: its event loop (set in `handlerAdded`).
    var taskExecutor: EventLoopTaskExecutor?
    var references = 0
    var connectRefusal: (Decision, String)?
    /// The greeting waits (`greeting_delay`); bytes now make the client an early talker.
    var greetingDelayed = false
    /// The greeting was a 554: every command but QUIT gets 503.
    var greetingRefused = false

    // The message being received.
    var spool: MessageSpool? {
        didSet { spoolHead = nil }
    }
    /// The message's first bytes as the content scan and the fingerprint read them, copied out
    /// of the spool once (`messageHead(limit:)`).
    var spoolHead: (limit: Int, bytes: [UInt8])?
    var messageSize = 0
    var messageTooLarge = false
    var spoolFailed = false
    var recipients: [RcptCommand] = []
    /// Rate counts taken ahead for the message in progress (see RateLimiter.Reservation).
    var messageReservations: [RateLimiter.Reservation] = []
    /// The tag header fields for the message being delivered, set by the content check.
    var headerEdit: HeaderEdit?
    /// The content score and the rules that counted, for the log line of a relayed message.
    var contentSummary: (score: Double, rules: [String])?
    var chunkReply: SMTPReply?
    var auth: AuthExchange?

    // Counts for the session's last log line.
    var messagesRelayed = 0
    var refusals = 0
    let startedAt = NIODeadline.now()

    init(runtime: ProxyRuntime, listener: ListenerContext) {
        self.runtime = runtime
        self.settings = runtime.settings
        self.listener = listener
        self.sessionID = SessionID.make()
        let configuration = settings.configuration
        self.machine = SMTPServerStateMachine(configuration: listener.serverConfiguration(configuration))
        self.decoder = SMTPFrameDecoder(
            maxLineLength: configuration.limits.lineLength,
            bareLineEndings: configuration.limits.bareLineEndings == .reject ? .reject : .normalize
        )
        self.facts = SessionFacts(
            sessionID: sessionID, listener: listener.configuration.name, clientAddress: nil, clientPort: 0,
            tls: listener.configuration.kind == .smtps
        )
        var logger = runtime.logger
        logger[metadataKey: "session"] = "\(sessionID)"
        self.logger = logger
    }

    var configuration: WardenConfiguration { settings.configuration }
    var hostname: String { configuration.server.hostname }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        deadline = LazyDeadline(eventLoop: context.eventLoop)
        taskExecutor = EventLoopTaskExecutor(context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        client.address = channel.remoteAddress
        client.local = channel.localAddress
        client.ip = channel.remoteAddress.flatMap(SessionID.ipAddress)
        let proxy = listener.configuration
        if proxy.proxyProtocol, let ip = client.ip, (try? NetworkSet(parsing: proxy.proxyTrusted))?.contains(ip) == true {
            awaitingProxyHeader = true
            arm(configuration.timeouts.greetingSeconds, "proxy header")
        } else {
            begin()
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var bytes = unwrapInboundIn(data)
        input.writeBuffer(&bytes)
        if awaitingProxyHeader {
            readProxyHeader()
            return
        }
        if greetingDelayed {
            receivedEarly()
            return
        }
        processInput()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        deadline?.cancel()
        deadline = nil
        spool?.discard()
        spool = nil
        releaseReservations()
        if upstreamInTransaction { upstream?.quit() } else { upstream?.release() }
        upstream = nil
        if let registryID {
            runtime.registry.remove(registryID)
            runtime.metrics.sessionClosed(listener: listener.configuration.name)
            let milliseconds = (NIODeadline.now() - startedAt).nanoseconds / 1_000_000
            logger.info(
                "session end",
                metadata: [
                    "messages": "\(messagesRelayed)", "refusals": "\(refusals)", "commands": "\(machine.commandCount)",
                    "errors": "\(machine.errorCount)", "duration_ms": "\(milliseconds)",
                ])
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A TLS failure or a reset: there is nobody left to answer.
        logger.debug("connection error", metadata: ["error": "\(error)"])
        closing = true
        context.close(promise: nil)
    }

    // MARK: Input

    /// Handles complete frames until the input runs out or the session has to wait.
    func processInput() {
        while !busy && !closing {
            guard let frame = decoder.next(&input) else { break }
            handle(frame)
        }
        if input.readableBytes == 0 || input.readerIndex > 65_536 { input.discardReadBytes() }
        flushIfNeeded()
        applyReadPressure()
    }

    /// Called when a wait is over: carry on with whatever the client has pipelined meanwhile.
    func resume() {
        busy = false
        if drainRequested, !closing, machine.phase == .ready || machine.phase == .awaitingHelo {
            close(with: Self.shuttingDown)
            return
        }
        processInput()
    }

    private func applyReadPressure() {
        guard let context else { return }
        let shouldPause = busy && input.readableBytes > Self.inputHighWater
        guard shouldPause != readingPaused else { return }
        readingPaused = shouldPause
        _ = context.channel.setOption(ChannelOptions.autoRead, value: !shouldPause)
    }

    private func handle(_ frame: SMTPFrameDecoder.Frame) {
        switch frame {
        case .line(let line):
            if auth != nil {
                continueAuth(line: line)
            } else {
                received(line: line)
            }
        case .lineError(let error):
            if auth != nil {
                abortAuth(error == .tooLong ? SMTPReply(500, EnhancedStatusCode(5, 5, 6), "Authentication Exchange line is too long")
                    : SMTPReply(501, EnhancedStatusCode(5, 5, 2), "Cannot decode response"))
            } else {
                perform(machine.receivedInvalidLine(Self.reply(for: error)))
            }
        case .data(let bytes):
            appendMessageData(bytes)
        case .dataEnd:
            finishMessage()
        case .dataError(let error):
            refuseBareLineEnding(error)
        case .chunk:
            break
        case .chunkEnd:
            if let reply = chunkReply {
                chunkReply = nil
                write(reply)
                armCommandDeadline()
            }
        }
    }

    private func received(line: ByteBuffer) {
        let action: SMTPServerStateMachine.Action
        do {
            let command = try SMTPCommandParser.parse(line)
            if greetingRefused {
                return perform(command == .quit ? machine.receivedCommand(.quit) : machine.receivedInvalidLine(Self.refusedSession))
            }
            runtime.metrics.command(command.verb)
            action = machine.receivedCommand(command)
        } catch {
            runtime.metrics.command("INVALID")
            action = machine.receivedInvalidLine(error.reply)
        }
        perform(action)
    }

    func perform(_ action: SMTPServerStateMachine.Action) {
        switch action {
        case .reply(let reply):
            write(referenced(reply))
            armCommandDeadline()
        case .close(let reply):
            close(with: referenced(reply))
        case .startTLS(let reply):
            startTLS(reply)
        case .skipChunk(let size, let reply):
            chunkReply = reply
            decoder.mode = .chunk(size)
        case .process(let command):
            disarm()
            process(command)
        }
    }

    /// A limit's refusal gets a decision reference and a log line; other replies pass as they are.
    private func referenced(_ reply: SMTPReply) -> SMTPReply {
        guard let limit = SMTPServerReplies.limitReplies[reply] else { return reply }
        let reference = nextReference()
        refusals += 1
        runtime.metrics.refusal(reason: limit)
        logger.info("refused", metadata: ["ref": "\(reference)", "reason": "\(limit)", "reply": "\(reply.code)", "phase": "\(machine.phase)"])
        var withReference = reply
        withReference.lines[withReference.lines.count - 1] += " [ref=\(reference)]"
        return withReference
    }

    static let refusedSession = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Bad sequence of commands: this session was refused")

    static func reply(for error: SMTPFrameDecoder.LineError) -> SMTPReply {
        switch error {
        case .tooLong: return SMTPServerReplies.lineTooLong
        case .bareLineFeed: return SMTPServerReplies.bareLineFeed
        case .bareCarriageReturn: return SMTPServerReplies.bareCarriageReturn
        }
    }

    // MARK: Output

    func write(_ reply: SMTPReply) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 96)
        reply.write(into: &buffer)
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
        runtime.metrics.reply(code: reply.code)
    }

    func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    /// How long the last reply may take to leave before the connection is closed anyway (a
    /// client that stops reading, or a TLS client that never finishes its handshake).
    static let closeGrace = TimeAmount.seconds(5)

    /// Writes the last reply and closes the connection once it is sent, or after `closeGrace`.
    func close(with reply: SMTPReply) {
        guard !closing, let context else { return }
        closing = true
        machine.closing()
        var reply = reply
        if reply.code == 421, !reply.lines[0].hasPrefix(hostname) {
            // RFC 5321 4.2: "421 <domain> Service not available, closing transmission channel".
            reply.lines[0] = "\(hostname) \(reply.lines[0])"
        }
        var buffer = context.channel.allocator.buffer(capacity: 96)
        reply.write(into: &buffer)
        runtime.metrics.reply(code: reply.code)
        needsFlush = false
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
        // The session's own deadline, so the task goes when the channel does (channelInactive).
        deadline?.set(in: Self.closeGrace) { channel.close(promise: nil) }
    }

    /// A fresh decision reference: the session id and a counter.
    func nextReference() -> String {
        references += 1
        return "\(sessionID).\(references)"
    }

    // MARK: Deadlines

    func arm(_ seconds: Int, _ phase: String) {
        // Once closing, the deadline is the close grace: nothing moves it.
        guard !closing else { return }
        deadline?.set(in: .seconds(Int64(seconds))) { [self] in deadlineExpired(phase) }
    }

    /// No deadline until the next `arm` (a command is being processed).
    func disarm() {
        guard !closing else { return }
        deadline?.clear()
    }

    func armCommandDeadline() {
        if machine.helo == nil {
            arm(configuration.timeouts.greetingSeconds, "greeting")
        } else {
            arm(configuration.timeouts.commandSeconds, "command")
        }
    }

    private func deadlineExpired(_ phase: String) {
        guard !closing else { return }
        let reference = nextReference()
        logger.info("timeout", metadata: ["phase": "\(phase)", "ref": "\(reference)"])
        runtime.metrics.refusal(reason: "timeout")
        close(with: SMTPReply(421, EnhancedStatusCode(4, 4, 2), "\(hostname) Error: timeout exceeded [ref=\(reference)]"))
    }
}
