/// RFC 5321 4.5.3.2 timeouts, in seconds, that an SMTP client gives the server.
public enum SMTPTimeouts {
    /// RFC 5321 4.5.3.2.1: waiting for the 220 greeting.
    public static let initialGreeting = 300
    /// RFC 5321 4.5.3.2.2: reply to MAIL.
    public static let mail = 300
    /// RFC 5321 4.5.3.2.3: reply to each RCPT.
    public static let rcpt = 300
    /// RFC 5321 4.5.3.2.4: the 354 reply to DATA.
    public static let dataInitiation = 120
    /// RFC 5321 4.5.3.2.5: between two blocks of message data.
    public static let dataBlock = 180
    /// RFC 5321 4.5.3.2.6: the reply after the final ".".
    public static let dataTermination = 600
    /// RFC 5321 4.5.3.2.7: a server waiting for the client's next command.
    public static let serverCommand = 300
}
