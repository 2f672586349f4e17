import NIOCore
import Testing

@testable import WardenProxy

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct MaildirTests {
    private let fixedClock: MaildirStore.Clock = { (1_700_000_000, 42) }

    private func spool(_ text: String, in dir: StoreTestDirectory, memoryLimit: Int = 1 << 20) throws -> MessageSpool {
        let spool = MessageSpool(memoryLimit: memoryLimit, directory: dir.path)
        try spool.append(ByteBuffer(string: text))
        return spool
    }

    private func contents(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &chunk, chunk.count)
            try #require(count >= 0)
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func createsTheMaildirLayout() throws {
        let dir = try StoreTestDirectory()
        let store = try MaildirStore(root: dir.path + "/mail/inbox/")
        #expect(store.root == dir.path + "/mail/inbox")
        #expect(dir.entries("mail/inbox") == ["cur", "new", "tmp"])
        var info = stat()
        #expect(stat(dir.path + "/mail/inbox/new", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        _ = try MaildirStore(root: dir.path + "/mail/inbox")  // existing directories are fine
    }

    @Test func messageLandsInNewWithExactHeaders() throws {
        let dir = try StoreTestDirectory()
        let store = try MaildirStore(root: dir.path + "/Maildir", hostName: "mx.example.com", clock: self.fixedClock)
        let message = try self.spool("Subject: test\r\n\r\nline one\r\nline two\r\n", in: dir)
        let path = try store.deliver(
            sender: "alice@example.org",
            recipients: ["bob@example.com", "carol@example.com"],
            clientAddress: "192.0.2.1",
            heloName: "client.example.org",
            message: message,
            receivedBy: "warden.example.com"
        )
        let name = "1700000000.M42P\(getpid())Q"
        #expect(path.hasPrefix("\(dir.path)/Maildir/new/\(name)"))
        #expect(path.hasSuffix(".mx.example.com"))
        #expect(dir.entries("Maildir/tmp") == [])
        #expect(dir.entries("Maildir/new").count == 1)
        #expect(
            try self.contents(path) == """
                Return-Path: <alice@example.org>
                X-Original-To: bob@example.com
                X-Original-To: carol@example.com
                Received: from client.example.org ([192.0.2.1]) by warden.example.com with ESMTP; \
                Tue, 14 Nov 2023 22:13:20 +0000
                Subject: test

                line one
                line two

                """
        )
    }

    @Test func nullSenderControlCharactersAndBareLineEnds() throws {
        let dir = try StoreTestDirectory()
        let store = try MaildirStore(root: dir.path, hostName: "h", clock: self.fixedClock)
        let message = try self.spool("a\rb\nc\r\n", in: dir)
        let path = try store.deliver(
            sender: "", recipients: ["x@y\r\nBcc: evil@z"], clientAddress: "2001:db8::1",
            heloName: "evil\nX-Injected: 1", message: message, receivedBy: "w", protocolName: "ESMTPS"
        )
        #expect(
            try self.contents(path) == """
                Return-Path: <>
                X-Original-To: x@y??Bcc: evil@z
                Received: from evil?X-Injected: 1 ([2001:db8::1]) by w with ESMTPS; Tue, 14 Nov 2023 22:13:20 +0000
                a\rb
                c

                """
        )
    }

    @Test func spilledMessageIsConvertedAcrossChunkBoundaries() throws {
        let dir = try StoreTestDirectory()
        let store = try MaildirStore(root: dir.path + "/md", hostName: "h", clock: self.fixedClock)
        let line = "0123456789abcdef\r\n"
        let body = String(repeating: line, count: 20_000)  // 360,000 bytes; CRLFs fall across chunks
        let message = try self.spool(body, in: dir, memoryLimit: 1001)
        #expect(message.isSpilled)
        let path = try store.deliver(
            sender: "a@b", recipients: ["c@d"], clientAddress: "192.0.2.9", heloName: "e",
            message: message, receivedBy: "w"
        )
        let header = """
            Return-Path: <a@b>
            X-Original-To: c@d
            Received: from e ([192.0.2.9]) by w with ESMTP; Tue, 14 Nov 2023 22:13:20 +0000

            """
        #expect(try self.contents(path) == header + String(repeating: "0123456789abcdef\n", count: 20_000))
    }

    @Test func lineEndConverterHandlesSplitCRLF() {
        var converter = LineEndConverter()
        var out = ByteBuffer()
        for piece in ["ab\r", "\ncd\r", "x\r", "\r", "\n", "\r"] {
            converter.convert(ByteBuffer(string: piece), into: &out)
        }
        converter.finish(into: &out)
        #expect(String(buffer: out) == "ab\ncd\rx\r\n\r")
    }

    @Test func concurrentDeliveriesGetDistinctNames() async throws {
        let dir = try StoreTestDirectory()
        let store = try MaildirStore(root: dir.path + "/md", hostName: "h", clock: self.fixedClock)
        let root = dir.path
        let paths = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let message = MessageSpool(memoryLimit: 16, directory: root)
                    try message.append(ByteBuffer(string: "Subject: \(index)\r\n\r\nbody \(index)\r\n"))
                    return try store.deliver(
                        sender: "a@b", recipients: ["c@d"], clientAddress: "192.0.2.1", heloName: "e",
                        message: message, receivedBy: "w"
                    )
                }
            }
            var paths: [String] = []
            for try await path in group { paths.append(path) }
            return paths
        }
        #expect(Set(paths).count == 64)
        #expect(dir.entries("md/new").count == 64)
        #expect(dir.entries("md/tmp") == [])
        for path in paths {
            let text = try self.contents(path)
            let subject = text.split(separator: "\n").first { $0.hasPrefix("Subject: ") }!
            #expect(text.hasSuffix("body \(subject.dropFirst(9))\n"))
        }
    }

    @Test func failedDeliveryLeavesNoFile() throws {
        let dir = try StoreTestDirectory()
        let store = try MaildirStore(root: dir.path + "/md", hostName: "h", clock: self.fixedClock)
        let message = MessageSpool(memoryLimit: 0, directory: dir.path)
        try message.append(ByteBuffer(string: "data\r\n"))
        // Pull the spool file away under the message so reading it fails midway.
        let spillPath = try #require(message.spillPath)
        let fd = open(spillPath, O_WRONLY | O_TRUNC)
        close(fd)
        #expect(throws: StoreError.self) {
            _ = try store.deliver(
                sender: "a@b", recipients: ["c@d"], clientAddress: "192.0.2.1", heloName: "e",
                message: message, receivedBy: "w"
            )
        }
        #expect(dir.entries("md/tmp") == [])
        #expect(dir.entries("md/new") == [])
    }

    @Test func hostNameIsEscaped() {
        #expect(MaildirStore.escapeHostName("a/b:c") == #"a\057b\072c"#)
    }

    @Test func rootThatIsAFileIsAnError() throws {
        let dir = try StoreTestDirectory()
        let file = dir.path + "/plain"
        close(open(file, O_WRONLY | O_CREAT, 0o600))
        #expect(throws: StoreError.self) { _ = try MaildirStore(root: file) }
    }
}
