import NIOCore
import Testing

@testable import WardenProxy

@Suite struct HeaderEditTests {
    private static let verdict = HeaderEdit.replacing([
        HeaderEdit.Field(name: "X-Spam-Score", value: "3.2"),
        HeaderEdit.Field(name: "X-Spam-Status", value: "No, score=3.2 tests=A,B"),
        HeaderEdit.Field(name: "X-Spam-Flag", value: "YES"),
    ])
    private static let verdictText = "X-Spam-Score: 3.2\r\nX-Spam-Status: No, score=3.2 tests=A,B\r\nX-Spam-Flag: YES\r\n"

    /// A sender's forged fields, one folded over two continuation lines, mixed case, and the same
    /// names again in the body.
    private static let forged = """
        Received: from a by b\r
        X-SPAM-flag: NO\r
        Subject: hello\r
        x-spam-status: No, score=-100\r
        \ttests=FORGED\r
         more\r
        From: a@example.org\r
        \r
        X-Spam-Flag: NO in the body stays\r
        body line\r

        """
    private static let forgedEdited = verdictText + """
        Received: from a by b\r
        Subject: hello\r
        From: a@example.org\r
        \r
        X-Spam-Flag: NO in the body stays\r
        body line\r

        """

    private func spool(_ text: String, memoryLimit: Int = 1 << 20, in dir: StoreTestDirectory) throws -> MessageSpool {
        let spool = MessageSpool(memoryLimit: memoryLimit, directory: dir.path)
        // Appended in pieces, as the session does.
        var bytes = ByteBuffer(string: text)
        while bytes.readableBytes > 0, let piece = bytes.readSlice(length: min(5, bytes.readableBytes)) {
            try spool.append(piece)
        }
        return spool
    }

    private func edited(_ text: String, _ edit: HeaderEdit, memoryLimit: Int = 1 << 20) throws -> String {
        let dir = try StoreTestDirectory()
        let spool = try self.spool(text, memoryLimit: memoryLimit, in: dir)
        try spool.apply(edit)
        return try self.checkedContent(of: spool)
    }

    /// The content as every read path sees it, after checking that they all agree with `readAll()`.
    private func checkedContent(of spool: MessageSpool, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let all = try spool.readAll()
        #expect(spool.size == all.readableBytes, sourceLocation: sourceLocation)
        for maxLength in [1, 2, 3, 5, 7, 16, 64, 65_536] {
            var collected = ByteBuffer()
            var offset = 0
            while var chunk = try spool.chunk(at: offset, maxLength: maxLength) {
                #expect(chunk.readableBytes > 0 && chunk.readableBytes <= maxLength, sourceLocation: sourceLocation)
                offset += chunk.readableBytes
                collected.writeBuffer(&chunk)
            }
            #expect(try spool.chunk(at: offset, maxLength: maxLength) == nil, sourceLocation: sourceLocation)
            #expect(try spool.chunk(at: offset + 10, maxLength: maxLength) == nil, sourceLocation: sourceLocation)
            #expect(collected == all, "chunk(at:maxLength: \(maxLength))", sourceLocation: sourceLocation)

            var joined = ByteBuffer()
            try spool.forEachChunk(maxChunk: maxLength) { chunk in
                #expect(chunk.readableBytes > 0 && chunk.readableBytes <= maxLength, sourceLocation: sourceLocation)
                var chunk = chunk
                joined.writeBuffer(&chunk)
            }
            #expect(joined == all, "forEachChunk(maxChunk: \(maxLength))", sourceLocation: sourceLocation)
        }
        // Every offset, not only those a reader walking from 0 reaches.
        for offset in 0..<all.readableBytes {
            let one = try #require(try spool.chunk(at: offset, maxLength: 1), sourceLocation: sourceLocation)
            #expect(one == all.getSlice(at: offset, length: 1), "offset \(offset)", sourceLocation: sourceLocation)
        }
        return String(buffer: all)
    }

