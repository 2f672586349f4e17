import NIOCore
import SMTPCore
import Testing

/// Lines made of the pieces that matter to the grammar, in a fixed pseudo-random order: the
/// parser must answer every one, and whatever it accepts must come out in a canonical form that
/// parses back to the same command (the upstream sees exactly what Warden understood).
@Suite("SMTPCommandParser: generated hostile lines")
struct HostileInputTests {
    private static let pieces: [[UInt8]] =
        [
            "<", ">", "@", "\"", "\\", "[", "]", ":", ".", ",", "=", " ", "-", "a", "Z9", "b.c", "x@y", "x@y>",
            "[192.0.2.1]", "IPv6:", "::1", "postmaster", "SIZE=1", " LAST", "PLAIN", "Zm9v", "ö", "10",
        ]
        .map { Array($0.utf8) } + [[0xFF], [0x80], [0xC3]]

    /// A linear congruential generator, so a failure names a line that can be reproduced.
    private struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    @Test(arguments: ["MAIL FROM:<", "RCPT TO:<", "MAIL FROM:<a@b> ", "AUTH ", "BDAT ", "EHLO "])
    func canonicalFormParsesBack(prefix: String) {
        var generator = Generator(state: UInt64(prefix.utf8.count))
        var accepted = 0
        for _ in 0..<5_000 {
            var line = Array(prefix.utf8)
            for _ in 0..<generator.next(8) {
                line += Self.pieces[generator.next(Self.pieces.count)]
            }
            guard case .command(let command) = parse(bytes: line) else { continue }
            accepted += 1
            let canonical = Array(wire(command).utf8)
            #expect(canonical.suffix(2) == Array("\r\n".utf8))
            #expect(!canonical.dropLast(2).contains { $0 < 0x20 || $0 == 0x7F })
            #expect(parse(bytes: Array(canonical.dropLast(2))) == .command(Self.withoutSourceRoute(command)))
        }
        #expect(accepted > 0)
    }

    private static func withoutSourceRoute(_ command: SMTPCommand) -> SMTPCommand {
        switch command {
        case .mail(var mail):
            mail.sourceRoute = []
            return .mail(mail)
        case .rcpt(var rcpt):
            rcpt.sourceRoute = []
            return .rcpt(rcpt)
        default:
            return command
        }
    }
}
