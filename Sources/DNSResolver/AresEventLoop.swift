import CCAres
import Glibc
import Synchronization

/// A c-ares channel and the thread that alone touches it.
///
/// c-ares channels are not thread-safe, and c-ares 1.18 has no event thread of its own. Callers
/// append `PendingQuery`s to a locked queue and wake the thread through an eventfd; the thread
/// starts them with `ares_query` (at most `maxInFlight` at a time), polls the wake fd and the
/// sockets c-ares reports through `ARES_OPT_SOCK_STATE_CB` (no 16-socket limit as with
/// `ares_getsock`), feeds readiness to `ares_process_fd` and ends each query by its overall
/// deadline. Shutting down destroys the channel on the thread, which fails every query still
/// in flight with "shut down".
final class AresEventLoop: @unchecked Sendable {
    /// Queries started per turn of the loop before it reads answers again.
    static let startBatch = 64

    private struct Shared {
        var queue: [PendingQuery] = []
        var wakeRequested = false
        var stopping = false
        var thread: pthread_t? = nil
    }

    private let shared = Mutex(Shared())
    private let channel: ares_channel
    private let sockets: SocketTable
    private let wakeFD: Int32
    /// How long a caller waits at most, from submission: `timeout × tries × servers`.
    private let queryCap: Duration
    private let maxInFlight: Int
    /// Set before the thread starts; the thread owns the channel from then on.
    private var threadStarted = false
    private var threadName = ""

    // Touched by the loop thread only.
    /// Queries handed to c-ares whose callback has not run yet.
    var inFlight = 0
    /// Submitted queries waiting for a free slot, from `backlogHead` on.
    private var backlog: [PendingQuery] = []
    private var backlogHead = 0
    /// Every unfinished query by submission time; one cap for all keeps them sorted.
    private var deadlines: [(deadline: ContinuousClock.Instant, query: PendingQuery)] = []
    private var deadlinesHead = 0

