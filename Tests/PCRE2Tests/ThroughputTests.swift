import Foundation
import PCRE2
import Testing

/// Not a timed test: prints how fast 50 typical spam rules run over mail-like text, each rule
/// once per message as the content-rule stage does. Size with `PCRE2_THROUGHPUT_MB` (default 10);
/// run in release for meaningful figures:
/// `swift test -c release -Xswiftc -enable-testing --filter PCRE2Tests.ThroughputTests`.
@Suite struct ThroughputTests {
    static let rules = [
        #"/\bviagra\b/i"#, #"/\bcialis\b/i"#, #"/\bv[i1!|]agr[a@]\b/i"#, #"/\bfree\s+(?:money|cash|gift)\b/i"#,
        #"/\bclick\s+here\b/i"#, #"/\bunsubscribe\b/i"#, #"/\bact\s+now\b/i"#, #"/\blimited\s+time\s+offer\b/i"#,
        #"/\bguaranteed\b/i"#, #"/\b100%\s+free\b/i"#,
        #"/\$\d{1,3}(?:,\d{3})*(?:\.\d{2})?\s+(?:million|billion)/i"#, #"/\bnigeria\b/i"#,
        #"/\bwire\s+transfer\b/i"#, #"/\bbank\s+account\s+(?:number|details)\b/i"#, #"/\bwinner\b/i"#,
        #"/\bcongratulations\b/i"#, #"/\byou\s+have\s+(?:been\s+)?(?:selected|chosen)\b/i"#,
        #"/\bdear\s+(?:friend|customer|beneficiary)\b/i"#, #"/\bmeet\s+(?:hot|sexy|lonely)\s+\w+/i"#,
        #"/\bweight\s+loss\b/i"#, #"/\bno\s+prescription\b/i"#, #"/\bonline\s+pharmacy\b/i"#, #"/\brolex\b/i"#,
        #"/\breplica\s+watch(?:es)?\b/i"#, #"/\bcasino\b/i"#, #"/\bmortgage\s+rates?\b/i"#,
        #"/\bcredit\s+(?:card|score)\b/i"#, #"/\bdebt\s+(?:relief|consolidation)\b/i"#,
        #"/\bincrease\s+your\s+\w+/i"#, #"/\bwork\s+from\s+home\b/i"#, #"/\bmake\s+money\s+fast\b/i"#,
        #"/\brisk[\s-]free\b/i"#, #"/\bspecial\s+promotion\b/i"#, #"/\bdiscount\b.{0,20}\b\d{2}%/i"#,
        #"/https?:\/\/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/"#, #"/https?:\/\/[^\s\/]*\.(?:ru|cn|tk|top|xyz)\b/i"#,
        #"/<a\s+href=["']?https?:\/\/bit\.ly/i"#, #"/\bbitcoin\b.{0,40}\bwallet\b/is"#,
        #"/\bpassword\s+(?:expire|reset|verify)/i"#, #"/\bverify\s+your\s+account\b/i"#,
        #"/\baccount\s+(?:suspended|locked|limited)\b/i"#, #"/\bdear\s+valued\s+customer\b/i"#,
        #"/\burgent\s+(?:reply|response|attention)\b/i"#, #"/\bconfidential\s+business\s+proposal\b/i"#,
        #"/[A-Z]{15,}/"#, #"/!{3,}/"#, #"/\b(?:[a-z]\s){5,}/i"#, #"/=\?(?:utf-8|iso-8859-1)\?b\?/i"#,
        #"/\bsex\w*\b/i"#, #"/^\s*(?:buy|order)\s+now\b/im"#,
    ]

    static let words = """
        the of and to in is you that it he was for on are as with his they at be this have from or one had by \
        word but not what all were we when your can said there use an each which she do how their if will up \
        other about out many then them these so some her would make like him into time has look two more write \
        go see number no way could people my than first water been call who oil its now find long down day did \
        get come made may part meeting report attached invoice schedule project review quarter budget thanks \
        regards please let know tomorrow office team update account order shipping delivery password service \
        customer free offer discount money bank transfer friend click here website https://www.example.com/page \
        <p> </p> <a href="https://example.org/x"> </a> <br> &nbsp; 2024 15% $120.00 price total
        """.split(separator: " ").map { [UInt8]($0.utf8) }

