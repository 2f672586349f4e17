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
        withUpstream { [self] connection in
            var exchange = AuthExchange(mechanism: mechanism)
            if let initialResponse, initialResponse != "=" { exchange.learn(from: initialResponse) }
            auth = exchange
            decoder.maxLineLength = SMTPLimits.authLineLength
            wait(for: connection.send(.auth(mechanism: mechanism, initialResponse: initialResponse))) { [self] reply in
                authReplied(reply)
            }
        }
    }

    /// A client response line during the exchange: relayed as is, never parsed as a command.
    func continueAuth(line: ByteBuffer) {
        guard let upstream else { return abortAuth() }
        let text = String(buffer: line)
        auth?.learn(from: text)
        wait(for: upstream.sendAuthLine(text)) { [self] reply in
            authReplied(reply)
        }
    }

    /// An overlong or malformed response line: cancel the exchange at the upstream (RFC 4954 4).
    func abortAuth() {
        guard let upstream else {
            endAuth(user: nil)
            relayFailure(SMTPReply(501, EnhancedStatusCode(5, 5, 2), "Authentication line is invalid"))
            return
        }
        wait(for: upstream.sendAuthLine("*")) { [self] _ in
            endAuth(user: nil)
            relayFailure(SMTPReply(501, EnhancedStatusCode(5, 5, 2), "Authentication line is invalid"))
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
            endAuth(user: user)
            logger.info("authenticated", metadata: ["user": "\(user)", "mechanism": "\(auth?.mechanism ?? "")"])
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
