import NIOCore

/// A deadline that moves with every command and rarely expires, kept with at most one scheduled
/// task. NIO removes a cancelled task by searching its loop's whole queue of scheduled tasks, so
/// cancelling and scheduling a timer per command costs more the more sessions a loop holds.
/// Here a later deadline only records the new time: when the task runs before it, the task is
/// scheduled again for it. Only a deadline earlier than the scheduled task cancels it.
///
/// Lives on one event loop: every method is called there.
final class LazyDeadline {
    private let eventLoop: EventLoop
    private var due: NIODeadline?
    private var action: (() -> Void)?
    private var task: Scheduled<Void>?
    private var taskDue = NIODeadline.distantFuture

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    var isSet: Bool { due != nil }

    /// Runs `action` after `amount` (on the loop's clock), unless set again or cleared before.
    func set(in amount: TimeAmount, _ action: @escaping () -> Void) {
        set(eventLoop.now + amount, action)
    }

    /// Runs `action` at `deadline` (on the loop's clock), unless set again or cleared before.
    func set(_ deadline: NIODeadline, _ action: @escaping () -> Void) {
        due = deadline
        self.action = action
        if task == nil || deadline < taskDue { schedule(at: deadline) }
    }

    /// No deadline until the next `set`. The scheduled task stays and finds nothing to do.
    func clear() {
        due = nil
        action = nil
    }

    /// No deadline any more, and the scheduled task removed: for the end of a session.
    func cancel() {
        clear()
        task?.cancel()
        task = nil
    }

    private func schedule(at when: NIODeadline) {
        task?.cancel()
        taskDue = when
        task = eventLoop.assumeIsolated().scheduleTask(deadline: when) { [weak self] in self?.expire() }
    }

    private func expire() {
        task = nil
        guard let due else { return }
        if due > eventLoop.now {
            schedule(at: due)
            return
        }
        let action = self.action
        clear()
        action?()
    }
}
