#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file calls the stores need, with the loops they need: partial writes and
/// reads are continued, `EINTR` is retried, failures become ``StoreError``s naming the path.
enum POSIXFile {
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StoreError) {
        var offset = 0
        while offset < bytes.count {
            let written = systemWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw StoreError(.write, path: path, errno: errno)
            }
            offset += written
        }
    }

    /// Fills `bytes` from the file at `offset`; a file shorter than that is an error.
    static func read(
        _ fd: Int32, into bytes: UnsafeMutableRawBufferPointer, at offset: Int, path: String
    ) throws(StoreError) {
        var done = 0
        while done < bytes.count {
            let count = pread(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if count < 0 {
                if errno == EINTR { continue }
                throw StoreError(.read, path: path, errno: errno)
            }
            if count == 0 {
                throw StoreError(.read, path: path, errno: 0, detail: "file ends before byte \(offset + done)")
            }
            done += count
        }
    }

    static func sync(_ fd: Int32, path: String) throws(StoreError) {
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw StoreError(.sync, path: path, errno: errno)
        }
    }

    /// Closes `fd`. An error from `close` can report a failed write-back, so it is thrown; the
    /// descriptor is released either way and `close` is never retried (Linux frees it at once).
    static func close(_ fd: Int32, path: String) throws(StoreError) {
        if systemClose(fd) != 0 && errno != EINTR {
            throw StoreError(.write, path: path, errno: errno)
        }
    }

    /// Opens `path` for writing, creating it with mode 0600; fails if it exists.
    static func createExclusive(_ path: String) throws(StoreError) -> Int32 {
        while true {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw StoreError(.createFile, path: path, errno: errno)
        }
    }

    /// Creates a unique file from `directory/prefixXXXXXX` (mode 0600, close-on-exec);
    /// returns it open for reading and writing, and its path.
    static func createTemporary(in directory: String, prefix: String) throws(StoreError) -> (Int32, String) {
        var template = Array("\(directory)/\(prefix)XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard fd >= 0 else {
            throw StoreError(.createFile, path: path, errno: errno)
        }
        // mkostemp would set this atomically, but Glibc's module map hides it (_GNU_SOURCE).
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return (fd, path)
    }

    /// Creates the directory with `mode` unless a directory is already there.
    static func makeDirectory(_ path: String, mode: mode_t) throws(StoreError) {
        if mkdir(path, mode) == 0 { return }
        let error = errno
        var info = stat()
        guard error == EEXIST, stat(path, &info) == 0 else {
            throw StoreError(.createDirectory, path: path, errno: error)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw StoreError(.createDirectory, path: path, errno: ENOTDIR)
        }
    }

    /// Flushes a directory's entries (a rename into it) to disk.
    static func syncDirectory(_ path: String) throws(StoreError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StoreError(.sync, path: path, errno: errno)
        }
        defer { _ = systemClose(fd) }
        try Self.sync(fd, path: path)
    }
}

// `write` and `close` are shadowed inside `POSIXFile`; these name the C functions.
@inline(__always) private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

@inline(__always) private func systemClose(_ fd: Int32) -> Int32 {
    close(fd)
}