    init(configuration: DNSResolverConfiguration) throws(DNSError) {
        guard aresLibraryStatus == ARES_SUCCESS else {
            throw DNSError(aresStatus: aresLibraryStatus, query: "ares_library_init")
        }
        guard configuration.tries >= 1, configuration.timeout > .zero, configuration.maxQueriesInFlight >= 1 else {
            throw DNSError(
                kind: .malformed, detail: "timeout must be positive, tries and maxQueriesInFlight at least 1")
        }
        let csv = try configuration.serversCSV()
        let sockets = SocketTable()
        // One server: take SERVFAIL and REFUSED answers as they are (ARES_FLAG_NOCHECKRESP).
        // c-ares 1.18 would otherwise skip the server and report ARES_ECONNREFUSED, the same
        // status as an unreachable one. With several servers that skipping is the failover.
        var channel = try Self.makeChannel(
            configuration, csv: csv, sockets: sockets, passFailures: configuration.servers.count == 1)
        var serverCount = Self.serverCount(channel)
        if configuration.servers.isEmpty && serverCount == 1 {
            ares_destroy(channel)
            channel = try Self.makeChannel(configuration, csv: csv, sockets: sockets, passFailures: true)
            serverCount = Self.serverCount(channel)
        }
        guard serverCount > 0 else {
            ares_destroy(channel)
            throw DNSError(kind: .other, detail: "no DNS servers configured")
        }
        let wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            ares_destroy(channel)
            throw DNSError(kind: .other, detail: "eventfd: errno \(errno)")
        }
        self.channel = channel
        self.sockets = sockets
        self.wakeFD = wakeFD
        self.queryCap = configuration.timeout * (configuration.tries * serverCount)
        self.maxInFlight = configuration.maxQueriesInFlight
    }

    private static func makeChannel(
        _ configuration: DNSResolverConfiguration, csv: String, sockets: SocketTable, passFailures: Bool
    ) throws(DNSError) -> ares_channel {
        var options = ares_options()
        options.flags = passFailures ? ARES_FLAG_NOCHECKRESP : 0
        options.timeout = configuration.timeoutMilliseconds
        options.tries = Int32(clamping: configuration.tries)
        options.sock_state_cb = aresSocketStateCallback
        options.sock_state_cb_data = Unmanaged.passUnretained(sockets).toOpaque()
        let mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB
        var created: ares_channel? = nil
        let status = ares_init_options(&created, &options, mask)
        guard status == ARES_SUCCESS, let channel = created else {
            throw DNSError(aresStatus: status, query: "ares_init_options")
        }
        ares_set_socket_configure_callback(channel, aresSocketConfigureCallback, nil)
        if !csv.isEmpty {
            let status = ares_set_servers_ports_csv(channel, csv)
            guard status == ARES_SUCCESS else {
                ares_destroy(channel)
                throw DNSError(aresStatus: status, query: "servers \(csv)")
            }
        }
        return channel
    }

    private static func serverCount(_ channel: ares_channel) -> Int {
        var list: UnsafeMutablePointer<ares_addr_port_node>? = nil
        guard ares_get_servers_ports(channel, &list) == ARES_SUCCESS else {
            return 0
        }
        defer { ares_free_data(list) }
        var count = 0
        var node = list
        while let current = node {
            count += 1
            node = current.pointee.next
        }
        return count
    }

    deinit {
        if !threadStarted {
            ares_destroy(channel)
        }
        close(wakeFD)
    }

    /// Starts the loop thread, named `threadName` (at most 15 bytes show in `top -H`).
    func start(threadName: String) throws(DNSError) {
        self.threadName = threadName
        var thread = pthread_t()
        threadStarted = true
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { context in
            let loop = Unmanaged<AresEventLoop>.fromOpaque(context!).takeRetainedValue()
            _ = warden_name_current_thread(loop.threadName)
            loop.run()
            return nil
        }, context)
        guard status == 0 else {
            threadStarted = false
            Unmanaged<AresEventLoop>.fromOpaque(context).release()
            throw DNSError(kind: .other, detail: "pthread_create: error \(status)")
        }
        shared.withLock { $0.thread = thread }
    }

    /// Queues a query for the loop thread, or fails it at once after shutdown.
    func submit(_ query: PendingQuery) {
        let (accepted, wake) = shared.withLock { shared -> (Bool, Bool) in
            if shared.stopping {
                return (false, false)
            }
            shared.queue.append(query)
            if shared.wakeRequested {
                return (true, false)
            }
            shared.wakeRequested = true
            return (true, true)
        }
        if !accepted {
            query.finish(.failure(.shutDown))
        } else if wake {
            self.wake()
        }
    }

    /// Stops the thread and waits for it; queries in flight or queued fail with "shut down".
    func shutdown() {
        let thread = shared.withLock { shared -> pthread_t? in
            shared.stopping = true
            defer { shared.thread = nil }
            return shared.thread
        }
        guard let thread else {
            return
        }
        wake()
        if pthread_equal(thread, pthread_self()) != 0 {
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
        }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, MemoryLayout<UInt64>.size)
    }

    // MARK: - The loop thread

    private func run() {
        var pollSet: [pollfd] = []
        while true {
            // Drain the eventfd before taking the queue: a submit after the take writes again.
            var counter: UInt64 = 0
            _ = read(wakeFD, &counter, MemoryLayout<UInt64>.size)
            let (incoming, stopping) = shared.withLock { shared -> ([PendingQuery], Bool) in
                defer { shared.queue = [] }
                shared.wakeRequested = false
                return (shared.queue, shared.stopping)
            }
            if stopping {
                for query in backlog[backlogHead...] {
                    query.finish(.failure(.shutDown))
                }
                for query in incoming {
                    query.finish(.failure(.shutDown))
                }
                break
            }
            let now = ContinuousClock.now
            for query in incoming {
                deadlines.append((now + queryCap, query))
            }
            backlog.append(contentsOf: incoming)
            startFromBacklog()
            expireDeadlines(now: ContinuousClock.now)

            let canStartMore = backlogHead < backlog.count && inFlight < maxInFlight
            let timeout = canStartMore ? 0 : pollTimeoutMilliseconds(now: ContinuousClock.now)
            pollSet.removeAll(keepingCapacity: true)
            pollSet.append(pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0))
            for (fd, interest) in sockets.interest {
                var events: Int16 = 0
                if interest.readable { events |= Int16(POLLIN) }
                if interest.writable { events |= Int16(POLLOUT) }
                pollSet.append(pollfd(fd: fd, events: events, revents: 0))
            }
            if poll(&pollSet, nfds_t(pollSet.count), timeout) > 0 {
                for entry in pollSet.dropFirst() where entry.revents != 0 {
                    let failed = entry.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0
                    let readable = entry.revents & Int16(POLLIN) != 0 || failed
                    let writable = entry.revents & Int16(POLLOUT) != 0
                    ares_process_fd(
                        channel, readable ? entry.fd : ARES_SOCKET_BAD, writable ? entry.fd : ARES_SOCKET_BAD)
                }
            }
            // Retransmits and c-ares' own timeouts.
            ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD)
            expireDeadlines(now: ContinuousClock.now)
        }
        ares_destroy(channel)
        for entry in deadlines[deadlinesHead...] {
            entry.query.finish(.failure(.shutDown))
        }
        deadlines = []
        deadlinesHead = 0
    }

    /// Hands queries to c-ares while slots are free, at most `startBatch` per turn.
    private func startFromBacklog() {
        var started = 0
        while backlogHead < backlog.count && inFlight < maxInFlight && started < Self.startBatch {
            let query = backlog[backlogHead]
            backlogHead += 1
            if query.isFinished {
                continue
            }
            started += 1
            inFlight += 1
            let context = Unmanaged.passRetained(QueryContext(query: query, loop: self)).toOpaque()
            query.name.withCString { name in
                ares_query(channel, name, Int32(ns_c_in.rawValue), query.type, aresQueryCallback, context)
            }
        }
        if backlogHead == backlog.count {
            backlog.removeAll(keepingCapacity: true)
            backlogHead = 0
        } else if backlogHead > 1024 && backlogHead * 2 > backlog.count {
            backlog.removeFirst(backlogHead)
            backlogHead = 0
        }
    }

    private func expireDeadlines(now: ContinuousClock.Instant) {
        while deadlinesHead < deadlines.count {
            let entry = deadlines[deadlinesHead]
            if entry.query.isFinished {
                deadlinesHead += 1
            } else if entry.deadline <= now {
                let detail = "no answer within \(queryCap) (\(entry.query.name))"
                entry.query.finish(.failure(DNSError(kind: .timeout, detail: detail)))
                deadlinesHead += 1
            } else {
                break
            }
        }
        if deadlinesHead == deadlines.count {
            deadlines.removeAll(keepingCapacity: true)
            deadlinesHead = 0
        } else if deadlinesHead > 1024 && deadlinesHead * 2 > deadlines.count {
            deadlines.removeFirst(deadlinesHead)
            deadlinesHead = 0
        }
    }

    /// The wait until c-ares must retransmit or the earliest deadline passes; -1 when idle.
    private func pollTimeoutMilliseconds(now: ContinuousClock.Instant) -> Int32 {
        var result: Int64 = -1
        var storage = timeval()
        if let next = ares_timeout(channel, nil, &storage) {
            result = Int64(next.pointee.tv_sec) * 1000 + (Int64(next.pointee.tv_usec) + 999) / 1000
        }
        if deadlinesHead < deadlines.count {
            let (seconds, attoseconds) = (deadlines[deadlinesHead].deadline - now).components
            let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
            let untilDeadline = max(0, milliseconds)
            result = result < 0 ? untilDeadline : min(result, untilDeadline)
        }
        return Int32(clamping: result)
    }
}

private let aresLibraryStatus: Int32 = ares_library_init(ARES_LIB_INIT_ALL)
