import Logging
import NIOCore
import NIOSMTP
import SMTPCore
import WardenPolicy

extension SMTPSession {
    /// A command the state machine found valid in sequence: policy first, then the upstream.
    func process(_ command: SMTPCommand) {
        if drainRequested, machine.phase != .transaction {
            close(with: Self.shuttingDown)
            return
        }
        switch command {
        case .ehlo(let name), .helo(let name):
            facts.helo = name
            ask(.helo) { [self] decision in
                if decision.verdict.refuses {
                    refuse(decision, stage: .helo)
                    return
                }
                releaseReservations()
                write(machine.heloAccepted(command))
                resetUpstreamTransaction()
                armCommandDeadline()
            }
        case .mail(let mail):
            mailCommand(mail)
        case .rcpt(let rcpt):
            rcptCommand(rcpt)
        case .data:
            startMessage()
        case .rset:
            releaseReservations()
            recipients = []
            facts.sender = nil
            facts.recipients = []
            write(SMTPServerReplies.ok)
            resetUpstreamTransaction()
            armCommandDeadline()
        case .auth(let mechanism, let initialResponse):
            startAuth(mechanism: mechanism, initialResponse: initialResponse)
        default:
            preconditionFailure("\(command.verb) is answered by the state machine")
        }
    }

    private func mailCommand(_ mail: MailCommand) {
        facts.sender = mail
        facts.recipients = []
        recipients = []
        guard connectRefusal == nil, facts.authenticatedUser == nil, let lookups = facts.lookups else { return mailPolicy(mail) }
        // The client rules are decided now, before the upstream is opened: a refused client
        // never costs it a connection. Authenticated clients are not subject to them.
        let made = lookups.isDecided
        whenDecided(settings.policy.clientDecision(facts, atGreeting: false)) { [self] decision in
            if !made { clientDecided(decision) }
            facts.score = decision.score
            facts.ruleHits = Dictionary(decision.hits.filter { !$0.shadow }.map { ($0.rule, 1) }, uniquingKeysWith: { $0 + $1 })
            if decision.verdict.refuses { connectRefusal = (decision, nextReference()) }
            mailPolicy(mail)
        }
    }

    private func mailPolicy(_ mail: MailCommand) {
        ask(.mail) { [self] decision in
            if decision.verdict.refuses {
                facts.sender = nil
                refuse(decision, stage: .mail)
                return
            }
            guard connectRefusal == nil else { return mailUpstream(mail) }
            checkLimits(.mail) { [self] allowed, reservations in
                releaseReservations()
                messageReservations = reservations
                if allowed { mailUpstream(mail) } else { facts.sender = nil }
            }
        }
    }

    private func mailUpstream(_ mail: MailCommand, reuse: Bool = true) {
        if connectRefusal != nil {
            // Refused at RCPT (DESIGN.md section 3): the envelope is logged, the upstream is
            // never opened for this client.
            machine.mailAccepted(mail)
            write(SMTPReply(250, EnhancedStatusCode(2, 1, 0), "Ok"))
            armCommandDeadline()
            return
        }
        withUpstream(reuse: reuse) { [self] connection in
            let forwarded: MailCommand
            switch UpstreamAdaptation.mail(mail, for: connection.capabilities, authenticated: facts.authenticatedUser != nil) {
            case .success(let adapted): forwarded = adapted
            case .failure(let refusal):
                facts.sender = nil
                releaseReservations()
                relayFailure(refusal.reply)
                return
            }
            // A kept session that turns out closed: MAIL again on a fresh one.
            wait(for: connection.send(.mail(forwarded)), reply: \.self, retry: { [self] in mailUpstream(mail, reuse: false) }) {
                [self] reply in
                if reply.isPositiveCompletion {
                    machine.mailAccepted(mail)
                    upstreamInTransaction = true
                    write(reply)
                    armCommandDeadline()
                } else {
                    facts.sender = nil
                    releaseReservations()
                    relayFailure(reply)
                }
            }
        }
    }