    @Test(arguments: [1 << 20, 0, 7, 40, 100])
    func verdictReplacesForgedFieldsInEveryReadPath(memoryLimit: Int) throws {
        let dir = try StoreTestDirectory()
        let spool = try self.spool(Self.forged, memoryLimit: memoryLimit, in: dir)
        #expect(spool.isSpilled == (memoryLimit < Self.forged.utf8.count))
        try spool.apply(Self.verdict)
        #expect(try self.checkedContent(of: spool) == Self.forgedEdited)
        #expect(String(buffer: try spool.readAll()).hasPrefix("X-Spam-Score: 3.2\r\nX-Spam-Status:"))
    }

    @Test func namesCompareCaseInsensitively() throws {
        let edit = HeaderEdit(removedNames: ["SUBJECT", "x-mailer"])
        let text = "subject: a\r\nX-Mailer: b\r\nTo: c\r\nSuBjEcT: d\r\n\r\nbody\r\n"
        #expect(try self.edited(text, edit) == "To: c\r\n\r\nbody\r\n")
    }

    @Test func fieldInTheBodyIsKept() throws {
        let text = "Subject: a\r\n\r\nX-Spam-Flag: NO\r\nX-Spam-Score: -5\r\n"
        #expect(try self.edited(text, Self.verdict) == Self.verdictText + text)
    }

    @Test(arguments: [1 << 20, 0, 20])
    func flagAsTheLastFieldBeforeTheBlankLine(memoryLimit: Int) throws {
        let text = "Subject: a\r\nX-Spam-Flag: NO\r\n\r\nbody\r\n"
        #expect(try self.edited(text, Self.verdict, memoryLimit: memoryLimit) == Self.verdictText + "Subject: a\r\n\r\nbody\r\n")
        let folded = "Subject: a\r\nX-Spam-Flag: NO\r\n  still the flag\r\n\r\nbody\r\n"
        #expect(try self.edited(folded, Self.verdict, memoryLimit: memoryLimit) == Self.verdictText + "Subject: a\r\n\r\nbody\r\n")
    }

    @Test func flagAsTheFirstField() throws {
        let text = "X-Spam-Flag: NO\r\nSubject: a\r\n\r\nbody\r\n"
        #expect(try self.edited(text, Self.verdict) == Self.verdictText + "Subject: a\r\n\r\nbody\r\n")
    }

    @Test(arguments: [1 << 20, 0, 10])
    func headersOnlyWithoutBlankLine(memoryLimit: Int) throws {
        let text = "Subject: a\r\nX-Spam-Flag: NO\r\n folded\r\nTo: b\r\nX-Spam-Score: -1\r\n\tfolded"
        #expect(try self.edited(text, Self.verdict, memoryLimit: memoryLimit) == Self.verdictText + "Subject: a\r\nTo: b\r\n")
        // The last field without its CRLF ends at the end of the message.
        #expect(try self.edited("Subject: a\r\nX-Spam-Flag: NO", Self.verdict) == Self.verdictText + "Subject: a\r\n")
    }

    @Test func messageWithoutHeader() throws {
        // An empty header section: the body starts with the empty line.
        let empty = "\r\nX-Spam-Flag: NO\r\nbody\r\n"
        #expect(try self.edited(empty, Self.verdict) == Self.verdictText + empty)
        // A first line that is no field: all of it is body.
        let text = "just text, X-Spam-Flag: NO\r\nX-Spam-Flag: NO\r\n"
        #expect(try self.edited(text, Self.verdict) == Self.verdictText + text)
        // An empty message.
        #expect(try self.edited("", Self.verdict) == Self.verdictText)
    }

    @Test func lineThatIsNoFieldEndsTheHeaderSection() throws {
        let cases = [
            "Subject: a\r\nnot a field\r\nX-Spam-Flag: NO\r\n\r\n",
            "Subject: a\r\nFrom someone\r\nX-Spam-Flag: NO\r\n\r\n",
            "Subject: a\r\n: no name\r\nX-Spam-Flag: NO\r\n\r\n",
            "Subject: a\r\nX-Bad\u{7F}Name: 1\r\nX-Spam-Flag: NO\r\n\r\n",
        ]
        for text in cases {
            #expect(try self.edited(text, Self.verdict) == Self.verdictText + text)
        }
    }

