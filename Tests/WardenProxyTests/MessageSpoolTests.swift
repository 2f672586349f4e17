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

@Suite struct MessageSpoolTests {
    /// Bytes 0, 1, ..., 250, 0, 1, ...: no two neighbouring chunks look alike.
    private func pattern(_ count: Int, from start: Int = 0) -> ByteBuffer {
        ByteBuffer(bytes: (start..<start + count).map { UInt8($0 % 251) })
    }

    @Test func smallMessageStaysInMemory() throws {
        let dir = try StoreTestDirectory()
        let spool = MessageSpool(memoryLimit: 100, directory: dir.path)
        try spool.append(ByteBuffer(string: "Subject: hi\r\n\r\n"))
        try spool.append(ByteBuffer(string: "body\r\n"))
        #expect(spool.size == 21)
        #expect(!spool.isSpilled)
        #expect(dir.entries() == [])
        #expect(try spool.readAll() == ByteBuffer(string: "Subject: hi\r\n\r\nbody\r\n"))
    }

    @Test func exactlyTheLimitStaysInMemory() throws {
        let dir = try StoreTestDirectory()
        let spool = MessageSpool(memoryLimit: 10, directory: dir.path)
        try spool.append(self.pattern(10))
        #expect(!spool.isSpilled)
        try spool.append(self.pattern(1, from: 10))
        #expect(spool.isSpilled)
        #expect(spool.size == 11)
        #expect(try spool.readAll() == self.pattern(11))
    }

    @Test(arguments: [0, 1, 4096, 100_000])
    func largeMessageSpillsAndRoundTrips(memoryLimit: Int) throws {
        let dir = try StoreTestDirectory()
        let spool = MessageSpool(memoryLimit: memoryLimit, directory: dir.path)
        var offset = 0
        for length in [1, 999, 70_000, 3, 65_536, 12_345] {
            try spool.append(self.pattern(length, from: offset))
            offset += length
        }
        #expect(spool.size == offset)
        #expect(spool.isSpilled)
        let path = try #require(spool.spillPath)
        #expect(dir.entries().count == 1)
        #expect(path.hasPrefix(dir.path + "/warden-spool-"))
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(Int(info.st_size) == offset - memoryLimit)

        #expect(try spool.readAll() == self.pattern(offset))
        var chunks: [Int] = []
        var joined = ByteBuffer()
        try spool.forEachChunk(maxChunk: 50_000) { chunk in
            var chunk = chunk
            chunks.append(chunk.readableBytes)
            joined.writeBuffer(&chunk)
        }
        #expect(chunks.allSatisfy { $0 <= 50_000 && $0 > 0 })
        #expect(joined == self.pattern(offset))

        spool.discard()
        #expect(dir.entries() == [])
        #expect(spool.size == 0)
        #expect(try spool.readAll().readableBytes == 0)
    }

    @Test func chunksHandedOutStayValidAfterTheNextRead() throws {
        let dir = try StoreTestDirectory()
        let spool = MessageSpool(memoryLimit: 0, directory: dir.path)
        try spool.append(self.pattern(300))
        var kept: [ByteBuffer] = []
        try spool.forEachChunk(maxChunk: 100) { kept.append($0) }
        #expect(kept == [self.pattern(100), self.pattern(100, from: 100), self.pattern(100, from: 200)])
    }

    @Test func fileIsRemovedWhenTheSpoolGoesAway() throws {
        let dir = try StoreTestDirectory()
        do {
            let spool = MessageSpool(memoryLimit: 8, directory: dir.path)
            try spool.append(self.pattern(64))
            #expect(dir.entries().count == 1)
        }
        #expect(dir.entries() == [])
    }

    @Test func discardedSpoolTakesTheNextMessage() throws {
        let dir = try StoreTestDirectory()
        let spool = MessageSpool(memoryLimit: 8, directory: dir.path)
        try spool.append(self.pattern(64))
        spool.discard()
        try spool.append(ByteBuffer(string: "short"))
        #expect(!spool.isSpilled)
        #expect(try spool.readAll() == ByteBuffer(string: "short"))
    }

    @Test func missingDirectoryIsAStoreError() throws {
        let spool = MessageSpool(memoryLimit: 1, directory: "/nonexistent/warden-test")
        #expect(throws: StoreError.self) { try spool.append(self.pattern(2)) }
    }
}

/// A fresh directory under /tmp, removed with everything in it when the value goes away.
final class StoreTestDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/warden-test-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw StoreError(.createDirectory, path: "/tmp", errno: errno)
        }
        self.path = String(cString: made)
    }

    deinit {
        Self.removeTree(self.path)
    }

    /// The names in the directory (or in `sub` below it), sorted, without `.` and `..`.
    func entries(_ sub: String? = nil) -> [String] {
        Self.list(sub.map { "\(self.path)/\($0)" } ?? self.path)
    }

    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    private static func removeTree(_ path: String) {
        for name in Self.list(path) {
            let child = "\(path)/\(name)"
            if unlink(child) != 0 { Self.removeTree(child) }
        }
        rmdir(path)
    }
}

@Suite struct MessageSpoolChunkTests {
    @Test(arguments: [4, 16, 1000])
    func chunksCoverTheMessageInOrder(memoryLimit: Int) throws {
        let spool = MessageSpool(memoryLimit: memoryLimit, directory: "/tmp")
        defer { spool.discard() }
        let text = (0..<50).map { "line \($0)\r\n" }.joined()
        try spool.append(ByteBuffer(string: text))
        var offset = 0
        var collected = ""
        while let chunk = try spool.chunk(at: offset, maxLength: 7) {
            #expect(chunk.readableBytes <= 7 && chunk.readableBytes > 0)
            collected += String(buffer: chunk)
            offset += chunk.readableBytes
        }
        #expect(collected == text)
        #expect(try spool.chunk(at: offset) == nil)
    }
}