    static let spamPhrases = [
        "Click here to claim your prize", "VIAGRA and cialis without prescription", "Dear friend, congratulations!!!",
        "wire transfer of $4,500,000.00 million", "visit http://192.168.13.7/login now", "verify your account today",
        "limited time offer", "work from home and make money fast", "casino bonus at http://win.example.ru/",
    ].map { [UInt8]($0.utf8) }

    /// Deterministic mail-like text: lines of about 70 bytes, paragraphs, rare spam phrases.
    static func mailText(bytes: Int) -> [[UInt8]] {
        var generator = SplitMix64(seed: 2024)
        var messages: [[UInt8]] = []
        var total = 0
        while total < bytes {
            var message: [UInt8] = []
            let size = 2_000 + Int(generator.next() % 30_000)
            var column = 0
            while message.count < size {
                let roll = generator.next() % 1_000
                let word = roll < 2 ? spamPhrases[Int(generator.next() % UInt64(spamPhrases.count))] : words[Int(roll) % words.count]
                message += word
                column += word.count + 1
                if column > 70 {
                    message += generator.next() % 8 == 0 ? [0x0A, 0x0A] : [0x0A]
                    column = 0
                } else {
                    message.append(0x20)
                }
            }
            total += message.count
            messages.append(message)
        }
        return messages
    }

    /// A measurement, not a check: it runs only when asked for (PCRE2_THROUGHPUT_MB set), since
    /// it would hold a test thread for seconds in a debug build.
    @Test(.enabled(if: Environment.value("PCRE2_THROUGHPUT_MB") != nil))
    func throughputOfTypicalSpamRules() throws {
        let megabytes = Int(Environment.value("PCRE2_THROUGHPUT_MB") ?? "") ?? 10
        let regexes = try Self.rules.map { try Regex8(perlLiteral: $0) }
        #expect(regexes.count == 50)
        #expect(regexes.allSatisfy { $0.isJITCompiled })
        let messages = Self.mailText(bytes: megabytes * 1_000_000)
        let bytes = Double(messages.reduce(0) { $0 + $1.count })
        let matcher = RegexMatcher()

        func measure(prefilter: Bool) -> (seconds: Double, hits: Int, errors: Int) {
            var hits = 0
            var errors = 0
            let started = ContinuousClock.now
            for message in messages {
                message.withUnsafeBytes { subject in
                    for regex in regexes where !prefilter || regex.mayMatch(subject) {
                        switch matcher.firstMatch(regex, in: subject) {
                        case .match: hits += 1
                        case .noMatch: break
                        case .limitExceeded, .error: errors += 1
                        }
                    }
                }
            }
            return (Self.seconds(ContinuousClock.now - started), hits, errors)
        }

        // Best of three: the machine is shared.
        let plain = (0..<3).map { _ in measure(prefilter: false) }.min { $0.seconds < $1.seconds }!
        let filtered = (0..<3).map { _ in measure(prefilter: true) }.min { $0.seconds < $1.seconds }!
        #expect(plain.hits == filtered.hits)
        #expect(plain.errors == 0)
        #expect(plain.hits > 0)
        let withLiteral = regexes.filter { $0.requiredLiteral != nil }.count
        for (name, run) in [("regex only", plain), ("with requiredLiteral prefilter", filtered)] {
            let mailRate = bytes / 1e6 / run.seconds
            print(
                "PCRE2 throughput (\(name)): \(Int(bytes / 1e6)) MB in \(messages.count) messages x 50 rules:",
                "\(String(format: "%.2f", run.seconds)) s,",
                "\(String(format: "%.1f", mailRate)) MB/s of mail through all 50 rules,",
                "\(String(format: "%.0f", mailRate * 50)) MB/s per rule; \(run.hits) hits")
        }
        print("PCRE2 rules with a required literal: \(withLiteral) of 50")

        // The slowest rules on their own, to show where the time goes.
        var perRule: [(rule: String, seconds: Double)] = []
        for (index, regex) in regexes.enumerated() {
            let started = ContinuousClock.now
            for message in messages { _ = matcher.firstMatch(regex, in: message) }
            perRule.append((Self.rules[index], Self.seconds(ContinuousClock.now - started)))
        }
        for (rule, seconds) in perRule.sorted(by: { $0.seconds > $1.seconds }).prefix(5) {
            print("PCRE2 slow rule \(rule): \(String(format: "%.0f", bytes / 1e6 / seconds)) MB/s")
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}
