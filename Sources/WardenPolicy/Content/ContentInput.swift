/// A message as content rules see it: the subjects of each rule type, made once per message
/// from a ``MIMEMessage`` and the envelope, as SpamAssassin 4.0 presents them to its rules.
public struct ContentInput: Sendable {
    public let message: MIMEMessage
    /// The MAIL FROM address (without angle brackets), for `EnvelopeFrom`.
    public let envelopeFrom: String?
    /// `body`: the rendered text in lines of at most 2,048 bytes, the Subject first.
    let bodyLines: [[UInt8]]
    /// `rawbody`: each text part in paragraphs of 2-4 KB (`split_into_array_of_short_paragraphs`).
    let rawBodyParagraphs: [[UInt8]]
    let full: [UInt8]
    let uris: [[UInt8]]
    /// The names of `message.headers` in lower case, made once: header rules look fields up by
    /// name, hundreds of times per message.
    let fieldNames: [String]

    /// `envelopeFrom` nil takes the address of the Return-Path field, as a message read from a
    /// file has no envelope.
    public init(message: MIMEMessage, envelopeFrom: String?) {
        self.init(message: message, envelopeFrom: envelopeFrom, rawBody: true, full: true)
    }

    /// The inputs `rules` read: the `rawbody`, `full` and `uri` subjects are made only when a
    /// rule of that type is loaded (most rule sets have body and header rules only).
    init(bytes: [UInt8], envelopeFrom: String?, maxBytes: Int, for rules: ContentRules) {
        self.init(
            message: MIMEMessage(bytes: bytes, maxBytes: maxBytes, findingLinks: rules.reads(.uri)),
            envelopeFrom: envelopeFrom, rawBody: rules.reads(.rawBody), full: rules.reads(.full))
    }

    private init(message: MIMEMessage, envelopeFrom: String?, rawBody: Bool, full: Bool) {
        self.message = message
        if let envelopeFrom {
            self.envelopeFrom = envelopeFrom
        } else if let returnPath = message.header("Return-Path").last {
            let address = returnPath.drop { $0 == " " || $0 == "<" }.prefix { $0 != ">" && $0 != " " }
            self.envelopeFrom = address.isEmpty ? nil : String(address)
        } else {
            self.envelopeFrom = nil
        }
        let maximum = MIMELimits().maximumBodyLineLength
        bodyLines = message.bodyLines
        rawBodyParagraphs = rawBody ? message.rawBodyParts.flatMap { Self.paragraphs($0, maximum: maximum) } : []
        self.full = full ? Array(message.fullBytes) : []
        uris = message.uris.map { Array($0.utf8) }
        fieldNames = message.headers.map { $0.name.lowercased() }
    }

    public init(bytes: [UInt8], envelopeFrom: String?, maxBytes: Int = MIMELimits.defaultMaximumBytes) {
        self.init(message: MIMEMessage(bytes: bytes, maxBytes: maxBytes), envelopeFrom: envelopeFrom)
    }

    /// SpamAssassin's `split_into_array_of_short_paragraphs`: pieces of `maximum` to twice
    /// `maximum` bytes, cut after a line feed, else after `>`, else after a space, else anywhere.
    static func paragraphs(_ text: [UInt8], maximum: Int) -> [[UInt8]] {
        guard text.count > maximum else { return [text] }
        var result: [[UInt8]] = []
        var offset = 0
        while text.count - offset > 2 * maximum {
            var end = offset + maximum
            for mark in [UInt8(0x0A), UInt8(ascii: ">"), 0x20] {
                if let found = text[(offset + maximum)...].firstIndex(of: mark), found - offset + 1 <= 2 * maximum {
                    end = found
                    break
                }
            }
            result.append(Array(text[offset...end]))
            offset = end + 1
        }
        if offset < text.count { result.append(Array(text[offset...])) }
        return result
    }

    // MARK: Header values

    /// The value a header rule tests (`PerMsgStatus::get` joined as `do_head_tests` joins it),
    /// or nil when there is none (SpamAssassin's undef).
    func headerValue(_ query: HeaderQuery) -> [UInt8]? {
        var values = headerValues(query)
        guard !values.isEmpty else { return nil }
        if query.source == .all { return values.joined().map { $0 } }
        if query.first { values = [values[0]] } else if query.last { values = [values[values.count - 1]] }
        switch query.part {
        case .value:
            break
        case .addresses:
            values = values.flatMap { HeaderAddresses.addresses(String(decoding: $0, as: UTF8.self)).map { Array($0.utf8) } }
        case .names:
            let decode: ((String) -> String)? = query.raw ? nil : { MIMEHeaderText.decoded(Array($0.utf8), name: "x-name") }
            values = values.flatMap { HeaderAddresses.names(String(decoding: $0, as: UTF8.self), decodeWords: decode).map { Array($0.utf8) } }
        }
        guard let first = values.first else { return nil }
        // `join($harr[0] =~ /\n\z/ ? "" : "\n", @harr)`
        return Array(values.joined(separator: first.last == 0x0A ? [] : [0x0A]))
    }

    private func headerValues(_ query: HeaderQuery) -> [[UInt8]] {
        let headers = message.headers
        switch query.source {
        case .all:
            if query.raw {
                return headers.indices.map { Array(headers[$0].name.utf8) + [UInt8(ascii: ":")] + message.rawHeaderValues[$0] }
            }
            return headers.map { Array("\($0.name): \($0.decoded)\n".utf8) }
        case .envelopeFrom:
            return envelopeFrom.map { [Array($0.utf8)] } ?? []
        case .toCc:
            return unfolded("to", raw: query.raw) + unfolded("cc", raw: query.raw)
        case .messageID:
            return ["x-message-id", "resent-message-id", "x-original-message-id", "message-id"]
                .flatMap { unfolded($0, raw: query.raw) }.filter { !$0.isEmpty }
        case .field(let name):
            // :addr and :name parse the value as sent.
            if query.raw || query.part != .value {
                return fieldNames.indices.filter { fieldNames[$0] == name }.map { message.rawHeaderValues[$0] }
            }
            return unfolded(name, raw: false)
        }
    }

    /// `Node::get_header`: decoded values, or with `raw` the values as sent with each line break
    /// and the whitespace after it made one space; each ends in a line feed.
    private func unfolded(_ name: String, raw: Bool) -> [[UInt8]] {
        fieldNames.indices.filter { fieldNames[$0] == name }.map { index in
            guard raw else { return Array(message.headers[index].decoded.utf8) + [0x0A] }
            let value = message.rawHeaderValues[index]
            var result: [UInt8] = []
            var position = 0
            while position < value.count {
                if value[position] == 0x0A, position + 1 < value.count {
                    result.append(0x20)
                    position += 1
                    while position < value.count, [0x20, 0x09, 0x0A, 0x0D].contains(value[position]) { position += 1 }
                    continue
                }
                result.append(value[position])
                position += 1
            }
            return result
        }
    }
}
