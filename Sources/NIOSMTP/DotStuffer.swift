import NIOCore
import SMTPCore

/// Writes canonical message content as DATA (RFC 5321 4.5.2): every line that starts with "."
/// gets one more, and the content ends with CRLF "." CRLF. The input is canonical (CRLF only),
/// as the frame decoder delivers it; the state carries across chunks.
public struct DotStuffer: Sendable {
    private var atLineStart = true
    private var lastWasCR = false

    public init() {}

    public mutating func stuff(_ chunk: ByteBuffer, into output: inout ByteBuffer) {
        Self.write(chunk, doubling: lineStartDots(chunk), into: &output)
    }

    /// `chunk` as DATA content: the chunk itself when no line in it starts with "." (most mail:
    /// nothing is copied), else a copy with those dots doubled.
    public mutating func stuffed(_ chunk: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let dots = lineStartDots(chunk)
        guard !dots.isEmpty else { return chunk }
        var output = allocator.buffer(capacity: chunk.readableBytes + dots.count)
        Self.write(chunk, doubling: dots, into: &output)
        return output
    }

    /// Writes `chunk` with a second "." before each of `dots` (offsets in its readable bytes).
    private static func write(_ chunk: ByteBuffer, doubling dots: [Int], into output: inout ByteBuffer) {
        var runStart = chunk.readerIndex
        for dot in dots {
            output.writeImmutableBuffer(chunk.getSlice(at: runStart, length: chunk.readerIndex + dot - runStart)!)
            output.writeInteger(UInt8(ascii: "."))
            runStart = chunk.readerIndex + dot
        }
        output.writeImmutableBuffer(chunk.getSlice(at: runStart, length: chunk.writerIndex - runStart)!)
    }

    /// The offsets in `chunk` of the dots that start a line (after CRLF, across chunks), found
    /// by searching for line feeds; updates the state for the next chunk.
    private mutating func lineStartDots(_ chunk: ByteBuffer) -> [Int] {
        var dots: [Int] = []
        chunk.withUnsafeReadableBytes { bytes in
            guard !bytes.isEmpty else { return }
            let count = bytes.count
            if atLineStart, bytes[0] == UInt8(ascii: ".") { dots.append(0) }
            var from = 0
            while let newline = bytes.firstOffset(of: 0x0A, in: from..<count) {
                let afterCR = newline > 0 ? bytes[newline - 1] == 0x0D : lastWasCR
                if afterCR, newline + 1 < count, bytes[newline + 1] == UInt8(ascii: ".") { dots.append(newline + 1) }
                from = newline + 1
            }
            let last = bytes[count - 1]
            atLineStart = last == 0x0A && (count > 1 ? bytes[count - 2] == 0x0D : lastWasCR)
            lastWasCR = last == 0x0D
        }
        return dots
    }

    /// Ends the data: content that did not end with CRLF gets one, then "." CRLF.
    public mutating func finish(into output: inout ByteBuffer) {
        if !atLineStart { output.writeString("\r\n") }
        output.writeString(".\r\n")
        atLineStart = true
        lastWasCR = false
    }
}

/// Cuts a server's reply stream into lines (CRLF, or a lone LF from a lenient server) with a
/// bound on line length. Used on the upstream side, where the peer is the operator's own server.
public struct SMTPReplyLineSplitter: Sendable {
    public static let maxLineLength = 4096

    public init() {}

    public enum Output: Sendable, Hashable {
        case line(ByteBuffer)
        case tooLong
    }

    public func next(_ buffer: inout ByteBuffer) -> Output? {
        let view = buffer.readableBytesView
        guard let lf = view.firstIndex(of: UInt8(ascii: "\n")) else {
            return buffer.readableBytes > Self.maxLineLength ? .tooLong : nil
        }
        let length = lf - view.startIndex
        guard length <= Self.maxLineLength else { return .tooLong }
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        return .line(line)
    }
}
