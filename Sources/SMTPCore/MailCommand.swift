/// The arguments of MAIL, [RFC 5321 section 4.1.1.2](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.2):
///
///     C: MAIL FROM:<a@example.org> SIZE=1200
///     C: MAIL FROM:<>
///
/// The second has the null reverse path (`reversePath == nil`) of bounces.
public struct MailCommand: Hashable, Sendable {
    /// nil for the null reverse path "<>".
    public var reversePath: Mailbox?
    /// The domains of an RFC 5321 4.1.2 A-d-l ("<@a,@b:u@c" gives ["a", "b"]), without "@";
    /// normally empty. Never sent upstream (RFC 5321 appendix C).
    public var sourceRoute: [String]
    public var parameters: [ESMTPParameter]

    public init(reversePath: Mailbox?, sourceRoute: [String] = [], parameters: [ESMTPParameter] = []) {
        self.reversePath = reversePath
        self.sourceRoute = sourceRoute
        self.parameters = parameters
    }
}
