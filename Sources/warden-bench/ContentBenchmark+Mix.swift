import Foundation
import PCRE2
import WardenPolicy

// MARK: The mix

/// The messages of one pass: the `.eml` files of a directory once each, and generated messages
/// in realistic proportions (each copy different), with CRLF line ends as received over SMTP.
struct MessageMix {
    struct Message {
        let className: String
        let bytes: [UInt8]
    }

    var messages: [Message] = []
    var classNames: [String] = []

    static let generated: [(name: String, copies: Int)] = [
        ("plain-text business mail (~5 KB)", 6),
        ("newsletter, text+HTML alternative (~20 KB)", 4),
        ("spam-like HTML with URIs (~3 KB)", 6),
        ("business mail with base64 PDF (~60 KB)", 2),
        ("report, HTML + base64 PNG (~300 KB)", 1),
    ]

    static func build(directory: String, seed: UInt64) -> MessageMix {
        var mix = MessageMix()
        let corpusName = "\(directory)/*.eml"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        for name in names {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            mix.messages.append(Message(className: corpusName, bytes: Array(data)))
        }
        if mix.messages.isEmpty {
            print("warning: no .eml files in \(directory); the mix has only generated messages")
        } else {
            mix.classNames.append(corpusName)
        }
        var maker = MailMaker(random: SplitMix64(seed: seed))
        for (index, (name, copies)) in generated.enumerated() {
            mix.classNames.append(name)
            for copy in 0..<copies {
                let text: String
                switch index {
                case 0: text = maker.businessMail(copy)
                case 1: text = maker.newsletter(copy)
                case 2: text = maker.spam(copy)
                case 3: text = maker.pdfMail(copy)
                default: text = maker.largeReport(copy)
                }
                mix.messages.append(Message(className: name, bytes: Array(text.utf8)))
            }
        }
        return mix
    }

