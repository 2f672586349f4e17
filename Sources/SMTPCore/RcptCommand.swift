/// The arguments of RCPT, [RFC 5321 section 4.1.1.3](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.3):
///
///     C: RCPT TO:<b@example.org> NOTIFY=NEVER
public struct RcptCommand: Hashable, Sendable {
    public var forwardPath: ForwardPath
    /// The domains of an RFC 5321 4.1.2 A-d-l, without "@"; normally empty. Never sent upstream.
    public var sourceRoute: [String]
    public var parameters: [ESMTPParameter]

    public init(forwardPath: ForwardPath, sourceRoute: [String] = [], parameters: [ESMTPParameter] = []) {
        self.forwardPath = forwardPath
        self.sourceRoute = sourceRoute
        self.parameters = parameters
    }
}
