import NIOCore
import NIOSMTP
import SMTPCore

/// Reads the upstream's replies and completes the waiting commands in order (lockstep: the
/// session has one command outstanding, or the greeting at connect, or a RSET and the command
/// pipelined after it on a kept session).
final class UpstreamReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var input = ByteBuffer()
    private let splitter = SMTPReplyLineSplitter()
    private var parser = SMTPReplyParser()
    private var waiting = CircularBuffer<EventLoopPromise<SMTPReply>>()
    private(set) var isClosed = false

    /// Bytes the server sent beyond the replies read so far. After the 220 to STARTTLS there
    /// must be none: anything there was sent in plaintext and would be read as if protected.
    var hasBufferedInput: Bool { input.readableBytes > 0 }

    /// Whether a command still waits for its reply.
    var isWaiting: Bool { !waiting.isEmpty }

    func expectReply(_ promise: EventLoopPromise<SMTPReply>) {
        if isClosed {
            promise.fail(UpstreamError(.closed))
        } else {
            waiting.append(promise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        input.writeBuffer(&bytes)
        while let output = splitter.next(&input) {
            switch output {
            case .tooLong:
                fail(context: context, UpstreamError(.protocolViolation, "reply line too long"))
                return
            case .line(let line):
                do {
                    guard let reply = try parser.parse(line: line) else { continue }
                    deliver(reply, context: context)
                } catch {
                    fail(context: context, UpstreamError(.protocolViolation, error.message))
                    return
                }
            }
        }
        input.discardReadBytes()
    }

    private func deliver(_ reply: SMTPReply, context: ChannelHandlerContext) {
        guard let promise = waiting.popFirst() else {
            // A reply nobody asked for: a server announcing its shutdown (421) or a broken peer.
            fail(context: context, UpstreamError(.protocolViolation, "unexpected reply \(reply)"))
            return
        }
        promise.succeed(reply)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(UpstreamError(.closed))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(context: context, UpstreamError(.closed, "\(error)"))
    }

    private func fail(context: ChannelHandlerContext, _ error: UpstreamError) {
        failAll(error)
        context.close(promise: nil)
    }

    /// Fails every waiting command with `error`; no reply is taken after this.
    func failAll(_ error: UpstreamError) {
        isClosed = true
        while let promise = waiting.popFirst() { promise.fail(error) }
    }
}
