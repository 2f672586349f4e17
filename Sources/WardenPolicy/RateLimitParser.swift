import Foundation

/// Parses the options of `ratelimit` and `bulk` lines: `key=`, `count=`, `limit=N/PERIOD`,
/// `listener=`, `exempt=`, `exempt_user=`.
struct RateLimitParser {
    struct Options {
        var key: [RateKeyPart] = []
        var counted: RateCounted?
        var limit: Int?
        var windowSeconds: Int?
        var scope = RateScope()
    }

    /// `list` loads an exempt address list by file name (relative to Blocklists/).
    static func parse(_ text: String, allowCount: Bool, list: (String) -> (AddressList, String)?) throws(RateParseError) -> Options {
        var options = Options()
        for word in RuleSetLoader.words(text) {
            let pair = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[1].isEmpty else { throw RateParseError("\(word) is not an option=value pair") }
            switch pair[0] {
            case "key":
                options.key = try keyParts(pair[1])
            case "count" where allowCount:
                guard let counted = RateCounted(rawValue: pair[1]) else {
                    throw RateParseError("count must be one of \(RateCounted.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                options.counted = counted
            case "limit":
                (options.limit, options.windowSeconds) = try limit(pair[1])
            case "listener":
                options.scope.listeners = Set(pair[1].split(separator: ",").map(String.init))
            case "exempt":
                guard let loaded = list(pair[1]) else { throw RateParseError("exempt list \(pair[1]) could not be loaded") }
                options.scope.exemptClients = loaded
            case "exempt_user":
                options.scope.exemptUsers = Set(pair[1].split(separator: ",").map { $0.lowercased() })
            default:
                throw RateParseError("unknown option \(pair[0])")
            }
        }
        guard !options.key.isEmpty else { throw RateParseError("key= is missing") }
        guard options.limit != nil else { throw RateParseError("limit=N/PERIOD is missing") }
        if allowCount, options.counted == nil { throw RateParseError("count= is missing (connections, messages, recipients, bytes or distinct_recipients)") }
        if options.counted == .connections, options.key.contains(where: { ![.clientAddress, .helo].contains($0) && !$0.isNetwork }) {
            throw RateParseError("connections are counted when the client connects: key may only use client_ip and client_net")
        }
        return options
    }

    static func keyParts(_ text: String) throws(RateParseError) -> [RateKeyPart] {
        var parts: [RateKeyPart] = []
        for name in text.split(separator: "+").map(String.init) {
            switch name {
            case "client_ip": parts.append(.clientAddress)
            case "helo": parts.append(.helo)
            case "sender": parts.append(.sender)
            case "sender_domain": parts.append(.senderDomain)
            case "user": parts.append(.user)
            case "recipient": parts.append(.recipient)
            case "recipient_domain": parts.append(.recipientDomain)
            default:
                guard name.hasPrefix("client_net") else { throw RateParseError("unknown key \(name)") }
                let lengths = name.split(separator: "/").dropFirst().map { Int($0) }
                let v4 = lengths.first ?? 24
                let v6 = lengths.count > 1 ? lengths[1] : 64
                guard lengths.count <= 2, let v4, let v6, (1...32).contains(v4), (1...128).contains(v6) else {
                    throw RateParseError("client_net takes prefix lengths: client_net/24/64")
                }
                parts.append(.clientNetwork(v4: v4, v6: v6))
            }
        }
        return parts
    }

    /// `100/1h`, `5/30s`, `1000/1d`, `20/10m`.
    static func limit(_ text: String) throws(RateParseError) -> (Int, Int) {
        let parts = text.split(separator: "/").map(String.init)
        guard parts.count == 2, let count = Int(parts[0]), count > 0 else { throw RateParseError("limit must be N/PERIOD, like 100/1h") }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = parts[1].last, let scale = units[unit], let amount = Int(parts[1].dropLast()), amount > 0, amount * scale <= 7 * 86400 else {
            throw RateParseError("the period of \(text) must be a number with s, m, h or d, at most 7d")
        }
        return (count, amount * scale)
    }
}

struct RateParseError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

extension RateKeyPart {
    var isNetwork: Bool {
        if case .clientNetwork = self { return true }
        return false
    }
}
