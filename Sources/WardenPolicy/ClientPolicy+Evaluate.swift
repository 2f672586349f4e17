import SMTPCore

extension ClientPolicy {
    /// The client decision for this session: rule hits with their evidence, the score, and the
    /// verdict from actions and thresholds. Made once; later calls return the same decision.
    public func decide(_ lookups: ClientLookups, facts: SessionFacts, atGreeting: Bool) async -> Decision {
        if let made = lookups.decided.withLock({ $0 }) { return made }
        return decided(lookups, answers: await lookups.answers(), facts: facts, atGreeting: atGreeting)
    }

    /// The client decision if every lookup has finished, without waiting; nil while one runs.
    public func decideNow(_ lookups: ClientLookups, facts: SessionFacts, atGreeting: Bool) -> Decision? {
        if let made = lookups.decided.withLock({ $0 }) { return made }
        guard let answers = lookups.answersNow() else { return nil }
        return decided(lookups, answers: answers, facts: facts, atGreeting: atGreeting)
    }

    private func decided(_ lookups: ClientLookups, answers: LookupAnswers, facts: SessionFacts, atGreeting: Bool) -> Decision {
        var decision = evaluate(lookups, answers: answers, facts: facts)
        decision.atGreeting = atGreeting
        if atGreeting, decision.verdict == .reject, var reply = decision.reply {
            reply.code = 554  // RFC 5321 3.1: 554 instead of the 220
            decision.reply = reply
        }
        let final = decision
        lookups.decided.withLock { $0 = final }
        return final
    }

    func evaluate(_ lookups: ClientLookups, answers: LookupAnswers, facts: SessionFacts) -> Decision {
        var hits: [(Rule, PolicyHit)] = []
        var failedZones: [String] = []
        var listErrors: [String: String] = [:]
        // Allow and drop lists first: an allowlist hit ends everything, DNS lists included.
        for rule in clientRules {
            guard case .client(.list(let list, let file)) = rule.test, let match = list.lookup(lookups.address) else { continue }
            hits.append((rule, hit(rule, "\(file):\(match.line) \(match.network)")))
        }
        if let allow = hits.first(where: { $0.0.action == .accept && !$0.0.shadow }) {
            return Decision(verdict: .accept, score: 0, hits: hits.map(\.1) + [], wouldHave: nil).explained(by: allow.0)
        }
        for rule in clientRules {
            switch rule.test {
            case .client(.list):
                continue
            case .client(.dnsList(let zone, let filter)):
                guard let answer = answers.zones[zone] else { continue }
                switch answer {
                case .listed(let answers):
                    let matching = answers.filter(filter.matches)
                    if !matching.isEmpty {
                        hits.append((rule, hit(rule, "\(zone) answered \(matching.map(ZoneAnswer.dotted).joined(separator: ","))")))
                    }
                case .failed, .listError:
                    listErrors[zone] = answer.summary
                    if rules.zones[zone]?.onError == .tempfail, !failedZones.contains(zone) { failedZones.append(zone) }
                case .notListed, .disabled:
                    break
                }
            case .client(.country(let codes)):
                if let country = lookups.geo?.country, codes.contains(country) { hits.append((rule, hit(rule, "country \(country)"))) }
            case .client(.continent(let codes)):
                if let continent = lookups.geo?.continent, codes.contains(continent) { hits.append((rule, hit(rule, "continent \(continent)"))) }
            case .client(.asn(let numbers)):
                if let asn = lookups.geo?.asn, numbers.contains(asn) {
                    hits.append((rule, hit(rule, "AS\(asn)" + (lookups.geo?.organization.map { " \($0)" } ?? ""))))
                }
            case .client(.noReverseDNS):
                // Only a definite answer counts: a timeout or a server failure says nothing.
                if let reverse = answers.reverse, reverse.verifiedName == nil, reverse.failure == nil || reverse.failure == .notFound {
                    hits.append((rule, hit(rule, reverse.names.isEmpty ? "no PTR record" : "PTR \(reverse.names.joined(separator: ",")) does not resolve back")))
                }
            case .client(.earlyTalker):
                if facts.earlyTalker { hits.append((rule, hit(rule, "talked before the greeting"))) }
            case .rate, .bulk, .content:
                continue
            case .helo(let condition):
                guard let helo = facts.helo else { continue }
                if let evidence = heloEvidence(condition, helo: helo, lookups: lookups, reverse: answers.reverse) {
                    hits.append((rule, hit(rule, evidence)))
                }
            }
        }
        var decision = verdict(hits, failedZones: failedZones)
        decision.listErrors = listErrors
        return decision
    }

    private func hit(_ rule: Rule, _ evidence: String) -> PolicyHit {
        PolicyHit(rule: rule.name, score: rule.isSubRule ? 0 : rule.score, evidence: evidence, shadow: rule.shadow || rules.shadow)
    }

