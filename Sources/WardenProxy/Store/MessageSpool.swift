import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The body of one message while it is received: in memory up to ``memoryLimit`` bytes, the rest
/// in a temporary file (DESIGN 1.9), so a session's memory stays bounded whatever the message
/// size. The size limit itself (`552 5.3.4`, RFC 5321 section 4.5.3.1.7) is the caller's check.
///
/// The spool holds the message as it will be relayed: after dot-unstuffing, without the
/// terminating `.CRLF`. The first ``memoryLimit`` bytes stay in memory, later ones go to the file.
///
/// The temporary file is `directory/warden-spool-XXXXXX` (`mkstemp`, mode 0600, close-on-exec).
/// It is removed by ``discard()`` and by `deinit`; a process killed with the file open leaves it
/// behind, so the spool directory should be one that Warden alone uses and may clear at start.
///
/// Not `Sendable`: a spool belongs to one session and is used on its event loop. To deliver it
/// from a thread pool, hand it over (`sending`) and do not touch it on the loop meanwhile.
/// Its calls block on the file system once it has spilled.
public final class MessageSpool {
    /// The default for ``memoryLimit``: 1 MiB, which keeps most messages off the disk.
    public static let defaultMemoryLimit = 1 << 20
    /// The default chunk size of ``forEachChunk(maxChunk:_:)``.
    public static let defaultChunkSize = 65_536

    public let memoryLimit: Int
    public let directory: String
    private let allocator: ByteBufferAllocator
    private var memory: ByteBuffer
    private var file: (fd: Int32, path: String)?
    private var fileSize = 0

    /// - Parameters:
    ///   - memoryLimit: bytes kept in memory before the rest goes to a file; 0 spills at once.
    ///   - directory: where the temporary file is created; it must exist.
    public init(
        memoryLimit: Int = MessageSpool.defaultMemoryLimit,
        directory: String,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) {
        precondition(memoryLimit >= 0, "memoryLimit must not be negative")
        self.memoryLimit = memoryLimit
        self.directory = directory
        self.allocator = allocator
        self.memory = allocator.buffer(capacity: 0)
    }

    deinit {
        self.removeFile()
    }

    /// The number of bytes appended since creation or the last ``discard()``.
    public var size: Int { self.memory.readableBytes + self.fileSize }

    /// Whether part of the message is in a file.
    public var isSpilled: Bool { self.file != nil }

    /// The temporary file's path while there is one.
    public var spillPath: String? { self.file?.path }

    /// Adds `bytes` at the end of the message.
    ///
    /// Throws ``StoreError`` when the file cannot be created or written; what the spool holds
    /// is then unspecified, and the caller answers `451` and calls ``discard()``.
    public func append(_ bytes: ByteBuffer) throws {
        var bytes = bytes
        if self.file == nil {
            let room = self.memoryLimit - self.memory.readableBytes
            if bytes.readableBytes <= room {
                self.memory.writeBuffer(&bytes)
                return
            }
            if room > 0, var head = bytes.readSlice(length: room) {
                self.memory.writeBuffer(&head)
            }
            let (fd, path) = try POSIXFile.createTemporary(in: self.directory, prefix: "warden-spool-")
            self.file = (fd, path)
        }
        guard let file = self.file, bytes.readableBytes > 0 else { return }
        try bytes.withUnsafeReadableBytes { raw throws(StoreError) in
            try POSIXFile.write(file.fd, raw, path: file.path)
        }
        self.fileSize += bytes.readableBytes
    }

    /// Calls `body` with the message in order, in chunks of at most `maxChunk` bytes: the memory
    /// part first (slices, no copy), then the file (read into one reused buffer).
    public func forEachChunk(maxChunk: Int = MessageSpool.defaultChunkSize, _ body: (ByteBuffer) throws -> Void) throws {
        precondition(maxChunk > 0, "maxChunk must be positive")
        var memory = self.memory
        while memory.readableBytes > 0, let slice = memory.readSlice(length: min(maxChunk, memory.readableBytes)) {
            try body(slice)
        }
        guard let file = self.file else { return }
        var chunk = self.allocator.buffer(capacity: min(maxChunk, self.fileSize))
        var offset = 0
        while offset < self.fileSize {
            let length = min(maxChunk, self.fileSize - offset)
            chunk.clear()
            try chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw throws(StoreError) in
                try POSIXFile.read(file.fd, into: .init(rebasing: raw[..<length]), at: offset, path: file.path)
                return length
            }
            try body(chunk)
            offset += length
        }
    }

    /// The part of the message that starts at `offset`, at most `maxLength` bytes; nil at the
    /// end. Lets a writer send one chunk, wait until it is written, then ask for the next.
    public func chunk(at offset: Int, maxLength: Int = MessageSpool.defaultChunkSize) throws -> ByteBuffer? {
        precondition(offset >= 0 && maxLength > 0, "chunk(at: \(offset), maxLength: \(maxLength))")
        let inMemory = self.memory.readableBytes
        if offset < inMemory {
            return self.memory.getSlice(at: self.memory.readerIndex + offset, length: min(maxLength, inMemory - offset))
        }
        let fileOffset = offset - inMemory
        guard let file = self.file, fileOffset < self.fileSize else { return nil }
        let length = min(maxLength, self.fileSize - fileOffset)
        var chunk = self.allocator.buffer(capacity: length)
        try chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw throws(StoreError) in
            try POSIXFile.read(file.fd, into: .init(rebasing: raw[..<length]), at: fileOffset, path: file.path)
            return length
        }
        return chunk
    }

    /// The whole message in one buffer; for small messages and tests.
    public func readAll() throws -> ByteBuffer {
        var all = self.allocator.buffer(capacity: self.size)
        try self.forEachChunk { chunk in
            var chunk = chunk
            all.writeBuffer(&chunk)
        }
        return all
    }

    /// Forgets the message and removes the temporary file; the spool is then empty and may be
    /// used for the next message.
    public func discard() {
        self.removeFile()
        self.memory = self.allocator.buffer(capacity: 0)
    }

    private func removeFile() {
        guard let file = self.file else { return }
        self.file = nil
        self.fileSize = 0
        _ = try? POSIXFile.close(file.fd, path: file.path)
        unlink(file.path)
    }
}
