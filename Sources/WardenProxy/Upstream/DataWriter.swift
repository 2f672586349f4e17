import NIOCore
import NIOSMTP

/// Writes a spooled message as DATA content, about `batchSize` bytes at a time, each batch after
/// the previous one reached the socket, so a large message never sits whole in the channel's
/// outbound buffer. The last batch is left to the caller with the terminating "." line, to be
/// written in one go with the wait for the final reply: a message under `batchSize` costs one
/// write, and its chunks are not copied unless a line starts with ".".
final class DataWriter {
    static let batchSize = 65_536

    let channel: Channel
    let message: MessageSpool
    private var stuffer = DotStuffer()
    private var offset = 0

    init(channel: Channel, message: MessageSpool) {
        self.channel = channel
        self.message = message
    }

    /// Writes the content but its last batch, which the future carries with the terminating
    /// "." line, not yet written.
    func writeAll() -> EventLoopFuture<[ByteBuffer]> {
        let eventLoop = channel.eventLoop
        eventLoop.preconditionInEventLoop()
        var batch: [ByteBuffer] = []
        var batchBytes = 0
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try message.chunk(at: offset, maxLength: Self.batchSize)
            } catch {
                channel.close(promise: nil)
                return eventLoop.makeFailedFuture(UpstreamError(.storeFailed, "reading the spooled message: \(error)"))
            }
            guard let chunk else {
                var end = channel.allocator.buffer(capacity: 8)
                stuffer.finish(into: &end)
                batch.append(end)
                return eventLoop.makeSucceededFuture(batch)
            }
            offset += chunk.readableBytes
            let stuffed = stuffer.stuffed(chunk, allocator: channel.allocator)
            batch.append(stuffed)
            batchBytes += stuffed.readableBytes
            if batchBytes >= Self.batchSize {
                let last = batch.removeLast()
                for part in batch { channel.write(part, promise: nil) }
                return channel.writeAndFlush(last).assumeIsolated().flatMap { self.writeAll() }.nonisolated()
            }
        }
    }
}
