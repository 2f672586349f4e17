import NIOCore
import SMTPCore

/// Cuts the bytes a client sends into SMTP frames: command lines, message content read after
/// `DATA`, and `BDAT` chunks. It is the boundary against SMTP smuggling and unbounded buffering;
/// the command parser only ever sees single, complete, CRLF-terminated lines.
///
///     C: MAIL FROM:<a@example.org><CR><LF>      -> .line("MAIL FROM:<a@example.org>")
///     C: DATA<CR><LF>                           -> .line("DATA")
///     S: 354 Start mail input                      (the session sets mode = .data)
///     C: ..hi<CR><LF>.<CR><LF>                  -> .data(".hi<CR><LF>"), .dataEnd
///     C: BDAT 5 LAST<CR><LF>                    -> .line("BDAT 5 LAST")
///                                                  (the session sets mode = .chunk(5))
///     C: hello                                  -> .chunk("hello"), .chunkEnd
///
/// The session owns the buffer: it appends what it reads, calls `next(_:)` until it returns nil,
/// and may then `discardReadBytes()`. Bytes that do not yet make a frame stay in the buffer
/// unread; bytes after a frame (pipelined commands) are left for the following calls.
///
/// - Command lines: RFC 5321 [§2.3.8](https://www.rfc-editor.org/rfc/rfc5321#section-2.3.8) and
///   [§4.5.3.1.4](https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.1.4).
/// - Message content: [§4.1.1.4](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.4) and
///   transparency, [§4.5.2](https://www.rfc-editor.org/rfc/rfc5321#section-4.5.2).
/// - Chunks: RFC 3030 [§2](https://www.rfc-editor.org/rfc/rfc3030#section-2).
///
/// The whole buffer is scanned again on each call while a command line is incomplete; that costs
/// at most `maxLineLength` bytes a call. No scan position is remembered across calls, because the
/// session may replace or clear its buffer (it drops buffered plaintext at `STARTTLS`).
public struct SMTPFrameDecoder: Sendable {
    /// What the next bytes are; the session changes it when the protocol state says so.
    public enum Mode: Sendable, Hashable {
        /// Command lines, each ended by CRLF.
        case command
        /// Message content after `354`, up to and including `<CR><LF>.<CR><LF>`.
        case data
        /// `BDAT` content: exactly this many raw bytes remain.
        case chunk(Int)
    }

    /// Why a line was refused.
    public enum LineError: Sendable, Hashable {
        /// No CRLF within `maxLineLength` bytes (CRLF included). Reported before the line ends;
        /// the rest of the line, through its LF, is then dropped unread.
        case tooLong
        /// A LF not preceded by CR.
        case bareLineFeed
        /// A CR followed by anything but LF.
        case bareCarriageReturn
    }

    public enum Frame: Sendable, Hashable {
        /// One command line without its CRLF.
        case line(ByteBuffer)
        /// A refused command line, already consumed (for `.tooLong`: being consumed).
        case lineError(LineError)
        /// Message content: dot-stuffing removed, every line ending a CRLF. It may hold part of a
        /// line or several lines; consecutive frames are one stream.
        case data(ByteBuffer)
        /// `<CR><LF>.<CR><LF>` was consumed; `mode` is `.command` again.
        case dataEnd
        /// A bare CR or LF in content under `BareLineEndingPolicy.reject` (never `.tooLong`).
        /// Content before the offending byte has already been emitted as `.data` frames and the
        /// session must discard the message. The decoder is poisoned: every later call to
        /// `next(_:)` returns nil, whatever `mode` is.
        case dataError(LineError)
        /// Raw `BDAT` content.
        case chunk(ByteBuffer)
        /// The chunk is complete; `mode` is `.command` again.
        case chunkEnd
    }

    /// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets including CRLF.
    public static let defaultMaxLineLength = 512

    /// The shortest usable limit: an empty line's CRLF.
    static let minimumMaxLineLength = 2

    public var mode: Mode {
        didSet {
            guard oldValue != self.mode else { return }
            if case .chunk(let count) = self.mode {
                precondition(count >= 0, "SMTPFrameDecoder mode .chunk(\(count)): negative size")
            }
            // A new mode starts afresh: data begins at a line start, and a half-discarded
            // overlong command line belongs to the command mode that saw it.
            self.dataAtLineStart = true
            self.discardingLine = false
        }
    }

