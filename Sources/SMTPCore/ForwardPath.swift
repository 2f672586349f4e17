/// The recipient of RCPT, [RFC 5321 section 4.1.1.3](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.3):
///
///     C: RCPT TO:<Postmaster>
///     C: RCPT TO:<b@example.org>
///
/// "<Postmaster>" without a domain (any case) must be accepted by every server and is
/// `.postmaster`; "<postmaster@example.org>" is an ordinary mailbox.
public enum ForwardPath: Hashable, Sendable, CustomStringConvertible {
    case postmaster
    case mailbox(Mailbox)

    /// "Postmaster" or "local@domain"
    public var description: String {
        switch self {
        case .postmaster: "Postmaster"
        case .mailbox(let mailbox): mailbox.description
        }
    }
}
