import Synchronization

/// One query from submission to its single outcome.
///
/// Three parties may try to finish it: the c-ares callback (answer, error, shut down), the
/// loop's overall deadline, and task cancellation. The first wins; the continuation is resumed
/// exactly once, even when cancellation comes before the continuation exists.
final class PendingQuery: Sendable {
    typealias Outcome = Result<[UInt8], DNSError>

    let name: String
    let type: Int32

    private enum State {
        case created
        case waiting(CheckedContinuation<Outcome, Never>)
        case finishedEarly(Outcome)
        case done
    }

    private let state = Mutex<State>(.created)

    init(name: String, type: Int32) {
        self.name = name
        self.type = type
    }

    /// Hands over the continuation. Returns `false` when the query was finished before
    /// (cancelled): the continuation has been resumed and there is nothing to submit.
    func install(_ continuation: CheckedContinuation<Outcome, Never>) -> Bool {
        let early: Outcome? = state.withLock { state in
            switch state {
            case .created:
                state = .waiting(continuation)
                return nil
            case .finishedEarly(let outcome):
                state = .done
                return outcome
            case .waiting, .done:
                preconditionFailure("PendingQuery for \(name): continuation installed twice")
            }
        }
        guard let early else {
            return true
        }
        continuation.resume(returning: early)
        return false
    }

    /// Delivers the outcome unless another party already did.
    func finish(_ outcome: Outcome) {
        let continuation: CheckedContinuation<Outcome, Never>? = state.withLock { state in
            switch state {
            case .created:
                state = .finishedEarly(outcome)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .finishedEarly, .done:
                return nil
            }
        }
        continuation?.resume(returning: outcome)
    }

    var isFinished: Bool {
        state.withLock { state in
            switch state {
            case .created, .waiting:
                return false
            case .finishedEarly, .done:
                return true
            }
        }
    }
}
