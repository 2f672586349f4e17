/// Which answers of a DNS list count as a listing for one rule: postscreen's `zone=filter`
/// made readable. Four dot-separated octet patterns, each a number `2`, a range `2-3`, a list
/// `2,4,9` (of numbers or ranges) or `*`; or `mask:N`, a bit mask tested against the last octet
/// (bit-coded lists such as SURBL).
///
///     dnsbl ZEN_SBL zen.spamhaus.org 127.0.0.2-3
///     dnsbl DNSWL   list.dnswl.org   127.0.*.2-3
public struct DNSListFilter: Sendable, Hashable, CustomStringConvertible {
    enum Octet: Sendable, Hashable {
        case any
        case ranges([ClosedRange<Int>])

        func matches(_ value: UInt8) -> Bool {
            switch self {
            case .any: return true
            case .ranges(let ranges): return ranges.contains { $0.contains(Int(value)) }
            }
        }
    }

    enum Form: Sendable, Hashable {
        case octets([Octet])
        case mask(UInt8)
        case anyListing
    }

    let form: Form
    public let description: String

    /// Any answer in 127.0.0.0/8 outside the error range.
    public static let anyListing = DNSListFilter(form: .anyListing, description: "127.*.*.*")

    init(form: Form, description: String) {
        self.form = form
        self.description = description
    }

    /// Parses a filter; the error says what is wrong with it.
    public init(parsing text: String) throws(FilterError) {
        if text.lowercased().hasPrefix("mask:") {
            let value = text.dropFirst(5)
            let parsed = value.lowercased().hasPrefix("0x") ? UInt8(value.dropFirst(2), radix: 16) : UInt8(value)
            guard let parsed, parsed > 0 else { throw FilterError(message: "mask:\(value) must be a number from 1 to 255") }
            self.init(form: .mask(parsed), description: text)
            return
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { throw FilterError(message: "\(text) must have four octets, like 127.0.0.2-3") }
        var octets: [Octet] = []
        for part in parts {
            if part == "*" || part.lowercased() == "x" {
                octets.append(.any)
                continue
            }
            var ranges: [ClosedRange<Int>] = []
            for item in part.split(separator: ",", omittingEmptySubsequences: false) {
                let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
                let numbers = bounds.compactMap { $0.allSatisfy(\.isNumber) ? Int($0) : nil }
                guard numbers.count == bounds.count, (1...2).contains(numbers.count), numbers.allSatisfy({ (0...255).contains($0) }),
                    numbers.first! <= numbers.last!
                else { throw FilterError(message: "\(part) in \(text) is not a number, a range a-b, a list or *") }
                ranges.append(numbers.first!...numbers.last!)
            }
            octets.append(.ranges(ranges))
        }
        self.init(form: .octets(octets), description: text)
    }

    public func matches(_ answer: [UInt8]) -> Bool {
        guard answer.count == 4, answer[0] == 127, !DNSListFilter.isListError(answer) else { return false }
        switch form {
        case .anyListing:
            return true
        case .mask(let mask):
            return answer[3] & mask != 0
        case .octets(let octets):
            return zip(octets, answer).allSatisfy { $0.matches($1) }
        }
    }

    /// 127.255.255.0/24 is where lists answer errors (Spamhaus: .252 typo in the query, .254
    /// query through a public resolver, .255 excessive queries); never a listing.
    public static func isListError(_ answer: [UInt8]) -> Bool {
        answer.count == 4 && answer[0] == 127 && answer[1] == 255 && answer[2] == 255
    }

    public struct FilterError: Error, Hashable, Sendable {
        public var message: String
    }
}