    @Test func leadingContinuationLinesDoNotContinueTheAddedFields() throws {
        // They belong to no field; left in place they would fold into `X-Spam-Flag: YES`.
        let leading = " NO\r\n\tNO\r\nX-Spam-Flag: NO\r\nSubject: a\r\n\r\n body\r\n"
        #expect(try self.edited(leading, Self.verdict) == Self.verdictText + "Subject: a\r\n\r\n body\r\n")
        // Kept when nothing is added, as the other bytes are.
        let removeOnly = HeaderEdit(removedNames: ["X-Spam-Flag"])
        #expect(try self.edited(leading, removeOnly) == " NO\r\n\tNO\r\nSubject: a\r\n\r\n body\r\n")
        #expect(try self.edited(" NO", Self.verdict) == Self.verdictText)
    }

    @Test func obsoleteSpaceBeforeTheColonIsAField() throws {
        let text = "X-Spam-Flag : NO\r\nX-Spam-Flag\t: NO\r\nSubject: a\r\n\r\n"
        #expect(try self.edited(text, Self.verdict) == Self.verdictText + "Subject: a\r\n\r\n")
    }

    @Test func similarNamesAreKept() throws {
        let text = "X-Spam-Flags: NO\r\nX-Spam-Fla: NO\r\nX-Spam-Flag-Old: NO\r\n\r\n"
        #expect(try self.edited(text, Self.verdict) == Self.verdictText + text)
    }

    @Test(arguments: [1 << 20, 0, 3])
    func emptyEditLeavesTheBytesAlone(memoryLimit: Int) throws {
        #expect(try self.edited(Self.forged, .none, memoryLimit: memoryLimit) == Self.forged)
        #expect(try self.edited(Self.forged, HeaderEdit(removedNames: ["X-Unused"]), memoryLimit: memoryLimit) == Self.forged)
        let binary = String(decoding: (0..<1000).map { UInt8($0 % 251) }, as: UTF8.self)
        #expect(try self.edited(binary, .none, memoryLimit: memoryLimit) == binary)
    }

    @Test(arguments: [1 << 20, 0, 30])
    func secondEditReplacesTheFirst(memoryLimit: Int) throws {
        let dir = try StoreTestDirectory()
        let spool = try self.spool(Self.forged, memoryLimit: memoryLimit, in: dir)
        try spool.apply(HeaderEdit(added: [.init(name: "X-First", value: "1")], removedNames: ["Subject", "From"]))
        try spool.apply(Self.verdict)
        #expect(try self.checkedContent(of: spool) == Self.forgedEdited)
        try spool.apply(.none)
        #expect(try self.checkedContent(of: spool) == Self.forged)
        spool.discard()
        try spool.append(ByteBuffer(string: "Subject: next\r\n\r\n"))
        #expect(try self.checkedContent(of: spool) == "Subject: next\r\n\r\n")
    }

    @Test func onlyTheFirst64KiBAreExamined() throws {
        let filler = String(repeating: "X-Filler: " + String(repeating: "f", count: 90) + "\r\n", count: 700)  // 71,400 bytes
        let text = "X-Spam-Flag: early\r\n" + filler + "X-Spam-Flag: late\r\n\r\nbody\r\n"
        let edited = try self.edited(text, Self.verdict, memoryLimit: 1000)
        #expect(edited == Self.verdictText + filler + "X-Spam-Flag: late\r\n\r\nbody\r\n")
    }

    @Test func fieldThatDoesNotEndWithinTheLimitIsKept() throws {
        let long = "X-Spam-Flag: NO\r\n" + String(repeating: " " + String(repeating: "c", count: 98) + "\r\n", count: 700)
        let text = "Subject: a\r\n" + long + "\r\nbody\r\n"
        #expect(try self.edited(text, Self.verdict) == Self.verdictText + text)
    }

    @Test func largeSpilledBodyIsUntouched() throws {
        let body = (0..<5000).map { "body line \($0) X-Spam-Flag: NO\r\n" }.joined()
        let text = "X-Spam-Flag: NO\r\nSubject: big\r\n\r\n" + body
        let dir = try StoreTestDirectory()
        let spool = try self.spool(text, memoryLimit: 64, in: dir)
        try spool.apply(Self.verdict)
        let all = try spool.readAll()
        #expect(String(buffer: all) == Self.verdictText + "Subject: big\r\n\r\n" + body)
        #expect(spool.size == all.readableBytes)
        var joined = ByteBuffer()
        try spool.forEachChunk(maxChunk: 4096) { chunk in
            var chunk = chunk
            joined.writeBuffer(&chunk)
        }
        #expect(joined == all)
    }

