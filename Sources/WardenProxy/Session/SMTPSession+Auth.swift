import Foundation
import Logging
import NIOCore
import SMTPCore

/// An AUTH exchange relayed to the upstream (RFC 4954): Warden holds no credentials. It learns
/// the login name from the exchange and keeps it once the upstream says 235. Secrets are never
/// logged.
struct AuthExchange {
    var mechanism: String
    var identity: String?
    var responses = 0

    /// The authentication identity from a client response, where the mechanism carries one.
    mutating func learn(from response: String) {
        responses += 1
        guard identity == nil, response != "*", let data = Data(base64Encoded: response) else { return }
        switch mechanism {
        case "PLAIN":
            // authzid NUL authcid NUL passwd (RFC 4616 2)
            let fields = data.split(separator: 0, omittingEmptySubsequences: false)
            if fields.count == 3 { identity = String(decoding: fields[1], as: UTF8.self) }
        case "LOGIN":
            if responses == 1 { identity = String(decoding: data, as: UTF8.self) }
        default:
            break
        }
    }
}

extension SMTPSession {
    static let supportedMechanisms: Set<String> = ["PLAIN", "LOGIN"]

    func startAuth(mechanism: String, initialResponse: String?) {
        guard Self.supportedMechanisms.contains(mechanism) else {
            machine.authFinished(user: nil)
            relayFailure(SMTPReply(504, EnhancedStatusCode(5, 5, 4), "Unrecognized authentication type"))
            return
        }
        if let (decision, reference) = connectRefusal {
            // A client the connect stage refused never reaches the upstream's credentials.
            machine.authFinished(user: nil)
            refuse(decision, stage: .connect, reference: reference)
            return
        }
        // AUTH binds the upstream session to this client: it is not taken from the kept ones, and
        // once AUTH went out it is never kept for another client session.
        withUpstream(reuse: false) { [self] connection in
            guard connection.protectsCredentials else {
                let reference = nextReference()
                logger.warning("AUTH refused: the link to the upstream is neither TLS nor loopback", metadata: ["ref": "\(reference)"])
                machine.authFinished(user: nil)
                write(SMTPReply(454, EnhancedStatusCode(4, 7, 0), "Temporary authentication failure [ref=\(reference)]"))
                armCommandDeadline()
                return
            }
            var exchange = AuthExchange(mechanism: mechanism)
            if let initialResponse, initialResponse != "=" { exchange.learn(from: initialResponse) }
            auth = exchange
            decoder.maxLineLength = SMTPLimits.authLineLength
            relay(.auth(mechanism: mechanism, initialResponse: initialResponse), on: connection) { [self] reply in
                authReplied(reply)
            }
        }
    }

    /// A client response line during the exchange: relayed once checked to be base64 or the
    /// cancel line "*" (RFC 4954 4), never parsed as a command.
    func continueAuth(line: ByteBuffer) {
        guard let upstream else { return abortAuth(SMTPReply(501, EnhancedStatusCode(5, 5, 2), "Cannot decode response")) }
        guard let text = AuthExchange.response(line) else {
            return abortAuth(SMTPReply(501, EnhancedStatusCode(5, 5, 2), "Cannot decode response"))
        }
        auth?.learn(from: text)
        wait(for: upstream.sendAuthLine(text), reply: \.self) { [self] reply in
            authReplied(reply)
        }
    }

    /// Cancels the exchange at the upstream ("*") and answers the client with `reply`.
    func abortAuth(_ reply: SMTPReply = SMTPReply(500, EnhancedStatusCode(5, 5, 6), "Authentication Exchange line is too long")) {
        guard let upstream, upstream.isUsable else {
            endAuth(user: nil)
            relayFailure(reply)
            return
        }
        wait(for: upstream.sendAuthLine("*"), reply: \.self) { [self] _ in
            endAuth(user: nil)
            relayFailure(reply)
        }
    }

    private func authReplied(_ reply: SMTPReply) {
        if reply.code == 334 {
            write(reply)
            armCommandDeadline()
            return
        }
        if reply.code == 235 {
            let user = auth?.identity ?? "unknown"
            let mechanism = auth?.mechanism ?? ""
            endAuth(user: user)
            logger.info("authenticated", metadata: ["user": "\(user)", "mechanism": "\(mechanism)"])
            write(reply)
            armCommandDeadline()
        } else {
            logger.info("authentication failed", metadata: ["reply": "\(reply.code)"])
            endAuth(user: nil)
            relayFailure(reply)
        }
    }

    func endAuth(user: String?) {
        if machine.phase == .auth { machine.authFinished(user: user) }
        if let user {
            facts.authenticatedUser = user
            logger[metadataKey: "user"] = "\(user)"
        }
        auth = nil
        decoder.maxLineLength = configuration.limits.lineLength
    }
}

extension AuthExchange {
    /// The response as text when it is "*" or base64 (RFC 4648 alphabet with padding); nil otherwise.
    static func response(_ line: ByteBuffer) -> String? {
        let bytes = line.readableBytesView
        if bytes.elementsEqual("*".utf8) { return "*" }
        let valid = bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
                return true
            default:
                return false
            }
        }
        return valid ? String(buffer: line) : nil
    }
}
