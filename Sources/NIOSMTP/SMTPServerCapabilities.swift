import SMTPCore

/// The EHLO reply (RFC 5321 4.1.1.1) listing what Warden itself offers. Warden answers EHLO
/// without waiting for the upstream and converts or refuses at MAIL what the upstream lacks.
///
///     S: 250-warden.example
///     S: 250-PIPELINING
///     S: 250-SIZE 26214400
///     S: 250 ENHANCEDSTATUSCODES
public enum SMTPServerCapabilities {
    public static func ehloReply(_ configuration: SMTPServerConfiguration, tlsActive: Bool, authenticated: Bool) -> SMTPReply {
        var lines = [
            configuration.hostname,
            "PIPELINING",  // RFC 2920
            "SIZE \(configuration.maxMessageSize)",  // RFC 1870
            "8BITMIME",  // RFC 6152
            "SMTPUTF8",  // RFC 6531
            "ENHANCEDSTATUSCODES",  // RFC 2034
            "DSN",  // RFC 3461
        ]
        if configuration.startTLSAvailable && !tlsActive && !configuration.implicitTLS {
            lines.append("STARTTLS")  // RFC 3207
        }
        if configuration.authAvailable && !authenticated && (tlsActive || configuration.authBeforeTLS) {
            lines.append("AUTH PLAIN LOGIN")  // RFC 4954
        }
        return SMTPReply(code: 250, enhanced: nil, lines: lines)
    }
}

/// Which MAIL and RCPT parameters Warden accepts (the extensions it advertises), checked before
/// anything reaches the policy or the upstream.
public enum SMTPParameterRules {
    static let unsupported = EnhancedStatusCode(5, 5, 4)

    /// RFC 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8, RFC 3461 RET/ENVID, RFC 4954 AUTH.
    public static func check(mail: MailCommand, maxSize: Int) -> SMTPReply? {
        for parameter in mail.parameters {
            switch (parameter.keyword, parameter.value) {
            case ("SIZE", let value?):
                // size-value = 1*20DIGIT (RFC 1870 3); an absurd size is simply too large.
                guard !value.isEmpty, value.utf8.count <= 20, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    return bad(parameter)
                }
                let size = Int(value) ?? Int.max
                if size > maxSize { return SMTPServerReplies.sizeExceeded }
            case ("BODY", let value?):
                guard ["7BIT", "8BITMIME"].contains(value.uppercased()) else { return bad(parameter) }
            case ("SMTPUTF8", nil):
                break
            case ("RET", let value?):
                guard ["FULL", "HDRS"].contains(value.uppercased()) else { return bad(parameter) }
            case ("ENVID", _?), ("AUTH", _?):
                break
            default:
                return bad(parameter)
            }
        }
        let smtputf8 = mail.parameters.contains { $0.keyword == "SMTPUTF8" }
        if let sender = mail.reversePath, !smtputf8, !sender.isASCII {
            return SMTPServerReplies.needsSMTPUTF8
        }
        return nil
    }

    /// RFC 3461 NOTIFY and ORCPT.
    public static func check(rcpt: RcptCommand, smtputf8: Bool) -> SMTPReply? {
        for parameter in rcpt.parameters {
            switch (parameter.keyword, parameter.value) {
            case ("NOTIFY", let value?):
                let items = value.uppercased().split(separator: ",").map(String.init)
                let valid = items == ["NEVER"] || (!items.isEmpty && items.allSatisfy { ["SUCCESS", "FAILURE", "DELAY"].contains($0) })
                guard valid else { return bad(parameter) }
            case ("ORCPT", let value?):
                guard value.contains(";") else { return bad(parameter) }
            default:
                return bad(parameter)
            }
        }
        if case .mailbox(let mailbox) = rcpt.forwardPath, !smtputf8, !mailbox.isASCII {
            return SMTPServerReplies.needsSMTPUTF8
        }
        return nil
    }

    /// The DSN parameters (RFC 3461), which are dropped when the upstream does not offer DSN.
    public static let dsnKeywords: Set<String> = ["RET", "ENVID", "NOTIFY", "ORCPT"]

    static func bad(_ parameter: ESMTPParameter) -> SMTPReply {
        SMTPReply(555, unsupported, "Unsupported or malformed parameter \(parameter.keyword)")
    }
}
