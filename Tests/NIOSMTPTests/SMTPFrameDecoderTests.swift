import NIOCore
import NIOSMTP
import Testing

// Every fixture is fed whole, one byte at a time, and in seeded random pieces: the frames (with
// consecutive content frames joined) and the bytes left unread must not depend on how the bytes
// arrived.

@Suite struct SMTPFrameDecoderTests {
    @Test(arguments: Fixture.commandLines, Feeding.all)
    func commandLines(_ fixture: Fixture, _ feeding: Feeding) {
        Self.check(fixture, feeding)
    }

    @Test(arguments: Fixture.data, Feeding.all)
    func data(_ fixture: Fixture, _ feeding: Feeding) {
        Self.check(fixture, feeding)
    }

    @Test(arguments: Fixture.smuggling, Feeding.all)
    func smuggling(_ fixture: Fixture, _ feeding: Feeding) {
        Self.check(fixture, feeding)
    }

    @Test(arguments: Fixture.chunks, Feeding.all)
    func chunks(_ fixture: Fixture, _ feeding: Feeding) {
        Self.check(fixture, feeding)
    }

    @Test(arguments: [512, 12288])
    func endlessLineIsReportedOnceWithoutBuffering(maxLineLength: Int) {
        let pieceSize = 64 * 1024
        var transcript = Transcript(SMTPFrameDecoder(maxLineLength: maxLineLength))
        let piece = [UInt8](repeating: UInt8(ascii: "A"), count: pieceSize)
        for _ in 0..<(2 * 1024 * 1024 / pieceSize) {
            transcript.feed(piece[...])
        }
        transcript.feed(Latin1.bytes("AAAA\r\nNOOP\r\n")[...])

        #expect(transcript.events == [.lineError(.tooLong), .line("NOOP")])
        #expect(transcript.largestReadable < maxLineLength + pieceSize)
        #expect(transcript.buffer.capacity <= 4 * pieceSize)
    }

    @Test func aRejectedBareLineEndingPoisonsTheDecoderInEveryMode() {
        var decoder = SMTPFrameDecoder()
        decoder.mode = .data
        var buffer = ByteBuffer(string: "a\nb\r\n.\r\n")
        #expect(decoder.next(&buffer) == .data(ByteBuffer(string: "a")))
        #expect(decoder.next(&buffer) == .dataError(.bareLineFeed))
        #expect(decoder.next(&buffer) == nil)

        buffer.writeString("QUIT\r\n")
        for mode in [SMTPFrameDecoder.Mode.command, .data, .chunk(2), .chunk(0)] {
            decoder.mode = mode
            #expect(decoder.next(&buffer) == nil, "mode \(mode)")
        }
    }

