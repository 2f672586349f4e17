/// A mailbox, [RFC 5321 section 4.1.2](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.2),
/// as it appears between the angle brackets of a path:
///
///     C: MAIL FROM:<"john smith"@[192.0.2.1]>
///
/// gives `Mailbox(localPart: "\"john smith\"", domain: "[192.0.2.1]")`. Both strings keep
/// their wire form: a quoted local part keeps its quotes and backslashes, an address literal
/// its brackets. With SMTPUTF8 (RFC 6531) either may hold UTF-8.
public struct Mailbox: Hashable, Sendable, CustomStringConvertible {
    public var localPart: String
    public var domain: String

    public init(localPart: String, domain: String) {
        self.localPart = localPart
        self.domain = domain
    }

    /// Parses "local@domain" with the grammar of `SMTPCommandParser` (no angle brackets, no
    /// source route) and the length limits of RFC 5321 4.5.3.1; nil when it is not a mailbox.
    /// For addresses from configuration and rule files.
    public init?(parsing text: String) {
        var cursor = ByteCursor(Array(text.utf8))
        guard let mailbox = try? PathParser.parseMailbox(&cursor), cursor.isAtEnd,
            (try? PathParser.checkLengths(mailbox)) != nil
        else { return nil }
        self = mailbox
    }

    /// The local part is a Quoted-string: it starts with `"`.
    public var isQuotedLocalPart: Bool {
        localPart.utf8.first == UInt8(ascii: "\"")
    }

    /// The domain is an address literal: it starts with `[`.
    public var isAddressLiteral: Bool {
        domain.utf8.first == UInt8(ascii: "[")
    }

    /// "local@domain"
    public var description: String {
        "\(localPart)@\(domain)"
    }

    /// Whether the address is all ASCII (else it needs SMTPUTF8, RFC 6531).
    public var isASCII: Bool {
        localPart.utf8.allSatisfy { $0 < 0x80 } && domain.utf8.allSatisfy { $0 < 0x80 }
    }
}
