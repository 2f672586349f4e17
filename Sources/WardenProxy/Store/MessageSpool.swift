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
/// After the message is complete, ``apply(_:)`` edits its header section (``HeaderEdit``) without
/// copying it: the spool keeps the added fields as a prefix and the byte ranges of the removed
/// fields, and ``size``, ``chunk(at:maxLength:)``, ``forEachChunk(maxChunk:_:)`` and ``readAll()``
/// present the edited message (the prefix, then the stored bytes outside those ranges).
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
    /// The added header fields of the applied ``HeaderEdit``, read before the stored bytes.
    private var prefix: ByteBuffer
    /// Ranges of stored bytes left out of the edited message: sorted, disjoint, not adjacent.
    private var skipped: [Range<Int>] = []
    private var skippedBytes = 0

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
        self.prefix = allocator.buffer(capacity: 0)
    }

    deinit {
        self.removeFile()
    }

    /// The size of the message: the bytes appended since creation or the last ``discard()``, as
    /// changed by ``apply(_:)``.
    public var size: Int { self.prefix.readableBytes + self.storedSize - self.skippedBytes }

    /// The number of bytes appended, before any edit.
    private var storedSize: Int { self.memory.readableBytes + self.fileSize }

    /// Whether part of the message is in a file.
    public var isSpilled: Bool { self.file != nil }

    /// The temporary file's path while there is one.
    public var spillPath: String? { self.file?.path }

    /// Adds `bytes` at the end of the message.
    ///
    /// Throws ``StoreError`` when the file cannot be created or written; what the spool holds
    /// is then unspecified, and the caller answers `451` and calls ``discard()``.
    ///
    /// Appending after ``apply(_:)`` keeps the edit as it was computed: call it once the message
    /// is complete.
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

    /// Calls `body` with the message in order, in chunks of at most `maxChunk` bytes: the added
    /// header fields, then the memory part (slices, no copy), then the file (read into one reused
    /// buffer), leaving out removed header fields. A chunk may be shorter than `maxChunk` where
    /// one of these parts or a removed field ends.
    public func forEachChunk(maxChunk: Int = MessageSpool.defaultChunkSize, _ body: (ByteBuffer) throws -> Void) throws {
        precondition(maxChunk > 0, "maxChunk must be positive")
        var prefix = self.prefix
        while prefix.readableBytes > 0, let slice = prefix.readSlice(length: min(maxChunk, prefix.readableBytes)) {
            try body(slice)
        }
        var reused: ByteBuffer?
        var start = 0
        for range in self.skipped + [self.storedSize..<self.storedSize] {
            try self.forEachStoredChunk(in: start..<range.lowerBound, maxChunk: maxChunk, reusing: &reused, body)
            start = range.upperBound
        }
    }

    /// Calls `body` with the stored bytes in `range`, in chunks of at most `maxChunk` bytes.
    private func forEachStoredChunk(
        in range: Range<Int>,
        maxChunk: Int,
        reusing reused: inout ByteBuffer?,
        _ body: (ByteBuffer) throws -> Void
    ) throws {
        var offset = range.lowerBound
        let inMemory = self.memory.readableBytes
        while offset < min(range.upperBound, inMemory) {
            let length = min(maxChunk, min(range.upperBound, inMemory) - offset)
            try body(self.memory.getSlice(at: self.memory.readerIndex + offset, length: length)!)
            offset += length
        }
        guard let file = self.file, offset < range.upperBound else { return }
        var chunk = reused.take() ?? self.allocator.buffer(capacity: min(maxChunk, self.fileSize))
        defer { reused = chunk }
        while offset < range.upperBound {
            let length = min(maxChunk, range.upperBound - offset)
            chunk.clear()
            try chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw throws(StoreError) in
                try POSIXFile.read(file.fd, into: .init(rebasing: raw[..<length]), at: offset - inMemory, path: file.path)
                return length
            }
            try body(chunk)
            offset += length
        }
    }

    /// The part of the message that starts at `offset`, at most `maxLength` bytes; nil at the
    /// end. Lets a writer send one chunk, wait until it is written, then ask for the next.
    ///
    /// Offsets count bytes of the message as edited by ``apply(_:)``. A chunk ends early where
    /// the added header fields, the memory part or a stretch between removed fields ends, so ask
    /// again at `offset + chunk.readableBytes` until nil.
    public func chunk(at offset: Int, maxLength: Int = MessageSpool.defaultChunkSize) throws -> ByteBuffer? {
        precondition(offset >= 0 && maxLength > 0, "chunk(at: \(offset), maxLength: \(maxLength))")
        let prefixLength = self.prefix.readableBytes
        if offset < prefixLength {
            return self.prefix.getSlice(at: self.prefix.readerIndex + offset, length: min(maxLength, prefixLength - offset))
        }
        // The stored offset: past every removed range that starts at or before it.
        var stored = offset - prefixLength
        var end = self.storedSize
        for range in self.skipped {
            guard range.lowerBound <= stored else {
                end = range.lowerBound
                break
            }
            stored += range.count
        }
        guard stored < end else { return nil }
        return try self.storedChunk(at: stored, maxLength: min(maxLength, end - stored))
    }

    /// The stored bytes from `offset`, at most `maxLength` of them, not past the memory part when
    /// `offset` is in it; `offset` must be less than ``storedSize``.
    private func storedChunk(at offset: Int, maxLength: Int) throws -> ByteBuffer {
        let inMemory = self.memory.readableBytes
        if offset < inMemory {
            return self.memory.getSlice(at: self.memory.readerIndex + offset, length: min(maxLength, inMemory - offset))!
        }
        let fileOffset = offset - inMemory
        guard let file = self.file, fileOffset < self.fileSize else {
            preconditionFailure("stored offset \(offset) out of range")
        }
        let length = min(maxLength, self.fileSize - fileOffset)
        var chunk = self.allocator.buffer(capacity: length)
        try chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw throws(StoreError) in
            try POSIXFile.read(file.fd, into: .init(rebasing: raw[..<length]), at: fileOffset, path: file.path)
            return length
        }
        return chunk
    }

    /// Applies `edit` to the complete message: afterwards ``size``, ``chunk(at:maxLength:)``,
    /// ``forEachChunk(maxChunk:_:)`` and ``readAll()`` present the edited message, which is the
    /// added fields (each `Name: value` CRLF, in order) followed by the stored message without
    /// the header fields named in `edit.removedNames` (and, when fields are added, without
    /// continuation lines at its very start, which would otherwise continue the last added
    /// field). See ``HeaderEdit`` for what counts as the
    /// header section and a field; the body is never changed, and nothing is copied: only the
    /// first ``HeaderEdit/scanLimit`` bytes are read, to find the fields to remove.
    ///
    /// Applying another edit replaces this one (the stored message is examined afresh);
    /// ``HeaderEdit/none`` undoes it, and ``discard()`` forgets it with the message.
    ///
    /// Throws ``StoreError`` when the file cannot be read; the previous edit then stays.
    public func apply(_ edit: HeaderEdit) throws {
        var skipped: [Range<Int>] = []
        if !edit.isEmpty {
            let length = min(self.storedSize, HeaderEdit.scanLimit)
            var head: [UInt8] = []
            head.reserveCapacity(length)
            while head.count < length {
                head += try self.storedChunk(at: head.count, maxLength: length - head.count).readableBytesView
            }
            skipped = HeaderEdit.removedRanges(
                in: head,
                isWholeMessage: length == self.storedSize,
                removedNames: edit.removedNames,
                removingLeadingContinuation: !edit.added.isEmpty
            )
        }
        self.prefix = edit.prefix(allocator: self.allocator)
        self.skipped = skipped
        self.skippedBytes = skipped.reduce(0) { $0 + $1.count }
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
        self.prefix = self.allocator.buffer(capacity: 0)
        self.skipped = []
        self.skippedBytes = 0
    }

    private func removeFile() {
        guard let file = self.file else { return }
        self.file = nil
        self.fileSize = 0
        _ = try? POSIXFile.close(file.fd, path: file.path)
        unlink(file.path)
    }
}