    @Test func theLineLimitFollowsTheSession() {
        var transcript = Transcript(SMTPFrameDecoder())
        let credentials = String(repeating: "QUJD", count: 1250)
        transcript.feed(Latin1.bytes("AUTH PLAIN\r\n")[...])
        transcript.decoder.maxLineLength = 12288
        transcript.feed(Latin1.bytes(credentials + "\r\n")[...])
        transcript.decoder.maxLineLength = SMTPFrameDecoder.defaultMaxLineLength
        transcript.feed(Latin1.bytes(credentials + "\r\nNOOP\r\n")[...])

        #expect(
            transcript.events == [
                .line("AUTH PLAIN"), .line(credentials), .lineError(.tooLong), .line("NOOP"),
            ]
        )
    }

    @Test func plainContentComesOutAsOneFramePerRead() {
        var decoder = SMTPFrameDecoder()
        decoder.mode = .data
        let content = (0..<10_000).map { "line \($0) of the message\r\n" }.joined()
        var buffer = ByteBuffer(string: content + ".\r\nQUIT\r\n")

        #expect(decoder.next(&buffer) == .data(ByteBuffer(string: content)))
        #expect(decoder.next(&buffer) == .dataEnd)
        #expect(decoder.next(&buffer) == .line(ByteBuffer(string: "QUIT")))
        #expect(decoder.next(&buffer) == nil)
    }

    @Test func anEmptyChunkEndsAtOnce() {
        var decoder = SMTPFrameDecoder()
        decoder.mode = .chunk(0)
        var buffer = ByteBuffer()
        #expect(decoder.next(&buffer) == .chunkEnd)
        #expect(decoder.mode == .command)
        #expect(decoder.next(&buffer) == nil)
    }

    /// Random content of CR, LF, "." and letters, checked against a byte-by-byte model of the
    /// end-of-data and transparency rules, whichever way the bytes arrive.
    @Test(arguments: [BareLineEndingPolicy.reject, .normalize])
    func randomContentMatchesTheModel(_ policy: BareLineEndingPolicy) {
        var random = SplitMix64(seed: 0x5347_4D54)
        let alphabet = Latin1.bytes("a.\r\n\r\n.")
        for round in 0..<500 {
            let length = Int(random.next() % 40)
            let content = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            let input = content + Latin1.bytes("\r\n.\r\n")
            let model = DataModel(input, policy: policy)

            for feeding in [Feeding.whole, .oneByteAtATime, .random(seed: UInt64(round))] {
                var decoder = SMTPFrameDecoder(bareLineEndings: policy)
                decoder.mode = .data
                var transcript = Transcript(decoder, stopAtDataEnd: true)
                for piece in feeding.pieces(input) {
                    transcript.feed(piece)
                }
                let context = "\(String(reflecting: Latin1.text(input))) \(feeding)"
                #expect(transcript.events == model.events, "\(context)")
                if let leftover = model.leftover {
                    #expect(Latin1.text(transcript.buffer.readableBytesView) == leftover, "\(context)")
                }
            }
        }
    }

    static func check(_ fixture: Fixture, _ feeding: Feeding) {
        var transcript = Transcript(
            SMTPFrameDecoder(maxLineLength: fixture.maxLineLength, bareLineEndings: fixture.policy)
        )
        for piece in feeding.pieces(fixture.input) {
            transcript.feed(piece)
        }

        #expect(transcript.events == fixture.expected)
        #expect(transcript.emptyFrames == 0)
        if let leftover = fixture.leftover {
            #expect(Latin1.text(transcript.buffer.readableBytesView) == leftover)
        }
        if case .dataError = transcript.events.last {
            // Nothing after a refused message is ever decoded, not even a well-formed command.
            transcript.decoder.mode = .command
            transcript.feed(Latin1.bytes("QUIT\r\n")[...])
            #expect(transcript.events == fixture.expected)
        } else {
            #expect(transcript.decoder.mode == fixture.endMode)
        }
    }
}

extension SMTPFrameDecoderTests {
    // MARK: - Fixtures

    struct Fixture: Sendable, CustomTestStringConvertible {
        var name: String
        var input: [UInt8]
        var expected: [Event]
        /// Bytes still unread at the end; nil where a refused message leaves them undefined.
        var leftover: String?
        var endMode = SMTPFrameDecoder.Mode.command
        var maxLineLength = SMTPFrameDecoder.defaultMaxLineLength
        var policy = BareLineEndingPolicy.reject

        var testDescription: String { self.name }

        init(
            _ name: String,
            _ input: String,
            _ expected: [Event],
            leftover: String? = "",
            endMode: SMTPFrameDecoder.Mode = .command,
            maxLineLength: Int = SMTPFrameDecoder.defaultMaxLineLength,
            policy: BareLineEndingPolicy = .reject
        ) {
            self.name = name
            self.input = Latin1.bytes(input)
            self.expected = expected
            self.leftover = leftover
            self.endMode = endMode
            self.maxLineLength = maxLineLength
            self.policy = policy
        }