    /// Longest command line including CRLF; the session raises it during an `AUTH` exchange.
    public var maxLineLength: Int {
        didSet {
            precondition(
                self.maxLineLength >= Self.minimumMaxLineLength,
                "SMTPFrameDecoder maxLineLength \(self.maxLineLength): below \(Self.minimumMaxLineLength)"
            )
        }
    }

    public var bareLineEndings: BareLineEndingPolicy

    /// In `.command`: the rest of an overlong line is being dropped, up to and including its LF.
    private var discardingLine = false
    /// In `.data`: the next byte follows a real CRLF (or is the first of the content).
    var dataAtLineStart = true
    /// Set by `.dataError`; nothing is decoded any more.
    var poisoned = false

    public init(
        maxLineLength: Int = SMTPFrameDecoder.defaultMaxLineLength,
        bareLineEndings: BareLineEndingPolicy = .reject
    ) {
        precondition(
            maxLineLength >= Self.minimumMaxLineLength,
            "SMTPFrameDecoder maxLineLength \(maxLineLength): below \(Self.minimumMaxLineLength)"
        )
        self.mode = .command
        self.maxLineLength = maxLineLength
        self.bareLineEndings = bareLineEndings
    }

    /// The next frame, or nil when the buffer holds no complete frame (or the decoder is poisoned).
    /// Consumed bytes are skipped by moving `buffer.readerIndex`.
    public mutating func next(_ buffer: inout ByteBuffer) -> Frame? {
        if self.poisoned {
            return nil
        }
        switch self.mode {
        case .command:
            return self.nextLine(&buffer)
        case .data:
            return self.nextData(&buffer)
        case .chunk(let remaining):
            return self.nextChunk(&buffer, remaining: remaining)
        }
    }

    private mutating func nextLine(_ buffer: inout ByteBuffer) -> Frame? {
        if self.discardingLine {
            guard let lf = Self.firstOffset(of: Self.lf, in: 0..<buffer.readableBytes, of: buffer) else {
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil
            }
            buffer.moveReaderIndex(forwardBy: lf + 1)
            self.discardingLine = false
        }

        let window = min(buffer.readableBytes, self.maxLineLength)
        guard let lf = Self.firstOffset(of: Self.lf, in: 0..<window, of: buffer) else {
            guard buffer.readableBytes >= self.maxLineLength else {
                return nil
            }
            // Report at once rather than buffering the rest of a line that can never be valid.
            buffer.moveReaderIndex(forwardBy: window)
            self.discardingLine = true
            return .lineError(.tooLong)
        }

        // The first offending byte decides: a CR anywhere before the one just before the LF.
        let cr = Self.firstOffset(of: Self.cr, in: 0..<lf, of: buffer)
        let frame: Frame
        switch cr {
        case .some(let cr) where cr == lf - 1:
            frame = .line(buffer.getSlice(at: buffer.readerIndex, length: cr)!)
        case .some:
            frame = .lineError(.bareCarriageReturn)
        case .none:
            frame = .lineError(.bareLineFeed)
        }
        buffer.moveReaderIndex(forwardBy: lf + 1)
        return frame
    }

    private mutating func nextChunk(_ buffer: inout ByteBuffer, remaining: Int) -> Frame? {
        if remaining == 0 {
            self.mode = .command
            return .chunkEnd
        }
        let count = min(remaining, buffer.readableBytes)
        guard count > 0 else {
            return nil
        }
        let slice = buffer.readSlice(length: count)!
        self.mode = .chunk(remaining - count)
        return .chunk(slice)
    }
}

extension SMTPFrameDecoder {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let dot = UInt8(ascii: ".")

    /// Offset from `readerIndex` of the first `byte` within `range` (offsets from `readerIndex`).
    static func firstOffset(of byte: UInt8, in range: Range<Int>, of buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { $0.firstOffset(of: byte, in: range) }
    }

    /// Offset from `readerIndex` of the first CR or LF at or after offset `start`.
    static func firstLineEndingOffset(from start: Int, of buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes in
            // Vector searches instead of a test per byte: the LF, then a CR before it, window by
            // window, so that content without either is not searched again and again.
            var window = start
            while window < bytes.count {
                let end = min(bytes.count, window + 512)
                let lf = bytes.firstOffset(of: Self.lf, in: window..<end)
                if let cr = bytes.firstOffset(of: Self.cr, in: window..<(lf ?? end)) { return cr }
                if let lf { return lf }
                window = end
            }
            return nil
        }
    }
}
