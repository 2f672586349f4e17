import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSMTP
import SMTPCore
import WardenPolicy

extension SMTPSession {
    /// Runs the rate limits that guard `stage`; `then` gets whether the session may go on and
    /// the counts taken ahead (to keep when the upstream accepts, to give back otherwise). A
    /// refusal is written (with its reference and log line) before `then(false, [])`.
    func checkLimits(
        _ stage: RateLimiter.Stage, recipient: String? = nil, size: Int = 0,
        then: @escaping (Bool, [RateLimiter.Reservation]) -> Void
    ) {
        guard let limiter = settings.policy.limits, limiter.guards(stage) else { return then(true, []) }
        let facts = self.facts
        let policyStage: PolicyStage = switch stage {
        case .connect: .connect
        case .mail: .mail
        case .rcpt: .rcpt
        case .dataEnd: .dataEnd
        }
        if let outcome = limiter.checkNow(stage, facts: facts, recipient: recipient, size: size) {
            return limitDecided(outcome.decision, stage: policyStage) { allowed in then(allowed, outcome.reservations) }
        }
        let box = ReservationBox()
        whenDecided(.later {
            let outcome = await limiter.check(stage, facts: facts, recipient: recipient, size: size)
            box.set(outcome.reservations)
            return outcome.decision
        }) { [self] decision in
            let reservations = box.get()
            limitDecided(decision, stage: policyStage) { allowed in then(allowed, reservations) }
        }
    }

    /// Gives back the counts taken for a message that will not be delivered.
    func releaseReservations(_ reservations: [RateLimiter.Reservation]? = nil) {
        let given = reservations ?? messageReservations
        if reservations == nil { messageReservations = [] }
        guard !given.isEmpty, let limiter = settings.policy.limits, !limiter.releaseNow(given) else { return }
        Task(executorPreference: taskExecutor) { await limiter.release(given) }
    }

    /// Duplicate-bulk check at the end of data: the body's fingerprint, counted per recipient.
    func checkBulk(then: @escaping (Bool) -> Void) {
        guard let limiter = settings.policy.limits, limiter.hasBulkRules, spool != nil else { return then(true) }
        let head = messageHead()
        let facts = self.facts
        let recipients = self.recipients.map { "\($0.forwardPath)" }
        // The fingerprint costs about 0.05 ms for a 5 KB message: one of a message as big as one
        // the content rules scan in a task is made in a task too.
        if head.count <= Self.inlineScanBytes, limiter.answersAtOnce {
            let decision = BodyFingerprint.make(message: head).map {
                limiter.checkBulkNow(fingerprint: $0, recipients: recipients, facts: facts) ?? .pass
            }
            return limitDecided(decision ?? .pass, stage: .dataEnd, then: then)
        }
        whenDecided(.later {
            guard let fingerprint = BodyFingerprint.make(message: head) else { return .pass }
            return await limiter.checkBulk(fingerprint: fingerprint, recipients: recipients, facts: facts)
        }, onLoop: head.count <= Self.inlineScanBytes) { [self] decision in
            limitDecided(decision, stage: .dataEnd, then: then)
        }
    }

    func limitDecided(_ decision: Decision, stage: PolicyStage, then: (Bool) -> Void) {
        for hit in decision.hits { runtime.metrics.ruleHit(hit.rule, shadow: hit.shadow) }
        if let wouldHave = decision.wouldHave {
            let reference = nextReference()
            runtime.metrics.wouldHaveRefused(verdict: wouldHave.rawValue)
            logger.info("would have refused", metadata: [
                "ref": "\(reference)", "stage": "\(stage.rawValue)", "verdict": "\(wouldHave.rawValue)",
                "rules": "\(decision.hits.map { "\($0.rule): \($0.evidence)" }.joined(separator: "; "))",
            ])
        }
        guard decision.verdict.refuses else { return then(true) }
        if stage == .connect {
            let reference = nextReference()
            logRefusal(decision, stage: stage, reference: reference)
            close(with: decision.refusalReply(reference: reference) ?? SMTPServerReplies.tooManyCommands)
        } else if stage == .dataEnd {
            let reference = nextReference()
            logRefusal(decision, stage: stage, reference: reference)
            endMessage(decision.refusalReply(reference: reference) ?? SMTPServerReplies.ok, refused: true)
        } else {
            refuse(decision, stage: stage)
        }
        then(false)
    }

    /// The first `limit` bytes of the complete message (256 KiB: what the fingerprint reads),
    /// copied out of the spool once for the content scan and the fingerprint both.
    func messageHead(limit: Int = BodyFingerprint.maximumTextBytes) -> [UInt8] {
        if let head = spoolHead, head.limit >= limit || head.bytes.count < head.limit {
            return head.bytes.count > limit ? Array(head.bytes.prefix(limit)) : head.bytes
        }
        guard let spool else { return [] }
        var bytes: [UInt8] = []
        var offset = 0
        while bytes.count < limit, let chunk = try? spool.chunk(at: offset, maxLength: min(65_536, limit - bytes.count)) {
            bytes += chunk.readableBytesView
            offset += chunk.readableBytes
        }
        spoolHead = (limit, bytes)
        return bytes
    }
}

/// Carries the reservations of a check from the task that made them to the event loop.
final class ReservationBox: @unchecked Sendable {
    // Written by the check's task before its decision is delivered, read on the event loop after.
    private var reservations: [RateLimiter.Reservation] = []
    private let lock = NIOLock()

    func set(_ value: [RateLimiter.Reservation]) { lock.withLock { reservations = value } }
    func get() -> [RateLimiter.Reservation] { lock.withLock { reservations } }
}