        static let commandLines: [Fixture] = [
            Fixture("one line", "NOOP\r\n", [.line("NOOP")]),
            Fixture(
                "pipelined commands", "EHLO a.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n\r\nRSET\r\n",
                [.line("EHLO a.example"), .line("MAIL FROM:<a@b>"), .line("RCPT TO:<c@d>"), .line(""), .line("RSET")]
            ),
            Fixture("an incomplete line waits", "NOOP\r\nRSE", [.line("NOOP")], leftover: "RSE"),
            Fixture("a line waits for the LF after its CR", "NOOP\r", [], leftover: "NOOP\r"),
            Fixture(
                "exactly the limit", String(repeating: "A", count: 510) + "\r\nNOOP\r\n",
                [.line(String(repeating: "A", count: 510)), .line("NOOP")]
            ),
            Fixture(
                "one byte over the limit", String(repeating: "A", count: 511) + "\r\nNOOP\r\n",
                [.lineError(.tooLong), .line("NOOP")]
            ),
            Fixture("limit of 8, exactly", "ABCDEF\r\n", [.line("ABCDEF")], maxLineLength: 8),
            Fixture(
                "too long is reported before the line ends", "ABCDEFGHIJ", [.lineError(.tooLong)],
                maxLineLength: 8
            ),
            Fixture("limit of 8, reached without LF", "ABCDEFGH", [.lineError(.tooLong)], maxLineLength: 8),
            Fixture("limit of 8, reached at a CR", "ABCDEFG\r", [.lineError(.tooLong)], maxLineLength: 8),
            Fixture(
                "an overlong line is dropped through its LF", "ABCDEFGHIJ\r\nKL\r\nQUIT\r\n\r\n",
                [.lineError(.tooLong), .line("KL"), .line("QUIT"), .line("")], maxLineLength: 8
            ),
            Fixture(
                "an overlong line ending in a bare LF is one error", "ABCDEFGHIJ\nQUIT\r\n",
                [.lineError(.tooLong), .line("QUIT")], maxLineLength: 8
            ),
            Fixture(
                "two overlong lines", "ABCDEFGHIJ\r\nABCDEFGHIJKLMNOP\r\nQUIT\r\n",
                [.lineError(.tooLong), .lineError(.tooLong), .line("QUIT")], maxLineLength: 8
            ),
            Fixture("bare LF", "NOOP\nQUIT\r\n", [.lineError(.bareLineFeed), .line("QUIT")]),
            Fixture("a lone LF", "\nQUIT\r\n", [.lineError(.bareLineFeed), .line("QUIT")]),
            Fixture("bare CR", "NO\rOP\r\nQUIT\r\n", [.lineError(.bareCarriageReturn), .line("QUIT")]),
            Fixture("CR CR LF", "NOOP\r\r\nQUIT\r\n", [.lineError(.bareCarriageReturn), .line("QUIT")]),
            Fixture(
                "bare CR before a bare LF", "NO\rOP\nQUIT\r\n",
                [.lineError(.bareCarriageReturn), .line("QUIT")]
            ),
            Fixture("a bare CR waits for the LF", "NO\rOP", [], leftover: "NO\rOP"),
            Fixture(
                "a bare CR with no LF within the limit", "A\rBCDEFGHIJ\r\nQUIT\r\n",
                [.lineError(.tooLong), .line("QUIT")], maxLineLength: 8
            ),
        ]

