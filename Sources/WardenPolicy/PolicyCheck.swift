/// An answer that is ready now, or one that needs waiting (a DNS query, a shared store).
/// Checks answer `.now` whenever they can so that the session stays on its event loop.
public enum PolicyAnswer: Sendable {
    case now(Decision)
    case later(@Sendable () async -> Decision)
}

/// One check of the policy. A check looks at the stages it cares for and answers `.pass` for
/// the others. A check that waits must bound its own wait and state what a timeout decides.
public protocol PolicyCheck: Sendable {
    var name: String { get }
    func evaluate(_ query: PolicyQuery) -> PolicyAnswer
}
