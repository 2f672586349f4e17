extension SMTPCommandParser {
    /// RFC 5321 4.1.1.2: mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
    static func parseMail(_ argument: ArraySlice<UInt8>) throws(SMTPCommandError) -> MailCommand {
        let (path, parameters) = try parseEnvelope(
            argument, keyword: "FROM:", role: .sender, usage: "Syntax: MAIL FROM:<address>")
        switch path.target {
        case .null:
            return MailCommand(reversePath: nil, parameters: parameters)
        case .mailbox(let mailbox):
            return MailCommand(
                reversePath: mailbox, sourceRoute: path.sourceRoute, parameters: parameters)
        case .postmaster:
            preconditionFailure("PathParser returned Postmaster for a sender")
        }
    }

    /// RFC 5321 4.1.1.3:
    ///
    ///     rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
    ///            Forward-path ) [SP Rcpt-parameters] CRLF
    static func parseRcpt(_ argument: ArraySlice<UInt8>) throws(SMTPCommandError) -> RcptCommand {
        let (path, parameters) = try parseEnvelope(
            argument, keyword: "TO:", role: .recipient, usage: "Syntax: RCPT TO:<address>")
        switch path.target {
        case .postmaster:
            return RcptCommand(forwardPath: .postmaster, parameters: parameters)
        case .mailbox(let mailbox):
            return RcptCommand(
                forwardPath: .mailbox(mailbox), sourceRoute: path.sourceRoute,
                parameters: parameters)
        case .null:
            preconditionFailure("PathParser returned the null path for a recipient")
        }
    }

    /// `keyword [SP] path *(1*SP esmtp-param)`; the optional space is Postfix's leniency.
    private static func parseEnvelope(
        _ argument: ArraySlice<UInt8>, keyword: String, role: PathParser.Role, usage: String
    ) throws(SMTPCommandError) -> (PathParser.Path, [ESMTPParameter]) {
        var cursor = ByteCursor(Array(argument))
        guard cursor.consume(ignoringCase: keyword) else { throw .syntax(usage) }
        _ = cursor.consume(ASCII.space)

        let path: PathParser.Path
        do throws(PathParser.Failure) {
            path = try PathParser.parsePath(&cursor, role: role)
        } catch {
            throw .badAddress(role, error)
        }
        guard cursor.isAtEnd || cursor.peek == ASCII.space else {
            throw .badAddress(role, .syntax)
        }

        do throws(ESMTPParameterParser.Failure) {
            return (path, try ESMTPParameterParser.parse(cursor.remaining))
        } catch {
            switch error {
            case .syntax: throw .syntax()
            case .duplicate: throw .syntax("Duplicate parameter")
            }
        }
    }
}
