import NIOCore

/// Writes canonical message content as DATA (RFC 5321 4.5.2): every line that starts with "."
/// gets one more, and the content ends with CRLF "." CRLF. The input is canonical (CRLF only),
/// as the frame decoder delivers it; the state carries across chunks.
public struct DotStuffer: Sendable {
    private var atLineStart = true
    private var lastWasCR = false

    public init() {}

    public mutating func stuff(_ chunk: ByteBuffer, into output: inout ByteBuffer) {
        let view = chunk.readableBytesView
        var runStart = view.startIndex
        var index = view.startIndex
        while index < view.endIndex {
            let byte = view[index]
            if atLineStart && byte == UInt8(ascii: ".") {
                output.writeBytes(view[runStart..<index])
                output.writeInteger(UInt8(ascii: "."))
                runStart = index
            }
            atLineStart = lastWasCR && byte == UInt8(ascii: "\n")
            lastWasCR = byte == UInt8(ascii: "\r")
            index += 1
        }
        output.writeBytes(view[runStart..<view.endIndex])
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
