import PCRE2

/// Parses the argument of a SpamAssassin content rule (`header`, `body`, `rawbody`, `full`,
/// `uri`, `meta`) the way SpamAssassin 4.0's `Conf::Parser::add_test` does.
///
///     header   NAME Field[:modifier[:modifier]] =~ /re/flags [if-unset: TEXT]
///     header   NAME Field !~ /re/flags
///     header   NAME exists:Field
///     body     NAME /re/flags          (also rawbody, full, uri)
///     meta     NAME EXPRESSION
///     header   NAME eval:function(...) (any type: not supported, the rule is skipped)
enum ContentRuleParser {
    enum Failure: Error {
        /// Recognised but not supported by Warden: reported and skipped.
        case unsupported(String)
        /// Broken: the rule cannot be loaded as written.
        case invalid(String)
    }

    static let supportedTypes: Set<String> = ["header", "body", "rawbody", "full", "uri", "meta"]
    /// SpamAssassin rule types Warden does not run at all.
    static let unsupportedTypes: Set<String> = ["mimeheader", "uri_detail", "askdns"]

    static func parse(_ keyword: String, _ argument: String) throws(Failure) -> ContentTest {
        let text = trimmed(argument)
        guard !text.isEmpty else { throw .invalid("\(keyword) needs a test after the rule name") }
        if let function = evalFunction(text) {
            throw .unsupported("eval: test \(function) is not supported")
        }
        switch keyword {
        case "header":
            return try header(text)
        case "body":
            return .body(try regex(text))
        case "rawbody":
            return .rawBody(try regex(text))
        case "full":
            return .full(try regex(text))
        case "uri":
            return .uri(try regex(text))
        case "meta":
            if text.contains("rules_matching(") { throw .unsupported("rules_matching() in meta rules is not supported") }
            do {
                return .meta(try MetaExpression(parsing: text))
            } catch {
                throw .invalid("meta expression: \(error.message) at offset \(error.offset)")
            }
        default:
            preconditionFailure("content rule type \(keyword)")
        }
    }

    /// `eval:name(...)` or `rbleval:name(...)`: the function name.
    static func evalFunction(_ text: String) -> String? {
        for prefix in ["eval:", "rbleval:"] where text.hasPrefix(prefix) {
            return String(text.dropFirst(prefix.count).prefix { $0 != "(" && $0 != " " })
        }
        return nil
    }

    // MARK: header

    private static func header(_ text: String) throws(Failure) -> ContentTest {
        if text.hasPrefix("exists:") {
            var name = String(text.dropFirst("exists:".count))
            guard !name.isEmpty, name.utf8.allSatisfy({ isFieldByte($0) || $0 == UInt8(ascii: ":") }),
                name.dropLast().allSatisfy({ $0 != ":" })
            else { throw .invalid("exists: takes one header field name") }
            if name.hasSuffix(":") { name.removeLast() }
            return .header(HeaderQuery(source: source(name)), .exists, ifUnset: nil)
        }
        // Field name, modifiers, operator, pattern.
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count, isFieldByte(bytes[index]) || bytes[index] == UInt8(ascii: ":") { index += 1 }
        let spec = String(decoding: bytes[..<index], as: UTF8.self)
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        guard !spec.isEmpty, index + 1 < bytes.count, bytes[index] == UInt8(ascii: "=") || bytes[index] == UInt8(ascii: "!"),
            bytes[index + 1] == UInt8(ascii: "~")
        else { throw .invalid("a header test is: Field =~ /pattern/ or Field !~ /pattern/ or exists:Field") }
        let negated = bytes[index] == UInt8(ascii: "!")
        var pattern = trimmed(String(decoding: bytes[(index + 2)...], as: UTF8.self))
        guard !pattern.isEmpty else { throw .invalid("a pattern is missing after the operator") }
        let query = try headerQuery(spec)
        var ifUnset: String?
        if pattern.hasSuffix("]"), let open = lastRange(of: "[if-unset:", in: pattern) {
            let value = trimmed(String(pattern[open.upperBound..<pattern.index(before: pattern.endIndex)]))
            let before = pattern[..<open.lowerBound]
            // SpamAssassin requires whitespace before the bracket and a value inside it.
            if !value.isEmpty, let last = before.last, last == " " || last == "\t" {
                ifUnset = value
                pattern = trimmed(String(before))
            }
        }
        let compiled = try regex(pattern)
        return .header(query, negated ? .notMatches(compiled) : .matches(compiled), ifUnset: ifUnset)
    }

    private static func headerQuery(_ spec: String) throws(Failure) -> HeaderQuery {
        var parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        // "Subject:" is the field itself.
        if parts.count == 2, parts[1].isEmpty { parts.removeLast() }
        guard let name = parts.first, !name.isEmpty, parts.count <= 3 else {
            throw .invalid("\(spec) is not a header field with at most two modifiers")
        }
        var query = HeaderQuery(source: source(name))
        for modifier in parts.dropFirst() {
            switch modifier {
            case "raw": query.raw = true
            case "addr": query.part = .addresses
            case "name": query.part = .names
            case "first": query.first = true
            case "last": query.last = true
            case "host", "domain", "ip", "revip": throw .unsupported("header modifier :\(modifier) is not supported")
            default: throw .invalid("unknown header modifier :\(modifier) (raw, addr, name, first, last)")
            }
        }
        return query
    }

    private static func source(_ name: String) -> HeaderQuery.Source {
        switch name {
        case "ALL": return .all
        case "MESSAGEID": return .messageID
        default: break
        }
        switch name.lowercased() {
        case "tocc": return .toCc
        case "envelopefrom": return .envelopeFrom
        default: return .field(name.lowercased())
        }
    }

    /// RFC 5322 field-name characters as SpamAssassin accepts them in rules: `[\w.-]`.
    private static func isFieldByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }

    // MARK: Regex

    /// Compiles a rule's Perl regex literal over bytes, as SpamAssassin matches them.
    static func regex(_ literal: String) throws(Failure) -> Regex8 {
        if literal.contains("%{") {
            throw .unsupported("capture templates %{...} are not supported")
        }
        if literal.contains("(?{") || literal.contains("(??{") {
            throw .invalid("code blocks (?{...}) are not allowed in a pattern")
        }
        var text = literal
        if text.hasPrefix("qr"), let third = text.dropFirst(2).first, !third.isLetter, !third.isNumber, third != " " {
            text = "m" + text.dropFirst(2)  // qr{...} is m{...} for a rule
        }
        do {
            return try Regex8(perlLiteral: text)
        } catch {
            var message = error.message
            if let offset = error.offset { message += " at offset \(offset)" }
            throw .invalid("regex \(literal): \(message)")
        }
    }

    private static func lastRange(of needle: String, in text: String) -> Range<String.Index>? {
        var index = text.endIndex
        while index > text.startIndex {
            index = text.index(before: index)
            if text[index...].hasPrefix(needle) { return index..<text.index(index, offsetBy: needle.count) }
        }
        return nil
    }

    static func trimmed(_ text: String) -> String {
        var slice = Substring(text)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
