/// A server sent something that is not an RFC 5321 4.2 reply, or a reply too long to accept.
/// The message is for logs; it never contains the server's text.
public struct SMTPReplyParseError: Error, Hashable, Sendable {
    public var message: String

    public init(message: String) {
        self.message = message
    }
}
