import Logging
import NIOCore
import NIOSMTP
import SMTPCore
import WardenPolicy

extension SMTPSession {
    /// DATA in sequence: Warden answers 354 itself and holds the message until it is complete;
    /// the upstream sees DATA only for a message the policy passed.
    func startMessage() {
        messageSize = 0
        messageTooLarge = false
        spool?.discard()
        spool = MessageSpool(memoryLimit: configuration.limits.memorySpool, directory: configuration.limits.spoolDirectory)
        machine.dataStarted()
        decoder.mode = .data
        write(SMTPServerReplies.startData)
        arm(configuration.timeouts.dataSeconds, "data")
    }

    func appendMessageData(_ bytes: ByteBuffer) {
        messageSize += bytes.readableBytes
        guard !messageTooLarge else { return }
        let limit = min(configuration.limits.messageSize, machine.declaredSize ?? Int.max)
        if messageSize > limit {
            // The rest is read and dropped so that the session stays in step with the client.
            messageTooLarge = true
            spool?.discard()
            return
        }
        do {
            try spool?.append(bytes)
        } catch {
            logger.error("spool write failed", metadata: ["error": "\(error)"])
            messageTooLarge = true
            spoolFailed = true
            spool?.discard()
        }
    }

    /// CRLF.CRLF arrived: size limits, the data-end policy, then the upstream.
    func finishMessage() {
        disarm()
        facts.messageSize = messageSize
        if spoolFailed {
            spoolFailed = false
            endMessage(SMTPReply(451, EnhancedStatusCode(4, 3, 0), "Local error in processing, try again later [ref=\(nextReference())]"), refused: true)
            return
        }
        if messageTooLarge {
            let reference = nextReference()
            let declared = machine.declaredSize.map { " (declared SIZE \($0))" } ?? ""
            logger.info("refused", metadata: ["ref": "\(reference)", "stage": "data-end", "reason": "message size \(messageSize)\(declared)"])
            runtime.metrics.refusal(reason: "message_size")
            refusals += 1
            endMessage(SMTPReply(552, EnhancedStatusCode(5, 3, 4), "Message size exceeds fixed limit [ref=\(reference)]"), refused: true)
            return
        }
        ask(.dataEnd) { [self] decision in
            if decision.verdict.refuses {
                let reference = nextReference()
                machine.dataFinished()
                discardMessage()
                refuse(decision, stage: .dataEnd, reference: reference)
                resetUpstreamTransaction()
                return
            }
            checkContent { [self] allowed in
                guard allowed else { return }
                checkLimits(.dataEnd, size: messageSize) { [self] allowed, reservations in
                    messageReservations += reservations
                    guard allowed else { return }
                    checkBulk { [self] allowed in
                        if allowed { deliverMessage() }
                    }
                }
            }
        }
    }

    private func deliverMessage() {
        guard let spool, machine.mail != nil else { preconditionFailure("a complete message without spool or MAIL") }
        if let edit = headerEdit {
            headerEdit = nil
            spoolHead = nil  // the head read before no longer matches the spool
            do {
                try spool.apply(edit)
            } catch {
                logger.error("adding the tag header fields failed", metadata: ["error": "\(error)"])
                endMessage(SMTPReply(451, EnhancedStatusCode(4, 3, 0), "Local error in processing, try again later [ref=\(nextReference())]"), refused: true)
                return
            }
        }
        if let upstream, upstream.isUsable, upstreamInTransaction {
            send(spool, on: upstream)
        } else {
            replayEnvelope { [self] connection in send(spool, on: connection) }
        }
    }

    /// Hands the message to the upstream; the spool belongs to the upstream until it answers.
    private func send(_ message: MessageSpool, on connection: any UpstreamConnection) {
        guard let sender = machine.mail else { preconditionFailure("sending without MAIL in phase \(machine.phase)") }
        spool = nil
        let envelope = Envelope(sender: sender, recipients: recipients, facts: facts)
        let size = messageSize
        let answer = connection.sendMessage(message, envelope: envelope).assumeIsolated().always { _ in message.discard() }.nonisolated()
        wait(for: answer, reply: \.reply) { [self] outcome in
            let reply = outcome.reply
            guard outcome.contentSent else {
                // DATA itself was refused: the upstream transaction is still open.
                if reply.isPositiveCompletion {
                    upstreamLost(UpstreamError(.protocolViolation, "DATA answered \(reply)"))
                } else {
                    endMessage(reply, refused: true)
                }
                return
            }
            upstreamInTransaction = false
            if reply.isPositiveCompletion {
                messagesRelayed += 1
                runtime.metrics.messageRelayed(bytes: size)
                messageReservations = []
                var metadata: Logger.Metadata = [
                    "from": "\(sender.reversePath.map { "\($0)" } ?? "")", "rcpts": "\(recipients.count)",
                    "size": "\(size)", "reply": "\(reply)",
                ]
                if let summary = contentSummary {
                    metadata["score"] = "\(TagHeaders.format(summary.score))"
                    metadata["rules"] = "\(summary.rules.joined(separator: ","))"
                }
                contentSummary = nil
                logger.info("message relayed", metadata: metadata)
                endMessage(reply, refused: false)
            } else {
                logger.info("upstream refused message", metadata: ["reply": "\(reply)", "size": "\(size)"])
                endMessage(reply, refused: true)
            }
        }
    }

    /// Answers the message and ends the transaction, whatever the answer.
    func endMessage(_ reply: SMTPReply, refused: Bool) {
        if refused { releaseReservations() }
        machine.dataFinished()
        discardMessage()
        write(reply)
        if refused {
            resetUpstreamTransaction()
            if let closing = machine.commandFailed() {
                perform(closing)
                return
            }
        }
        if drainRequested {
            flushIfNeeded()
            close(with: Self.shuttingDown)
            return
        }
        armCommandDeadline()
    }

    private func discardMessage() {
        spool?.discard()
        spool = nil
        recipients = []
        facts.sender = nil
        facts.recipients = []
        facts.messageSize = nil
    }

    /// Bare CR or LF in the message with `bare_line_endings = "reject"`: like Postfix 3.9, a
    /// permanent refusal and the end of the session, so nothing after it can be read as commands.
    func refuseBareLineEnding(_ error: SMTPFrameDecoder.LineError) {
        let reference = nextReference()
        let what = error == .bareCarriageReturn ? "bare <CR>" : "bare <LF>"
        refusals += 1
        runtime.metrics.refusal(reason: "bare_line_ending")
        logger.info("refused", metadata: ["ref": "\(reference)", "stage": "data", "reason": "\(what) in message data"])
        discardMessage()
        close(with: SMTPReply(521, EnhancedStatusCode(5, 5, 2), "\(hostname) Error: \(what) received; use CRLF line endings [ref=\(reference)]"))
    }
}
