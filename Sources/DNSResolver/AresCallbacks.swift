import CCAres
import Glibc

// The C callbacks of `AresEventLoop`'s channel. c-ares calls all of them on the loop thread,
// from inside `ares_query`, `ares_process_fd` or `ares_destroy`.

/// The sockets c-ares wants watched, kept up to date by its socket-state callback.
final class SocketTable {
    var interest: [Int32: (readable: Bool, writable: Bool)] = [:]
}

/// What a query's callback needs: its query, and the loop whose slot it frees.
final class QueryContext {
    let query: PendingQuery
    unowned let loop: AresEventLoop

    init(query: PendingQuery, loop: AresEventLoop) {
        self.query = query
        self.loop = loop
    }
}

func aresSocketStateCallback(
    _ data: UnsafeMutableRawPointer?, _ fd: ares_socket_t, _ readable: Int32, _ writable: Int32
) {
    let table = Unmanaged<SocketTable>.fromOpaque(data!).takeUnretainedValue()
    if readable == 0 && writable == 0 {
        table.interest[fd] = nil
    } else {
        table.interest[fd] = (readable != 0, writable != 0)
    }
}

/// c-ares 1.18 does not open its sockets close-on-exec; a spawned child would keep them.
func aresSocketConfigureCallback(_ fd: ares_socket_t, _ type: Int32, _ data: UnsafeMutableRawPointer?) -> Int32 {
    let flags = fcntl(fd, F_GETFD)
    if flags >= 0 {
        _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC)
    }
    return 0
}

/// Called exactly once per `ares_query`: with the answer, an error, or ARES_EDESTRUCTION.
/// The answer buffer lives only during the call, so it is copied.
func aresQueryCallback(
    _ context: UnsafeMutableRawPointer?, _ status: Int32, _ timeouts: Int32,
    _ answer: UnsafeMutablePointer<UInt8>?, _ length: Int32
) {
    let context = Unmanaged<QueryContext>.fromOpaque(context!).takeRetainedValue()
    context.loop.inFlight -= 1
    let query = context.query
    if status == ARES_SUCCESS, let answer, length > 0 {
        query.finish(.success(Array(UnsafeBufferPointer(start: answer, count: Int(length)))))
    } else if status == ARES_SUCCESS {
        query.finish(.failure(DNSError(kind: .malformed, detail: "empty answer (\(query.name))")))
    } else {
        query.finish(.failure(DNSError(aresStatus: status, query: query.name)))
    }
}