    private func rcptCommand(_ rcpt: RcptCommand) {
        if let (decision, reference) = connectRefusal {
            refuse(decision, stage: .connect, reference: reference)
            return
        }
        ask(.rcpt, recipient: rcpt) { [self] decision in
            if decision.verdict.refuses {
                refuse(decision, stage: .rcpt)
                return
            }
            checkLimits(.rcpt, recipient: "\(rcpt.forwardPath)") { [self] allowed, reservations in
                if allowed { rcptUpstream(rcpt, reservations: reservations) }
            }
        }
    }

    private func rcptUpstream(_ rcpt: RcptCommand, reservations: [RateLimiter.Reservation]) {
        guard upstreamInTransaction, let connection = upstream, connection.isUsable else {
            // The upstream went away since MAIL: its transaction is gone with it.
            releaseReservations(reservations)
            upstreamLost(UpstreamError(.closed, "before RCPT"))
            return
        }
        let forwarded = UpstreamAdaptation.rcpt(rcpt, for: connection.capabilities)
        relay(.rcpt(forwarded), on: connection) { [self] reply in
            if reply.isPositiveCompletion {
                machine.rcptAccepted(rcpt)
                recipients.append(rcpt)
                facts.recipients.append(rcpt.forwardPath)
                messageReservations += reservations.filter { $0.until == .messageAccepted }
                write(reply)
                armCommandDeadline()
            } else {
                releaseReservations(reservations)
                relayFailure(reply)
            }
        }
    }

    /// The upstream's refusal, relayed unchanged, and counted against the error limit.
    func relayFailure(_ reply: SMTPReply) {
        write(reply)
        if let closing = machine.commandFailed() { perform(closing) } else { armCommandDeadline() }
    }
}

/// Converts a client's MAIL and RCPT for what the upstream offers: DSN, SIZE and AUTH
/// parameters are dropped where it lacks them; SMTPUTF8 and 8BITMIME it lacks are refused
/// clearly, since converting them is not Warden's job.
enum UpstreamAdaptation {
    struct Refusal: Error {
        var reply: SMTPReply
    }

    /// RFC 4954 5: an `AUTH=` from a client that did not authenticate is passed as `AUTH=<>`.
    static func mail(_ mail: MailCommand, for capabilities: UpstreamCapabilities, authenticated: Bool) -> Result<MailCommand, Refusal> {
        var adapted = mail
        adapted.sourceRoute = []
        var parameters: [ESMTPParameter] = []
        for parameter in mail.parameters {
            switch parameter.keyword {
            case "SMTPUTF8":
                guard capabilities.offers("SMTPUTF8") else {
                    return .failure(Refusal(reply: SMTPReply(553, EnhancedStatusCode(5, 6, 7), "The mail server behind this gateway does not support SMTPUTF8")))
                }
            case "BODY" where parameter.value?.uppercased() == "8BITMIME":
                guard capabilities.offers("8BITMIME") else {
                    return .failure(Refusal(reply: SMTPReply(550, EnhancedStatusCode(5, 6, 3), "The mail server behind this gateway does not accept 8-bit content")))
                }
            case "BODY":
                guard capabilities.offers("8BITMIME") else { continue }
            case "SIZE":
                guard capabilities.offers("SIZE") else { continue }
            case "AUTH":
                guard capabilities.offers("AUTH") else { continue }
                if !authenticated {
                    parameters.append(ESMTPParameter("AUTH", "<>"))
                    continue
                }
            case let keyword where SMTPParameterRules.dsnKeywords.contains(keyword):
                guard capabilities.offers("DSN") else { continue }
            default:
                break
            }
            parameters.append(parameter)
        }
        adapted.parameters = parameters
        return .success(adapted)
    }

    static func rcpt(_ rcpt: RcptCommand, for capabilities: UpstreamCapabilities) -> RcptCommand {
        var adapted = rcpt
        adapted.sourceRoute = []
        if !capabilities.offers("DSN") {
            adapted.parameters = rcpt.parameters.filter { !SMTPParameterRules.dsnKeywords.contains($0.keyword) }
        }
        return adapted
    }
}