        static let data: [Fixture] = [
            Fixture(
                "a message and a pipelined command", "DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n",
                [.line("DATA"), .data("Subject: x\r\n\r\nbody\r\n"), .dataEnd, .line("QUIT")]
            ),
            Fixture(
                "dot-stuffing is removed", "DATA\r\n..foo\r\n.bar\r\n...\r\n..\r\n.\r\n",
                [.line("DATA"), .data(".foo\r\nbar\r\n..\r\n.\r\n"), .dataEnd]
            ),
            Fixture("the end at the very start", "DATA\r\n.\r\nNOOP\r\n", [.line("DATA"), .dataEnd, .line("NOOP")]),
            Fixture(
                "two messages pipelined",
                "DATA\r\none\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n",
                [
                    .line("DATA"), .data("one\r\n"), .dataEnd, .line("MAIL FROM:<a@b>"), .line("RCPT TO:<c@d>"),
                    .line("DATA"), .data("two\r\n"), .dataEnd, .line("QUIT"),
                ]
            ),
            Fixture(
                "a long line is content", "DATA\r\n" + String(repeating: "x", count: 3000) + "\r\n.\r\n",
                [.line("DATA"), .data(String(repeating: "x", count: 3000) + "\r\n"), .dataEnd]
            ),
            Fixture(
                "8-bit and NUL bytes pass", "DATA\r\n\u{0}\u{FF}\u{E9}\t\r\n.\r\n",
                [.line("DATA"), .data("\u{0}\u{FF}\u{E9}\t\r\n"), .dataEnd]
            ),
            Fixture(
                "a dot not at a line start stays", "DATA\r\na.b.\r\n. \r\n.\r\n",
                [.line("DATA"), .data("a.b.\r\n \r\n"), .dataEnd]
            ),
            Fixture(
                "waits after a dot", "DATA\r\nabc\r\n.", [.line("DATA"), .data("abc\r\n")], leftover: ".",
                endMode: .data
            ),
            Fixture(
                "waits after dot CR", "DATA\r\nabc\r\n.\r", [.line("DATA"), .data("abc\r\n")], leftover: ".\r",
                endMode: .data
            ),
            Fixture(
                "waits after a CR", "DATA\r\nabc\r", [.line("DATA"), .data("abc")], leftover: "\r", endMode: .data
            ),
            Fixture("content without an end", "DATA\r\nabc", [.line("DATA"), .data("abc")], endMode: .data),
            Fixture(
                "bare LF refused, content before it emitted", "DATA\r\nab\ncd\r\n.\r\nQUIT\r\n",
                [.line("DATA"), .data("ab"), .dataError(.bareLineFeed)], leftover: nil
            ),
            Fixture(
                "bare CR refused", "DATA\r\nab\rcd\r\n.\r\nQUIT\r\n",
                [.line("DATA"), .data("ab"), .dataError(.bareCarriageReturn)], leftover: nil
            ),
            Fixture(
                "CR CR LF refused", "DATA\r\nab\r\r\n.\r\n",
                [.line("DATA"), .data("ab"), .dataError(.bareCarriageReturn)], leftover: nil
            ),
            Fixture(
                "bare LF at the start refused", "DATA\r\n\n.\r\n",
                [.line("DATA"), .dataError(.bareLineFeed)], leftover: nil
            ),
            Fixture(
                "dot LF refused", "DATA\r\nab\r\n.\nx\r\n.\r\n",
                [.line("DATA"), .data("ab\r\n"), .dataError(.bareLineFeed)], leftover: nil
            ),
            Fixture(
                "bare LF normalized", "DATA\r\nab\ncd\r\n.\r\nQUIT\r\n",
                [.line("DATA"), .data("ab\r\ncd\r\n"), .dataEnd, .line("QUIT")], policy: .normalize
            ),
            Fixture(
                "bare CR normalized", "DATA\r\nab\rcd\r\n.\r\n",
                [.line("DATA"), .data("ab\r\ncd\r\n"), .dataEnd], policy: .normalize
            ),
            Fixture(
                "CR CR LF normalized", "DATA\r\nab\r\r\n.\r\n",
                [.line("DATA"), .data("ab\r\n\r\n"), .dataEnd], policy: .normalize
            ),
            Fixture(
                "LF CR normalized", "DATA\r\nab\n\rcd\r\n.\r\n",
                [.line("DATA"), .data("ab\r\n\r\ncd\r\n"), .dataEnd], policy: .normalize
            ),
            Fixture(
                "dots after a bare LF are content", "DATA\r\na\n..b\r\n.\r\n",
                [.line("DATA"), .data("a\r\n..b\r\n"), .dataEnd], policy: .normalize
            ),
            Fixture(
                "dot LF at a line start: dot removed, LF normalized", "DATA\r\n.\nx\r\n.\r\n",
                [.line("DATA"), .data("\r\nx\r\n"), .dataEnd], policy: .normalize
            ),
            Fixture(
                "dot CR at a line start: dot removed, CR normalized", "DATA\r\na\r\n.\rb\r\n.\r\n",
                [.line("DATA"), .data("a\r\n\r\nb\r\n"), .dataEnd], policy: .normalize
            ),
        ]

        /// A second transaction hidden in the first message, for a server that ends data too early.
        static let smuggledContent = "MAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\nDATA\r\nsmuggled\r\n"

        /// (name, what ends the first message for a lax server, normalized content, content before
        /// the refusal, the refusal)
        static let smugglingCases: [(String, String, String, String, SMTPFrameDecoder.LineError)] = [
            ("<LF>.<LF>", "\n.\n", "hello\r\n.\r\n", "hello", .bareLineFeed),
            ("<LF>.<CR><LF>", "\n.\r\n", "hello\r\n.\r\n", "hello", .bareLineFeed),
            ("<CR><LF>.<LF>", "\r\n.\n", "hello\r\n\r\n", "hello\r\n", .bareLineFeed),
            ("<CR>.<CR><LF>", "\r.\r\n", "hello\r\n.\r\n", "hello", .bareCarriageReturn),
            ("<CR><LF>.<CR>", "\r\n.\r", "hello\r\n\r\n", "hello\r\n", .bareCarriageReturn),
            ("<CR>.<CR>", "\r.\r", "hello\r\n.\r\n", "hello", .bareCarriageReturn),
            ("<LF>.<CR>", "\n.\r", "hello\r\n.\r\n", "hello", .bareLineFeed),
        ]

