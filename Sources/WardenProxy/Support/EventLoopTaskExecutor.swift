import NIOCore

/// Runs a session's policy tasks on the session's own event loop. A check that answers at once
/// (counters in memory, a cached DNS answer) then costs one turn of the loop instead of two
/// thread switches: to the shared concurrency pool and back. A check that waits (a DNS query,
/// the shared store) suspends without holding the loop and resumes on it.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: EventLoop

    init(_ eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
