import NIOCore
import SMTPCore

/// What the parser makes of a line: the command, or the refusal's reply in its log form.
enum ParseOutcome: Hashable, Sendable, CustomStringConvertible {
    case command(SMTPCommand)
    case refused(String)

    var description: String {
        switch self {
        case .command(let command): "command \(command)"
        case .refused(let reply): "refused \(reply)"
        }
    }
}

func parse(_ line: String) -> ParseOutcome {
    parse(bytes: Array(line.utf8))
}

func parse(bytes: [UInt8]) -> ParseOutcome {
    do {
        return .command(try SMTPCommandParser.parse(ByteBuffer(bytes: bytes)))
    } catch {
        return .refused(error.reply.description)
    }
}

/// The exact bytes `write(into:)` produces, as a string.
func wire(_ command: SMTPCommand) -> String {
    var buffer = ByteBuffer()
    command.write(into: &buffer)
    return String(buffer: buffer)
}

func wire(_ reply: SMTPReply) -> String {
    var buffer = ByteBuffer()
    reply.write(into: &buffer)
    return String(buffer: buffer)
}

func mailbox(_ localPart: String, _ domain: String) -> Mailbox {
    Mailbox(localPart: localPart, domain: domain)
}

func mail(_ localPart: String, _ domain: String, _ parameters: [ESMTPParameter] = []) -> SMTPCommand {
    .mail(MailCommand(reversePath: mailbox(localPart, domain), parameters: parameters))
}

func rcpt(_ localPart: String, _ domain: String, _ parameters: [ESMTPParameter] = []) -> SMTPCommand {
    .rcpt(RcptCommand(forwardPath: .mailbox(mailbox(localPart, domain)), parameters: parameters))
}

let badSyntax = "501 5.5.4 Syntax error in parameters"
let badSender = "501 5.1.7 Bad sender address syntax"
let badRecipient = "501 5.1.3 Bad recipient address syntax"
let notRecognized = "500 5.5.2 Command not recognized"
let invalidCharacter = "500 5.5.2 Invalid character in command"

/// The bytes of `text` where each `\xHH` stands for the byte HH, so fixtures can hold bytes
/// that are not UTF-8: `raw(#"a\xFFb"#)` is [0x61, 0xFF, 0x62].
func raw(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    let utf8 = Array(text.utf8)
    var index = 0
    while index < utf8.count {
        let hex = String(decoding: utf8[min(index + 2, utf8.count)..<min(index + 4, utf8.count)], as: UTF8.self)
        if utf8[index] == UInt8(ascii: "\\"), index + 1 < utf8.count, utf8[index + 1] == UInt8(ascii: "x"),
            hex.count == 2, hex.allSatisfy(\.isHexDigit), let byte = UInt8(hex, radix: 16)
        {
            bytes.append(byte)
            index += 4
        } else {
            bytes.append(utf8[index])
            index += 1
        }
    }
    return bytes
}