        static let smuggling: [Fixture] = smugglingCases.flatMap { name, ending, normalized, refusedAfter, error in
            let input = "DATA\r\nhello" + ending + smuggledContent + ".\r\nQUIT\r\n"
            return [
                Fixture(
                    "\(name) normalized: one message", input,
                    [.line("DATA"), .data(normalized + smuggledContent), .dataEnd, .line("QUIT")],
                    policy: .normalize
                ),
                Fixture(
                    "\(name) refused", input, [.line("DATA"), .data(refusedAfter), .dataError(error)],
                    leftover: nil
                ),
            ]
        }

        static let chunks: [Fixture] = [
            Fixture(
                "a chunk and a pipelined command", "BDAT 5\r\nhelloNOOP\r\n",
                [.line("BDAT 5"), .chunk("hello"), .chunkEnd, .line("NOOP")]
            ),
            Fixture(
                "chunk bytes are raw", "BDAT 9 LAST\r\n\r\n.\r\n\n\rabQUIT\r\n",
                [.line("BDAT 9 LAST"), .chunk("\r\n.\r\n\n\rab"), .chunkEnd, .line("QUIT")]
            ),
            Fixture(
                "an empty chunk", "BDAT 0 LAST\r\nQUIT\r\n", [.line("BDAT 0 LAST"), .chunkEnd, .line("QUIT")]
            ),
            Fixture(
                "two chunks", "BDAT 3\r\nabcBDAT 2 LAST\r\nde",
                [.line("BDAT 3"), .chunk("abc"), .chunkEnd, .line("BDAT 2 LAST"), .chunk("de"), .chunkEnd]
            ),
            Fixture(
                "an incomplete chunk", "BDAT 10\r\nabc", [.line("BDAT 10"), .chunk("abc")], endMode: .chunk(7)
            ),
            Fixture(
                "a chunk ignores the line limit", "BDAT 20\r\n" + String(repeating: "z", count: 20) + "QUIT\r\n",
                [.line("BDAT 20"), .chunk(String(repeating: "z", count: 20)), .chunkEnd, .line("QUIT")],
                maxLineLength: 16
            ),
        ]
    }

    // MARK: - Feeding and recording

    enum Feeding: Sendable, CustomTestStringConvertible {
        case whole
        case oneByteAtATime
        case random(seed: UInt64)

        static let all: [Feeding] = [.whole, .oneByteAtATime] + (1...4).map { .random(seed: $0) }

        var testDescription: String {
            switch self {
            case .whole: "whole"
            case .oneByteAtATime: "one byte at a time"
            case .random(let seed): "random pieces, seed \(seed)"
            }
        }

        func pieces(_ input: [UInt8]) -> [ArraySlice<UInt8>] {
            switch self {
            case .whole:
                return [input[...]]
            case .oneByteAtATime:
                return input.indices.map { input[$0...$0] }
            case .random(let seed):
                var random = SplitMix64(seed: seed)
                let largest = UInt64(2 + seed % 5 * 4)
                var pieces: [ArraySlice<UInt8>] = []
                var start = 0
                while start < input.count {
                    let end = min(input.count, start + 1 + Int(random.next() % largest))
                    pieces.append(input[start..<end])
                    start = end
                }
                return pieces
            }
        }
    }

    /// A frame as the session sees it, bytes shown as Latin-1 text so fixtures read like transcripts.
    enum Event: Hashable, Sendable {
        case line(String)
        case lineError(SMTPFrameDecoder.LineError)
        case data(String)
        case dataEnd
        case dataError(SMTPFrameDecoder.LineError)
        case chunk(String)
        case chunkEnd
    }

    /// Plays the session: appends what arrives, drains the decoder, follows `DATA` and `BDAT`, and
    /// discards what was read.
    struct Transcript {
        var decoder: SMTPFrameDecoder
        var buffer = ByteBuffer()
        var events: [Event] = []
        var emptyFrames = 0
        var largestReadable = 0
        /// Leaves everything after the end of the data unread, for comparing with `DataModel`.
        let stopAtDataEnd: Bool

        init(_ decoder: SMTPFrameDecoder, stopAtDataEnd: Bool = false) {
            self.decoder = decoder
            self.stopAtDataEnd = stopAtDataEnd
        }

