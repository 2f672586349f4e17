import Logging
import NIOConcurrencyHelpers
import WardenPolicy

extension SMTPSession {
    /// Messages up to this size are scanned on the event loop; larger ones in a task, so a long
    /// scan never holds up the other sessions of the loop.
    static let inlineScanBytes = 64 * 1024

    /// The content rules over the complete message (DESIGN.md section 1 step 10). A refusal is
    /// written (with its reference and log line) before `then(false)`; a message that passes
    /// gets the tag header fields to add when it is sent.
    func checkContent(then: @escaping (Bool) -> Void) {
        headerEdit = nil
        guard let content = settings.policy.content, spool != nil else { return then(true) }
        let bytes = messageHead(limit: content.scanBytes)
        let facts = self.facts
        let sender = machine.mail?.reversePath.map { "\($0)" } ?? ""
        let box = ContentResultBox()
        let scan: @Sendable () -> Decision = {
            let result = content.scan(bytes, envelopeFrom: sender, sessionHits: facts.ruleHits)
            box.set(result)
            return content.decide(result, facts: facts)
        }
        let answer: PolicyAnswer = bytes.count <= Self.inlineScanBytes ? .now(scan()) : .later { scan() }
        whenDecided(answer, onLoop: false) { [self] decision in
            let result = box.get()
            for rule in result.ruleErrors {
                runtime.metrics.contentRuleError(rule)
                logger.warning("content rule stopped by the match limits", metadata: ["rule": "\(rule)"])
            }
            for problem in Set(result.problems) { runtime.metrics.mimeProblem(problem) }
            limitDecided(decision, stage: .dataEnd) { [self] allowed in
                if allowed {
                    let tagging = content.ruleSet.tagging
                    let fields = content.tagFields(result, facts: facts).map { HeaderEdit.Field(name: $0.name, value: $0.value) }
                    headerEdit = tagging.enabled ? HeaderEdit(added: fields, removedNames: Set(tagging.names)) : nil
                    contentSummary = (score: facts.score + decision.score, rules: decision.hits.filter { !$0.shadow && $0.score != 0 }.map(\.rule))
                }
                then(allowed)
            }
        }
    }
}

/// Carries a content scan's result from where it ran to the event loop.
final class ContentResultBox: @unchecked Sendable {
    // Written before the decision is delivered, read on the event loop after.
    private var result = ContentResult()
    private let lock = NIOLock()

    func set(_ value: ContentResult) { lock.withLock { result = value } }
    func get() -> ContentResult { lock.withLock { result } }
}
