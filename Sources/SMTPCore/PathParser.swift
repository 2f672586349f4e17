/// Reads the path of MAIL and RCPT,
/// [RFC 5321 section 4.1.2](https://www.rfc-editor.org/rfc/rfc5321#section-4.1.2) with the
/// UTF-8 of [RFC 6531 section 3.3](https://www.rfc-editor.org/rfc/rfc6531#section-3.3):
///
///     Reverse-path   = Path / "<>"
///     Forward-path   = Path
///     Rcpt           = "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path
///     Path           = "<" [ A-d-l ":" ] Mailbox ">"
///     A-d-l          = At-domain *( "," At-domain )
///     At-domain      = "@" Domain
///     Mailbox        = Local-part "@" ( Domain / address-literal )
///     Local-part     = Dot-string / Quoted-string
///     Dot-string     = Atom *("."  Atom)
///     Atom           = 1*atext
///     Quoted-string  = DQUOTE *QcontentSMTP DQUOTE
///     QcontentSMTP   = qtextSMTP / quoted-pairSMTP
///     quoted-pairSMTP  = %d92 %d32-126
///     qtextSMTP      = %d32-33 / %d35-91 / %d93-126
///     atext          =/ UTF8-non-ascii        ; RFC 6531
///     qtextSMTP      =/ UTF8-non-ascii        ; RFC 6531
///
/// Lengths are checked after the syntax: local part 64, domain 255, path 256 octets
/// (RFC 5321 4.5.3.1, `SMTPLimits`).
enum PathParser {
    enum Failure: Error {
        case syntax
        case localPartTooLong
        case domainTooLong
        case pathTooLong
    }

    /// Whose path it is: a sender may have the null path, a recipient may be Postmaster.
    enum Role {
        case sender
        case recipient
    }

    enum Target: Equatable {
        case null
        case postmaster
        case mailbox(Mailbox)
    }

    struct Path: Equatable {
        var target: Target
        var sourceRoute: [String]
    }

    /// Reads a Reverse-path (sender) or a Forward-path with "<Postmaster>" (recipient).
    static func parsePath(_ cursor: inout ByteCursor, role: Role) throws(Failure) -> Path {
        let start = cursor.index
        guard cursor.consume(UInt8(ascii: "<")) else { throw .syntax }
        if role == .sender, cursor.consume(UInt8(ascii: ">")) {
            return Path(target: .null, sourceRoute: [])
        }
        if role == .recipient, cursor.consume(ignoringCase: "Postmaster>") {
            return Path(target: .postmaster, sourceRoute: [])
        }
        let sourceRoute = try parseSourceRoute(&cursor)
        let mailbox = try parseMailbox(&cursor)
        guard cursor.consume(UInt8(ascii: ">")) else { throw .syntax }

        try checkLengths(mailbox)
        guard sourceRoute.allSatisfy({ $0.utf8.count <= SMTPLimits.domainLength }) else {
            throw .domainTooLong
        }
        guard cursor.index - start <= SMTPLimits.pathLength else { throw .pathTooLong }
        return Path(target: .mailbox(mailbox), sourceRoute: sourceRoute)
    }

    /// Reads a Mailbox, without checking its lengths.
    static func parseMailbox(_ cursor: inout ByteCursor) throws(Failure) -> Mailbox {
        let localPart = try parseLocalPart(&cursor)
        guard cursor.consume(UInt8(ascii: "@")),
            let domain = DomainParser.parseDomainOrAddressLiteral(&cursor)
        else { throw .syntax }
        return Mailbox(localPart: localPart, domain: domain)
    }

    /// RFC 5321 4.5.3.1.1 and 4.5.3.1.2.
    static func checkLengths(_ mailbox: Mailbox) throws(Failure) {
        guard mailbox.localPart.utf8.count <= SMTPLimits.localPartLength else {
            throw .localPartTooLong
        }
        guard mailbox.domain.utf8.count <= SMTPLimits.domainLength else { throw .domainTooLong }
    }

    /// `[ A-d-l ":" ]`: the domains, empty when there is no source route.
    private static func parseSourceRoute(_ cursor: inout ByteCursor) throws(Failure) -> [String] {
        guard cursor.peek == UInt8(ascii: "@") else { return [] }
        var domains: [String] = []
        repeat {
            guard cursor.consume(UInt8(ascii: "@")), let domain = DomainParser.parseDomain(&cursor)
            else { throw .syntax }
            domains.append(domain)
        } while cursor.consume(UInt8(ascii: ","))
        guard cursor.consume(UInt8(ascii: ":")) else { throw .syntax }
        return domains
    }

    private static func parseLocalPart(_ cursor: inout ByteCursor) throws(Failure) -> String {
        let start = cursor.index
        if cursor.consume(UInt8(ascii: "\"")) {
            try parseQuotedStringRest(&cursor)
        } else {
            repeat {
                let atom = cursor.consume { ASCII.isAtext($0) || ASCII.isNonASCII($0) }
                guard !atom.isEmpty else { throw .syntax }
            } while cursor.consume(UInt8(ascii: "."))
        }
        guard let localPart = ASCII.string(cursor.bytes[start..<cursor.index]) else {
            throw .syntax
        }
        return localPart
    }

    /// After the opening DQUOTE: `*QcontentSMTP DQUOTE`.
    private static func parseQuotedStringRest(_ cursor: inout ByteCursor) throws(Failure) {
        while let byte = cursor.peek {
            cursor.index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return
            case UInt8(ascii: "\\"):
                guard let escaped = cursor.peek, (32...126).contains(escaped) else {
                    throw .syntax
                }
                cursor.index += 1
            case 32...126, 0x80...0xFF:
                continue
            default:
                throw .syntax
            }
        }
        throw .syntax
    }
}
