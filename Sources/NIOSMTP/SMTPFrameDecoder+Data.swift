import NIOCore

/// Message content after `DATA`: RFC 5321 [§4.1.1.4](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.4)
/// and [§4.5.2](https://www.rfc-editor.org/rfc/rfc5321#section-4.5.2).
///
///     content  = *( line CRLF ) "." CRLF     ; the CRLF before "." may be the start of the data
///     line     = [ "." ] *( %x01-09 / %x0B-0C / %x0E-FF )   ; a leading "." is removed
///
/// Only a real CRLF (or the start of the data) makes a line start. A bare CR or LF is refused or,
/// under `.normalize`, written as CRLF without making a line start, so `<LF>.<LF>`,
/// `<LF>.<CR><LF>`, `<CR><LF>.<LF>` and `<CR>.<CR><LF>` stay content and can never end the data.
extension SMTPFrameDecoder {
    /// The line ending written for a normalised bare CR or LF.
    private static let crlf = ByteBuffer(string: "\r\n")

    mutating func nextData(_ buffer: inout ByteBuffer) -> Frame? {
        if self.dataAtLineStart {
            guard let first = Self.byte(at: 0, of: buffer) else {
                return nil
            }
            if first == Self.dot {
                // ".", ".<CR>": not yet known whether this is the end of the data.
                guard let second = Self.byte(at: 1, of: buffer) else {
                    return nil
                }
                if second == Self.cr {
                    guard let third = Self.byte(at: 2, of: buffer) else {
                        return nil
                    }
                    if third == Self.lf {
                        buffer.moveReaderIndex(forwardBy: 3)
                        self.mode = .command
                        return .dataEnd
                    }
                }
                // Transparency: the first "." of a line is dropped. At least one more byte is
                // buffered, so the scan below makes progress in this same call.
                buffer.moveReaderIndex(forwardBy: 1)
            }
            self.dataAtLineStart = false
        }

        // Content in [0, clean) holds no line ending but real CRLFs, none followed by a ".".
        var clean = 0
        while let ending = Self.firstLineEndingOffset(from: clean, of: buffer) {
            if Self.byte(at: ending, of: buffer) == Self.cr {
                guard let following = Self.byte(at: ending + 1, of: buffer) else {
                    // Whether this CR is bare depends on a byte not yet received.
                    clean = ending
                    return clean > 0 ? .data(buffer.readSlice(length: clean)!) : nil
                }
                if following == Self.lf {
                    clean = ending + 2
                    if clean == buffer.readableBytes || Self.byte(at: clean, of: buffer) == Self.dot {
                        // A line start whose "." is handled by the next call.
                        self.dataAtLineStart = true
                        return .data(buffer.readSlice(length: clean)!)
                    }
                    continue
                }
            }
            if ending > 0 {
                return .data(buffer.readSlice(length: ending)!)
            }
            let isCR = Self.byte(at: 0, of: buffer) == Self.cr
            return self.bareLineEnding(&buffer, isCR ? .bareCarriageReturn : .bareLineFeed)
        }
        let available = buffer.readableBytes
        return available > 0 ? .data(buffer.readSlice(length: available)!) : nil
    }

    /// Handles the bare CR or LF at the reader index; for a CR the following byte is known not to
    /// be LF.
    private mutating func bareLineEnding(_ buffer: inout ByteBuffer, _ error: LineError) -> Frame {
        buffer.moveReaderIndex(forwardBy: 1)
        switch self.bareLineEndings {
        case .reject:
            self.poisoned = true
            return .dataError(error)
        case .normalize:
            // Deliberately no line start: a "." after a bare ending is content.
            return .data(Self.crlf)
        }
    }

    private static func byte(at offset: Int, of buffer: ByteBuffer) -> UInt8? {
        buffer.getInteger(at: buffer.readerIndex + offset, as: UInt8.self)
    }
}