    @Test func addedValuesAreSanitised() throws {
        #expect(HeaderEdit.Field(name: "X-A", value: "plain").value == "plain")
        #expect(HeaderEdit.Field(name: "X-A", value: "one\r\n two").value == "one\r\n two")
        #expect(HeaderEdit.Field(name: "X-A", value: "one\r\n\ttwo").value == "one\r\n\ttwo")
        #expect(HeaderEdit.Field(name: "X-A", value: "one\r\ntwo").value == "one\r\n two")
        #expect(HeaderEdit.Field(name: "X-A", value: "one\ntwo\rthree").value == "one\r\n two\r\n three")
        #expect(HeaderEdit.Field(name: "X-A", value: "one\r\n\r\nX-Spam-Flag: NO").value == "one\r\n X-Spam-Flag: NO")
        #expect(HeaderEdit.Field(name: "X-A", value: "one\r\n \r\n two\r\n").value == "one\r\n two")
        #expect(HeaderEdit.Field(name: "X-A", value: "  padded \t").value == "padded")
        #expect(HeaderEdit.Field(name: "X-A", value: "\r\n").value == "")

        let edit = HeaderEdit(added: [.init(name: "X-A", value: "a\nb"), .init(name: "X-Empty", value: "")])
        #expect(try self.edited("Subject: s\r\n\r\n", edit) == "X-A: a\r\n b\r\nX-Empty:\r\nSubject: s\r\n\r\n")
    }

    @Test func fieldNames() {
        #expect(HeaderEdit.isFieldName("X-Spam-Flag"))
        #expect(HeaderEdit.isFieldName("!#~"))
        #expect(!HeaderEdit.isFieldName(""))
        #expect(!HeaderEdit.isFieldName("X Spam"))
        #expect(!HeaderEdit.isFieldName("X:Spam"))
        #expect(!HeaderEdit.isFieldName("X-Späm"))
    }

    @Test func replacingRemovesTheAddedNames() {
        #expect(Self.verdict.removedNames == ["X-Spam-Score", "X-Spam-Status", "X-Spam-Flag"])
        #expect(HeaderEdit.none.isEmpty)
        #expect(!Self.verdict.isEmpty)
    }

    @Test func rangesAreMergedAndSorted() {
        let head = Array("A: 1\r\nB: 2\r\n x\r\nC: 3\r\nA: 4\r\n\r\nA: body\r\n".utf8)
        let ranges = HeaderEdit.removedRanges(in: head, isWholeMessage: true, removedNames: ["a", "B"])
        #expect(ranges == [0..<16, 22..<28])
        // Not the whole message: a field at the end of the bytes may go on.
        let cut = Array("A: 1\r\nB: 2\r\n".utf8)
        #expect(HeaderEdit.removedRanges(in: cut, isWholeMessage: false, removedNames: ["b"]) == [])
        #expect(HeaderEdit.removedRanges(in: cut, isWholeMessage: false, removedNames: ["a"]) == [0..<6])
        #expect(HeaderEdit.removedRanges(in: cut + Array("C".utf8), isWholeMessage: false, removedNames: ["b"]) == [6..<12])
        #expect(HeaderEdit.removedRanges(in: cut + Array(" ".utf8), isWholeMessage: false, removedNames: ["b"]) == [])
        let orphan = Array(" x\r\n y\r\nA: 1\r\n\r\n".utf8)
        #expect(HeaderEdit.removedRanges(in: orphan, isWholeMessage: true, removedNames: ["a"]) == [8..<14])
        #expect(
            HeaderEdit.removedRanges(in: orphan, isWholeMessage: true, removedNames: [], removingLeadingContinuation: true)
                == [0..<8]
        )
        #expect(
            HeaderEdit.removedRanges(in: orphan, isWholeMessage: true, removedNames: ["A"], removingLeadingContinuation: true)
                == [0..<14]
        )
    }
}