        mutating func feed(_ bytes: ArraySlice<UInt8>) {
            self.buffer.writeBytes(bytes)
            while !(self.stopAtDataEnd && self.events.last == .dataEnd),
                let frame = self.decoder.next(&self.buffer)
            {
                self.largestReadable = max(self.largestReadable, self.buffer.readableBytes)
                self.record(frame)
            }
            self.largestReadable = max(self.largestReadable, self.buffer.readableBytes)
            self.buffer.discardReadBytes()
        }

        private mutating func record(_ frame: SMTPFrameDecoder.Frame) {
            switch frame {
            case .line(let line):
                let command = Latin1.text(line.readableBytesView)
                self.events.append(.line(command))
                let words = command.split(separator: " ")
                if command == "DATA" {
                    self.decoder.mode = .data
                } else if words.first == "BDAT", words.count > 1, let size = Int(words[1]) {
                    self.decoder.mode = .chunk(size)
                }
            case .lineError(let error):
                self.events.append(.lineError(error))
            case .data(let content):
                self.emptyFrames += content.readableBytes == 0 ? 1 : 0
                self.events.append(.data(Latin1.text(content.readableBytesView)))
                if case .data(let earlier) = self.events.dropLast().last, case .data(let later) = self.events.last {
                    self.events.removeLast(2)
                    self.events.append(.data(earlier + later))
                }
            case .dataEnd:
                self.events.append(.dataEnd)
            case .dataError(let error):
                self.events.append(.dataError(error))
            case .chunk(let content):
                self.emptyFrames += content.readableBytes == 0 ? 1 : 0
                self.events.append(.chunk(Latin1.text(content.readableBytesView)))
                if case .chunk(let earlier) = self.events.dropLast().last, case .chunk(let later) = self.events.last {
                    self.events.removeLast(2)
                    self.events.append(.chunk(earlier + later))
                }
            case .chunkEnd:
                self.events.append(.chunkEnd)
            }
        }
    }

    /// RFC 5321 §4.5.2 and the bare line ending policy, one byte at a time, written apart from the
    /// decoder: content in, the session's events and the unread rest out.
    struct DataModel {
        var events: [Event] = []
        var leftover: String?

        init(_ input: [UInt8], policy: BareLineEndingPolicy) {
            let (cr, lf, dot) = (UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: "."))
            var content: [UInt8] = []
            var index = 0
            var atLineStart = true
            var ending: Event?
            func at(_ offset: Int) -> UInt8? { index + offset < input.count ? input[index + offset] : nil }

            scan: while let byte = at(0) {
                if atLineStart, byte == dot {
                    if at(1) == cr, at(2) == lf {
                        index += 3
                        ending = .dataEnd
                        break scan
                    }
                    if at(1) == nil || (at(1) == cr && at(2) == nil) {
                        break scan
                    }
                    index += 1
                    atLineStart = false
                    continue scan
                }
                atLineStart = false
                let bare: SMTPFrameDecoder.LineError
                switch byte {
                case cr where at(1) == lf:
                    content += [cr, lf]
                    index += 2
                    atLineStart = true
                    continue scan
                case cr where at(1) == nil:
                    break scan
                case cr:
                    bare = .bareCarriageReturn
                case lf:
                    bare = .bareLineFeed
                default:
                    content.append(byte)
                    index += 1
                    continue scan
                }
                index += 1
                if policy == .reject {
                    ending = .dataError(bare)
                    break scan
                }
                content += [cr, lf]
            }

            if !content.isEmpty {
                self.events.append(.data(Latin1.text(content)))
            }
            if let ending {
                self.events.append(ending)
            }
            if ending != .dataError(.bareLineFeed), ending != .dataError(.bareCarriageReturn) {
                self.leftover = Latin1.text(input[index...])
            }
        }
    }

    /// A small seeded generator (SplitMix64) so random pieces are the same on every run.
    struct SplitMix64: RandomNumberGenerator {
        private var state: UInt64

        init(seed: UInt64) {
            self.state = seed
        }

        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = self.state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return mixed ^ (mixed >> 31)
        }
    }

    /// Fixture text is Latin-1: one scalar per byte, so any byte sequence round-trips.
    enum Latin1 {
        static func bytes(_ text: String) -> [UInt8] {
            text.unicodeScalars.map { scalar in
                precondition(scalar.value < 256, "fixture text must be Latin-1")
                return UInt8(scalar.value)
            }
        }

        static func text<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
            String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        }
    }
}
