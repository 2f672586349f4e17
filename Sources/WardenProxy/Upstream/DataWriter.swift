import NIOCore
import NIOSMTP

/// Writes a spooled message as DATA content one chunk at a time, each after the previous one
/// reached the socket, so a large message never sits whole in the channel's outbound buffer.
final class DataWriter {
    static let chunkSize = 65_536

    let channel: Channel
    let message: MessageSpool
    private var stuffer = DotStuffer()
    private var offset = 0

    init(channel: Channel, message: MessageSpool) {
        self.channel = channel
        self.message = message
    }

    /// Writes the content; the future carries the terminating "." line, not yet written, so that
    /// the caller writes it together with waiting for the final reply.
    func writeAll() -> EventLoopFuture<ByteBuffer> {
        let eventLoop = channel.eventLoop
        eventLoop.preconditionInEventLoop()
        let chunk: ByteBuffer?
        do {
            chunk = try message.chunk(at: offset, maxLength: Self.chunkSize)
        } catch {
            channel.close(promise: nil)
            return eventLoop.makeFailedFuture(UpstreamError(.storeFailed, "reading the spooled message: \(error)"))
        }
        guard let chunk else {
            var end = channel.allocator.buffer(capacity: 8)
            stuffer.finish(into: &end)
            return eventLoop.makeSucceededFuture(end)
        }
        offset += chunk.readableBytes
        var out = channel.allocator.buffer(capacity: chunk.readableBytes + 64)
        stuffer.stuff(chunk, into: &out)
        return channel.writeAndFlush(out).assumeIsolated().flatMap { self.writeAll() }.nonisolated()
    }
}