    func describe(scanBytes: Int) {
        let total = messages.reduce(0) { $0 + $1.bytes.count }
        print("")
        print("mix: one pass = \(messages.count) messages, \(total) bytes (mean \(total / max(messages.count, 1)) bytes); each scanned up to \(scanBytes / 1024) KiB (scan_size)")
        for name in classNames {
            let sizes = messages.filter { $0.className == name }.map(\.bytes.count)
            print("  \(String(sizes.count).leftPadded(2)) x \(name): \(sizes.min()!)-\(sizes.max()!) bytes, \(sizes.reduce(0, +)) in all")
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

/// Generates the messages of the mix from a seeded generator: the same text on every run.
struct MailMaker {
    var random: SplitMix64

    /// Everyday business vocabulary, most frequent first (the order sets how often each is used).
    static let words = """
        the of and to a in for is on that by this with you it not or be are from at as your all have we will can \
        about if our one other do no time they also now more new some these their which would there been when what \
        please thanks team project meeting next week report budget plan review customer client contract supplier \
        order invoice payment delivery schedule update draft version document attached file figures quarter month year \
        sales revenue cost costs price margin forecast target results numbers account office market product service \
        services support issue question answer agree discuss decision approval sign signed legal terms details changes \
        share shared drive folder link call phone tomorrow today monday tuesday wednesday thursday friday morning \
        afternoon agenda minutes notes action items owner deadline status progress risk risks open closed done pending \
        team members manager director board staff training hiring onboarding office travel trip hotel flight visit site \
        warehouse stock inventory shipment logistics vendor vendors partner partners proposal offer quote quotes terms \
        renewal annual monthly weekly daily summary overview analysis data system systems software release testing test \
        server migration database backup security access password account accounts process processes policy policies \
        compliance audit auditor finance financial tax taxes payroll expenses expense claim claims receipt receipts \
        department operations marketing campaign event events conference presentation slides webinar customers feedback \
        survey quality standard standards improvement improvements efficiency capacity resources headcount estimate \
        estimates assumption assumptions scope requirement requirements milestone milestones phase delay delays \
        confirm confirmed check checked send sent receive received prepare prepared review reviewed need needs \
        should could might must before after during while until since because however therefore although just only \
        still already again soon later early late first last second third final current previous following several \
        many most each every both either few less more much very good great better best important clear possible \
        available necessary likely simple quick short long small large high low total net gross average regional \
        global local internal external European national north south east west central
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)

    static let firstNames = ["Anna", "Ben", "Chloe", "David", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Karin", "Luis", "Maya", "Nils", "Olga", "Pavel"]
    static let lastNames = ["Berger", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ivanov", "Jensen", "Kowalski", "Larsen", "Moreau"]
    static let companies = ["northwind", "contoso", "fabrikam", "tailspin", "adatum", "litware", "proseware", "wingtip"]
    static let spamPhrases = [
        "Dear Friend, you have been specially selected to receive this exclusive offer.",
        "This is a one-time mailing and you will not receive further offers.",
        "100% FREE - no credit card required, no hidden fees, risk free!",
        "Click here to claim your prize before it expires.",
        "Limited time offer: act now while supplies last!",
        "Earn extra cash from home, make money fast with our proven system.",
        "Lowest prices on V1AGRA and C1ALIS, no prescription needed, discreet shipping.",
        "Congratulations! You are the lucky winner of our monthly draw.",
        "Lose weight fast with our amazing miracle formula, satisfaction guaranteed.",
        "Consolidate your debt and lower your monthly payments today.",
        "Get a free quote now, unbelievable rates for you only.",
        "Meet hot singles in your area tonight, 100% anonymous.",
        "Your account has been suspended, verify your password immediately.",
        "Why pay more? Order now and save up to 80% off retail.",
        "To be removed from our mailing list, reply with REMOVE in the subject line.",
    ]

    mutating func number(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(random.next() % UInt64(range.count))
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }

    mutating func hex(_ count: Int) -> String {
        String((0..<count).map { _ in Array("0123456789abcdef")[Int(random.next() % 16)] })
    }

    mutating func sentence() -> String {
        // Words near the top of the list come far more often, roughly as in English.
        let words = (0..<number(7...20)).map { _ -> String in
            let rank = Int(Double(Self.words.count) * pow(Double(random.next() % 10_000) / 10_000, 3))
            return Self.words[min(rank, Self.words.count - 1)]
        }
        let text = words.joined(separator: " ")
        return text.prefix(1).uppercased() + text.dropFirst() + (random.next() % 8 == 0 ? "?" : ".")
    }

    mutating func paragraph(_ sentences: ClosedRange<Int>) -> String {
        (0..<number(sentences)).map { _ in sentence() }.joined(separator: " ")
    }

    /// Words of `text` in lines of at most `width` characters.
    static func wrapped(_ text: String, width: Int = 72, prefix: String = "") -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(prefix + line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty { lines.append(prefix + line) }
        return lines
    }

    mutating func person() -> (name: String, address: String, domain: String) {
        let first = pick(Self.firstNames)
        let last = pick(Self.lastNames)
        let domain = pick(Self.companies) + ".example"
        return ("\(first) \(last)", "\(first.lowercased()).\(last.lowercased())@\(domain)", domain)
    }

    mutating func date(_ copy: Int) -> String {
        let days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
        return "\(days[copy % 5]), \(number(1...28)) Mar 2024 \(String(format: "%02d:%02d:%02d", number(7...18), number(0...59), number(0...59))) +0100"
    }

    mutating func received(from domain: String, ip: String) -> String {
        "Received: from mail.\(domain) (mail.\(domain) [\(ip)])\r\n\tby mx1.example.com (Postfix) with ESMTPS id \(hex(10).uppercased())\r\n\tfor <inbox@example.com>; \(date(number(0...4)))"
    }

    mutating func dkim(_ domain: String) -> String {
        let signature = (0..<4).map { _ in Data((0..<48).map { _ in UInt8(truncatingIfNeeded: random.next()) }).base64EncodedString() }
        return "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=\(domain); s=s2024;\r\n\th=from:to:subject:date:message-id;\r\n\tbh=\(Data((0..<32).map { _ in UInt8(truncatingIfNeeded: random.next()) }).base64EncodedString());\r\n\tb="
            + signature.joined(separator: "\r\n\t ")
    }

    static func crlf(_ lines: [String]) -> String { lines.joined(separator: "\r\n") + "\r\n" }

    mutating func base64(_ count: Int, header: [UInt8] = []) -> [String] {
        var bytes = header
        while bytes.count < count { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
        let text = Data(bytes).base64EncodedString()
        return stride(from: 0, to: text.count, by: 76).map { start in
            let from = text.index(text.startIndex, offsetBy: start)
            let to = text.index(from, offsetBy: min(76, text.count - start))
            return String(text[from..<to])
        }
    }

    /// Quoted-printable in lines of at most 76 characters.
    static func quotedPrintable(_ text: String) -> [String] {
        var lines: [String] = []
        for sourceLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for byte in sourceLine.utf8 {
                let piece = byte == UInt8(ascii: "=") || byte > 126 || (byte < 32 && byte != 9) ? String(format: "=%02X", byte) : String(UnicodeScalar(byte))
                if line.count + piece.count > 75 {
                    lines.append(line + "=")
                    line = ""
                }
                line += piece
            }
            lines.append(line)
        }
        return lines
    }

    // MARK: Messages

    mutating func businessMail(_ copy: Int) -> String {
        let sender = person()
        let recipient = person()
        let colleague = person()
        let topic = pick(["Q3 budget review", "supplier contract renewal", "project timeline", "invoice 2024-\(number(100...999))", "meeting notes", "onboarding plan"])
        var lines = [
            "Return-Path: <\(sender.address)>",
            received(from: sender.domain, ip: "198.51.100.\(number(2...250))"),
            "Received: from [10.\(number(0...9)).\(number(0...255)).\(number(2...250))] by mail.\(sender.domain) (Postfix) with ESMTPSA id \(hex(8).uppercased()); \(date(copy))",
            dkim(sender.domain),
            "From: \(sender.name) <\(sender.address)>",
            "To: \(recipient.name) <\(recipient.address)>",
            "Cc: \(colleague.name) <\(colleague.address)>",
            "Subject: Re: \(topic)",
            "Date: \(date(copy))",
            "Message-ID: <\(hex(16))@mail.\(sender.domain)>",
            "In-Reply-To: <\(hex(16))@mail.\(recipient.domain)>",
            "References: <\(hex(16))@mail.\(recipient.domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=\"utf-8\"; format=flowed",
            "Content-Transfer-Encoding: 8bit",
            "",
            "Hi \(recipient.name.split(separator: " ")[0]),",
            "",
        ]
        var size = lines.joined().count
        var paragraphs = 0
        while size < 3200 {
            let text = paragraphs == 1 ? "The figures are on the shared drive at https://files.\(sender.domain)/share/\(hex(12)) - " + paragraph(2...3) : paragraph(3...6)
            let wrapped = Self.wrapped(text) + [""]
            size += wrapped.joined().count + 2 * wrapped.count
            lines += wrapped
            paragraphs += 1
        }
        lines += ["Best regards,", sender.name, "Head of Operations, \(sender.domain.split(separator: ".")[0].capitalized) Ltd.", "Phone +44 20 7946 0\(number(100...999))", ""]
        lines += ["On \(date(copy)), \(recipient.name) wrote:"]
        var quoted = 0
        while size + quoted < 5000 {
            let wrapped = Self.wrapped(paragraph(2...4), prefix: "> ") + [">"]
            quoted += wrapped.joined().count + 2 * wrapped.count
            lines += wrapped
        }
        return Self.crlf(lines)
    }

    mutating func newsletter(_ copy: Int) -> String {
        let domain = pick(Self.companies) + "-news.example"
        let boundary = "----=_Part_\(hex(8))_\(number(1000...9999))"
        var text: [String] = ["\(domain.uppercased()) WEEKLY - issue \(100 + copy)", ""]
        var html = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Weekly issue \(100 + copy)</title>
            <style>body{font-family:Arial,sans-serif;color:#333}.article h2{font-size:18px;color:#0a5}td{padding:8px}</style></head>
            <body><table width="600" align="center" cellpadding="0" cellspacing="0" border="0">
            <tr><td><img src="https://cdn.\(domain)/img/logo.png" width="200" height="50" alt="\(domain)"></td></tr>

            """
        var article = 0
        while text.joined().count + html.count < 15_500 {
            let title = sentence().dropLast().split(separator: " ").prefix(6).joined(separator: " ")
            let body = paragraph(3...5)
            let link = "https://click.\(domain)/t/\(hex(24))?u=\(hex(8))&a=\(article)&utm_source=newsletter&utm_medium=email"
            text += [title.uppercased()] + Self.wrapped(body) + ["Read more: \(link)", ""]
            html += """
                <tr><td class="article"><h2>\(title)</h2>
                <p>\(body)</p>
                <p><a href="\(link)" style="color:#0a5;font-weight:bold">Read more &raquo;</a>
                &nbsp;|&nbsp;<a href="https://www.\(domain)/share?id=\(hex(10))">Share</a></p>
                <img src="https://cdn.\(domain)/img/\(hex(12)).jpg" width="560" alt="">
                </td></tr>

                """
            article += 1
        }
        let unsubscribe = "https://www.\(domain)/unsubscribe?e=\(hex(20))"
        text += ["You receive this because you subscribed at www.\(domain).", "Unsubscribe: \(unsubscribe)"]
        html += """
            <tr><td style="font-size:11px;color:#999">You receive this because you subscribed at www.\(domain).
            <a href="\(unsubscribe)">Unsubscribe</a> &middot; <a href="https://www.\(domain)/privacy">Privacy policy</a></td></tr>
            </table></body></html>
            """
        let lines: [String] =
            [
                "Return-Path: <bounce-\(hex(12))@mail.\(domain)>",
                received(from: domain, ip: "203.0.113.\(number(2...250))"),
                dkim(domain),
                "From: \(domain.split(separator: ".")[0].capitalized) Weekly <news@\(domain)>",
                "To: inbox@example.com",
                "Subject: Weekly issue \(100 + copy): \(sentence().split(separator: " ").prefix(5).joined(separator: " "))",
                "Date: \(date(copy))",
                "Message-ID: <\(hex(20))@mail.\(domain)>",
                "List-Unsubscribe: <\(unsubscribe)>, <mailto:unsubscribe@\(domain)>",
                "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                "Precedence: bulk",
                "MIME-Version: 1.0",
                "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
                "",
                "--\(boundary)",
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 7bit",
                "",
            ] + text + [
                "",
                "--\(boundary)",
                "Content-Type: text/html; charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
                "",
            ] + Self.quotedPrintable(html) + ["", "--\(boundary)--"]
        return Self.crlf(lines)
    }

    mutating func spam(_ copy: Int) -> String {
        let domain = "\(hex(4))-\(pick(["promo", "deals", "rx", "win", "offer"])).example"
        let ip = "192.0.2.\(number(2...250))"
        var parts = [
            "<html><body bgcolor=\"#ffffff\">",
            "<center><font face=\"Arial\" size=\"5\" color=\"#ff0000\"><b>\(pick(Self.spamPhrases))</b></font></center>",
        ]
        var size = 0
        var index = 0
        while size < 2000 {
            let phrase = pick(Self.spamPhrases)
            let link = pick([
                "http://\(ip)/\(hex(6))/index.php?id=\(hex(8))", "https://bit.ly/\(hex(7))", "http://www.\(domain)/claim?ref=\(hex(10))",
                "http://\(hex(5)).\(domain):8080/r/\(hex(6))",
            ])
            let piece = index % 3 == 2
                ? "<p><a href=\"\(link)\"><font size=\"4\">CLICK HERE</font></a> &nbsp; <font color=\"#ffffff\">\(sentence())</font></p>"
                : "<p><font face=\"Verdana\">\(phrase) <a href=\"\(link)\">\(phrase.split(separator: " ").prefix(3).joined(separator: " "))</a></font></p>"
            parts.append(piece)
            size += piece.count
            index += 1
        }
        parts += [
            "<img src=\"http://\(ip)/open.gif?u=\(hex(8))\" width=\"1\" height=\"1\">",
            "<p><font size=\"1\">To unsubscribe <a href=\"http://www.\(domain)/remove\">click here</a>.</font></p></body></html>",
        ]
        let lines =
            [
                "Return-Path: <\(hex(8))@\(domain)>",
                "Received: from \(domain) (unknown [\(ip)])\r\n\tby mx1.example.com (Postfix) with ESMTP id \(hex(10).uppercased())\r\n\tfor <inbox@example.com>; \(date(copy))",
                "From: \"Special Offers\" <offers@\(domain)>",
                "To: undisclosed-recipients:;",
                "Subject: =?UTF-8?B?\(Data("You have been selected: 100% FREE gift inside!!! #\(hex(4))".utf8).base64EncodedString())?=",
                "Date: \(date(copy))",
                "Message-ID: <\(hex(12)).\(hex(6))@\(domain)>",
                "X-Mailer: Microsoft Outlook Express 6.00.2600.0000",
                "X-Priority: 1 (Highest)",
                "MIME-Version: 1.0",
                "Content-Type: text/html; charset=\"iso-8859-1\"",
                "Content-Transfer-Encoding: 7bit",
                "",
            ] + parts
        return Self.crlf(lines)
    }

    mutating func pdfMail(_ copy: Int) -> String {
        let sender = person()
        let recipient = person()
        let boundary = "=_mixed_\(hex(12))"
        let pdfHeader = Array("%PDF-1.5\n%\u{E2}\u{E3}\u{CF}\u{D3}\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n4 0 obj\n<< /Length 41000 /Filter /FlateDecode >>\nstream\n".utf8)
        let lines =
            [
                "Return-Path: <\(sender.address)>",
                received(from: sender.domain, ip: "198.51.100.\(number(2...250))"),
                dkim(sender.domain),
                "From: \(sender.name) <\(sender.address)>",
                "To: \(recipient.name) <\(recipient.address)>",
                "Subject: Invoice \(number(10000...99999)) for March",
                "Date: \(date(copy))",
                "Message-ID: <\(hex(16))@mail.\(sender.domain)>",
                "MIME-Version: 1.0",
                "Content-Type: multipart/mixed; boundary=\"\(boundary)\"",
                "",
                "--\(boundary)",
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 7bit",
                "",
                "Dear \(recipient.name),",
                "",
            ] + Self.wrapped(paragraph(4...6)) + ["", "Please find the invoice attached; payment terms are 30 days.", "", "Kind regards,", sender.name, ""]
            + [
                "--\(boundary)",
                "Content-Type: application/pdf; name=\"invoice-\(copy).pdf\"",
                "Content-Disposition: attachment; filename=\"invoice-\(copy).pdf\"",
                "Content-Transfer-Encoding: base64",
                "",
            ] + base64(43_000, header: pdfHeader) + ["", "--\(boundary)--"]
        return Self.crlf(lines)
    }

    mutating func largeReport(_ copy: Int) -> String {
        let sender = person()
        let recipient = person()
        let boundary = "=_report_\(hex(12))"
        var html = "<html><head><title>Monthly report</title></head><body><h1>Monthly operations report</h1>\n"
        var row = 0
        while html.count < 95_000 {
            if row % 40 == 0 {
                html += "<h2>\(sentence().dropLast())</h2>\n<p>\(paragraph(3...6))</p>\n<table border=\"1\" cellpadding=\"4\">\n"
            }
            html += "<tr><td>\(row)</td><td>\(pick(Self.words)) \(pick(Self.words))</td><td align=\"right\">\(number(100...99_999)).\(number(10...99))</td><td>\(pick(["ok", "late", "open", "closed"]))</td></tr>\n"
            if row % 40 == 39 { html += "</table>\n" }
            row += 1
        }
        html += "</table>\n<p>Details: <a href=\"https://reports.\(sender.domain)/2024/03/\(hex(10))\">full report</a></p></body></html>"
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let lines =
            [
                "Return-Path: <\(sender.address)>",
                received(from: sender.domain, ip: "198.51.100.\(number(2...250))"),
                dkim(sender.domain),
                "From: \(sender.name) <\(sender.address)>",
                "To: \(recipient.name) <\(recipient.address)>",
                "Subject: Monthly operations report, March 2024",
                "Date: \(date(copy))",
                "Message-ID: <\(hex(16))@mail.\(sender.domain)>",
                "MIME-Version: 1.0",
                "Content-Type: multipart/mixed; boundary=\"\(boundary)\"",
                "",
                "--\(boundary)",
                "Content-Type: text/html; charset=utf-8",
                "Content-Transfer-Encoding: 7bit",
                "",
            ] + html.split(separator: "\n").map(String.init) + [
                "",
                "--\(boundary)",
                "Content-Type: image/png; name=\"chart.png\"",
                "Content-Disposition: attachment; filename=\"chart.png\"",
                "Content-Transfer-Encoding: base64",
                "",
            ] + base64(148_000, header: png) + ["", "--\(boundary)--"]
        return Self.crlf(lines)
    }
}
