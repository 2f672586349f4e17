import NIOCore
import NIOSMTP
import SMTPCore

/// The fuzz entry point for the protocol layers: the command and reply parsers and the frame
/// decoder. It checks invariants that must hold for any input and stops the process
/// (`precondition`) when one breaks, which is what a fuzzer reports.
public enum SMTPFuzzing {
    public static func run(_ bytes: [UInt8]) {
        let input = ByteBuffer(bytes: bytes)
        parseCommandRoundTrip(input)
        parseReplies(input)
        for policy in [BareLineEndingPolicy.reject, .normalize] {
            decodeSession(input, policy: policy, pieces: 1)
            decodeSession(input, policy: policy, pieces: 7)
        }
    }

    /// A command that parses is written canonically, and that form parses to the same command
    /// (without its source route, which the encoder drops).
    static func parseCommandRoundTrip(_ input: ByteBuffer) {
        guard let command = try? SMTPCommandParser.parse(input) else { return }
        var written = ByteBuffer()
        command.write(into: &written)
        let view = written.readableBytesView
        precondition(view.suffix(2).elementsEqual([13, 10]), "encoded command lacks CRLF")
        precondition(!view.dropLast(2).contains(13) && !view.dropLast(2).contains(10), "encoded command holds a line break")
        let line = written.getSlice(at: written.readerIndex, length: written.readableBytes - 2)!
        guard let again = try? SMTPCommandParser.parse(line) else {
            preconditionFailure("canonical form does not parse: \(String(buffer: line))")
        }
        var expected = command
        switch expected {
        case .mail(var mail):
            mail.sourceRoute = []
            expected = .mail(mail)
        case .rcpt(var rcpt):
            rcpt.sourceRoute = []
            expected = .rcpt(rcpt)
        default:
            break
        }
        precondition(again == expected, "round trip changed the command")
    }

    static func parseReplies(_ input: ByteBuffer) {
        var parser = SMTPReplyParser()
        var buffer = input
        let splitter = SMTPReplyLineSplitter()
        while let output = splitter.next(&buffer) {
            guard case .line(let line) = output else { return }
            guard let reply = try? parser.parse(line: line) else { continue }
            var written = ByteBuffer()
            reply.write(into: &written)
            precondition(written.readableBytes > 0, "empty reply")
        }
    }

    /// Feeds the decoder as a session would, entering data mode after a DATA line; the decoder
    /// must consume what it is given, never produce empty frames, and keep its buffer bounded.
    static func decodeSession(_ input: ByteBuffer, policy: BareLineEndingPolicy, pieces: Int) {
        var decoder = SMTPFrameDecoder(maxLineLength: 512, bareLineEndings: policy)
        var buffer = ByteBuffer()
        var remaining = input
        let size = max(1, input.readableBytes / pieces)
        while remaining.readableBytes > 0 {
            var piece = remaining.readSlice(length: min(size, remaining.readableBytes))!
            buffer.writeBuffer(&piece)
            while let frame = decoder.next(&buffer) {
                switch frame {
                case .line(let line):
                    precondition(line.readableBytes <= 510, "line longer than the limit")
                    precondition(!line.readableBytesView.contains(10), "line holds LF")
                    if line.readableBytesView.elementsEqual("DATA".utf8) { decoder.mode = .data }
                case .data(let data):
                    precondition(data.readableBytes > 0, "empty data frame")
                    assertCanonical(data)
                case .chunk(let chunk):
                    precondition(chunk.readableBytes > 0, "empty chunk frame")
                case .lineError, .dataEnd, .dataError, .chunkEnd:
                    break
                }
            }
            buffer.discardReadBytes()
            if decoder.mode == .command {
                precondition(buffer.readableBytes < 512 + size, "command buffer grew past the limit")
            }
        }
    }

    /// Data frames carry CRLF line endings only.
    static func assertCanonical(_ data: ByteBuffer) {
        let view = data.readableBytesView
        var index = view.startIndex
        while index < view.endIndex {
            if view[index] == 10 {
                precondition(index > view.startIndex && view[index - 1] == 13, "bare LF in data output")
            }
            if view[index] == 13, index + 1 < view.endIndex {
                precondition(view[index + 1] == 10, "bare CR in data output")
            }
            index += 1
        }
    }
}