    /// Actions, then the allow, reject and tempfail thresholds; shadow hits decide only what
    /// would have happened.
    func verdict(_ hits: [(Rule, PolicyHit)], failedZones: [String]) -> Decision {
        func outcome(including shadow: Bool) -> (Verdict, Rule?, Double) {
            let counted = hits.filter { shadow || !$0.0.shadow }
            let score = Self.rounded(counted.reduce(0) { $0 + $1.1.score })
            if let allow = counted.first(where: { $0.0.action == .accept }) { return (.accept, allow.0, score) }
            // A rule's own refusing action decides whatever the score, allow threshold included.
            var verdict: Verdict = .continue
            var decisive: Rule?
            for (rule, _) in counted {
                guard let action = rule.action?.verdict, Self.severity(action) > Self.severity(verdict) else { continue }
                verdict = action
                decisive = rule
            }
            if verdict == .continue, let threshold = rules.allowThreshold, score <= threshold, !counted.isEmpty { return (.accept, nil, score) }
            if let threshold = rules.rejectThreshold, score >= threshold, Self.severity(.reject) > Self.severity(verdict) {
                verdict = .reject
                decisive = nil
            } else if let threshold = rules.tempfailThreshold, score >= threshold, Self.severity(.tempfail) > Self.severity(verdict) {
                verdict = .tempfail
                decisive = nil
            }
            return (verdict, decisive, score)
        }
        let applied = outcome(including: false)
        let full = outcome(including: true)
        var decision = Decision(verdict: applied.0, score: applied.2, hits: hits.map(\.1))
        if rules.shadow {
            decision.wouldHave = full.0.refuses ? full.0 : nil
            decision.verdict = full.0 == .accept ? .accept : .continue
            decision.score = full.2
            return decision
        }
        if full.0.refuses, Self.severity(full.0) > Self.severity(applied.0) { decision.wouldHave = full.0 }
        if decision.verdict == .continue, let zone = failedZones.first {
            decision.verdict = .tempfail
            decision.reply = SMTPReply(451, EnhancedStatusCode(4, 7, 1), "Service unavailable: the DNS list \(zone) could not be used; try again later")
            return decision
        }
        return decision.explained(by: applied.1, hits: hits.filter { !$0.0.shadow }.map(\.0))
    }

    /// Scores are decimals written by people: 0.1 + 4.1 + 0.8 must reach a threshold of 5.
    public static func rounded(_ score: Double) -> Double {
        (score * 1_000_000).rounded() / 1_000_000
    }

    static func severity(_ verdict: Verdict) -> Int {
        switch verdict {
        case .continue: return 0
        case .accept: return -1
        case .tempfail: return 1
        case .reject: return 2
        case .disconnect: return 3
        }
    }

    func heloEvidence(_ condition: HeloCondition, helo: String, lookups: ClientLookups, reverse: ReverseDNS?) -> String? {
        let name = helo.lowercased()
        switch condition {
        case .ipLiteral:
            let inner = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
            return IPAddress(inner) != nil ? "HELO \(helo) is an address" : nil
        case .notFQDN:
            // An address literal is ip-literal's business, not counted twice.
            let inner = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
            if IPAddress(inner) != nil { return nil }
            return HeloName.isFullyQualified(name) ? nil : "HELO \(helo) is not a fully qualified domain name"
        case .claimsUs:
            let inner = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
            if ourNames.contains(name) { return "HELO \(helo) is our own name" }
            if let address = IPAddress(inner), address != lookups.address, HeloName.isLocal(address) { return "HELO \(helo) is our own address" }
            return nil
        case .noFCrDNSMatch:
            guard let reverse, reverse.failure != .timeout else { return nil }
            guard let verified = reverse.verifiedName else { return "HELO \(helo); the client has no forward-confirmed reverse DNS name" }
            return verified == name.trimmingCharacters(in: ["."]) ? nil : "HELO \(helo) is not the client's name \(verified)"
        }
    }
}

extension Decision {
    /// The reply for a refusal, naming the rule that decided (its description) or the score.
    func explained(by rule: Rule?, hits: [Rule] = []) -> Decision {
        var decision = self
        guard verdict.refuses || verdict == .accept else { return decision }
        let reason: String
        if let rule {
            reason = rule.summary.flatMap { $0.isEmpty ? nil : $0 } ?? rule.name
        } else {
            let names = hits.filter { $0.score != 0 && !$0.isSubRule }.map(\.name).joined(separator: ", ")
            reason = "Message refused: score \(Self.format(score)) (\(names))"
        }
        switch verdict {
        case .reject: decision.reply = SMTPReply(550, EnhancedStatusCode(5, 7, 1), reason)
        case .tempfail: decision.reply = SMTPReply(451, EnhancedStatusCode(4, 7, 1), "\(reason); try again later")
        case .disconnect: decision.reply = SMTPReply(421, EnhancedStatusCode(4, 7, 0), reason)
        case .accept, .continue: break
        }
        return decision
    }

    static func format(_ score: Double) -> String {
        score == score.rounded() ? String(Int(score)) : String(score)
    }
}

/// Checks on the name a client gives in HELO/EHLO.
enum HeloName {
    /// At least two labels of letters, digits and hyphens, not all-numeric at the top.
    static func isFullyQualified(_ name: String) -> Bool {
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        let labels = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let top = labels.last, !top.allSatisfy(\.isNumber) else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// Loopback and unspecified addresses: a remote client naming them claims to be us.
    static func isLocal(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let value): return value >> 24 == 127 || value == 0
        case .v6(let high, let low): return high == 0 && (low == 1 || low == 0)
        }
    }
}
