import NIOCore

/// One command on its way to the handler: the arguments and where its reply goes.
struct RedisCommand: Sendable {
    var arguments: [String]
    var reply: EventLoopPromise<RESPValue>
}

/// Writes commands as RESP arrays of bulk strings and matches replies to them in order (Redis
/// answers each connection's commands strictly FIFO, so several may be in flight). Every command
/// ends with exactly one outcome: its reply, its own timeout, or the connection's end.
///
/// A command without a reply within `commandTimeout` closes the connection: Redis answers in
/// order, so everything behind it would wait as long, and a reply that late means the server or
/// the path is sick. The client reconnects on its next use.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisCommand
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var id: UInt64
        var reply: EventLoopPromise<RESPValue>
        var timeout: Scheduled<Void>?
    }

    private let commandTimeout: TimeAmount
    private let maximumPending: Int
    private var decoder: RESPDecoder
    private var pending = CircularBuffer<Pending>()
    private var nextID: UInt64 = 0
    /// Set once the connection is finished; later commands fail with it at once.
    private var finished: RedisError?

    init(commandTimeout: TimeAmount, maximumPending: Int, limits: RESPDecoder.Limits) {
        self.commandTimeout = commandTimeout
        self.maximumPending = maximumPending
        self.decoder = RESPDecoder(limits: limits)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        if let finished {
            command.reply.fail(finished)
            promise?.fail(finished)
            return
        }
        guard pending.count < maximumPending else {
            let error = RedisError(.tooManyPendingCommands, "\(pending.count) commands already in flight")
            command.reply.fail(error)
            promise?.fail(error)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        Self.encode(command.arguments, into: &buffer)
        let id = nextID
        nextID &+= 1
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: commandTimeout) {
            self.commandTimedOut(id: id, context: context)
        }
        pending.append(Pending(id: id, reply: command.reply, timeout: timeout))
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard finished == nil else { return }
        decoder.append(&bytes)
        do {
            while let value = try decoder.next() {
                guard let first = pending.popFirst() else {
                    finish(RedisError(.protocolError, "a reply with no command waiting for it"), context: context)
                    return
                }
                first.timeout?.cancel()
                first.reply.succeed(value)
            }
        } catch {
            finish(RedisError(.protocolError, "\(error)"), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError(.connectionClosed, "connection to \(peer(context)) closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(RedisError(.connectionClosed, "connection to \(peer(context)) failed: \(error)"), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(RedisError(.connectionClosed, "connection to \(peer(context)) closed"))
    }

    private func commandTimedOut(id: UInt64, context: ChannelHandlerContext) {
        guard let index = pending.firstIndex(where: { $0.id == id }) else { return }
        let timedOut = pending.remove(at: index)
        let error = RedisError(.commandTimeout, "no reply from \(peer(context)) within \(commandTimeout)")
        timedOut.reply.fail(error)
        finish(RedisError(.connectionClosed, "closed because an earlier command timed out"), context: context)
    }

    private func finish(_ error: RedisError, context: ChannelHandlerContext) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        if finished == nil { finished = error }
        while let next = pending.popFirst() {
            next.timeout?.cancel()
            next.reply.fail(error)
        }
    }

    private func peer(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress.map { "\($0)" } ?? "Redis"
    }

    /// `*<n>\r\n` then `$<len>\r\n<bytes>\r\n` per argument: the only form Redis takes from clients.
    static func encode(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.utf8.count)\r\n")
            buffer.writeString(argument)
            buffer.writeString("\r\n")
        }
    }
}
