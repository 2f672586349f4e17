import NIOCore

/// Header fields to add at the top of a message and names of fields to drop from its header
/// section; applied to a spooled message with ``MessageSpool/apply(_:)``.
///
/// Warden's own verdict fields (`X-Spam-Score`, `X-Spam-Status`, `X-Spam-Flag`, ...) are added,
/// and fields of the same names that the sender wrote are removed, so that a forged
/// `X-Spam-Flag: NO` never reaches the mailbox: ``replacing(_:)`` builds that edit.
///
/// What counts as the header section (RFC 5322 section 2.1, 2.2):
/// - it starts at the first byte of the message and ends at the first empty line (the empty line
///   and everything after it is the body), or at the end of the message when there is none;
/// - only the first ``scanLimit`` bytes are examined: a field that starts later, or that does not
///   end within them, is left alone (the added fields are at the top, so readers that take the
///   first occurrence still see Warden's);
/// - a line ends at LF (normally CRLF: the spool holds canonical CRLF; a bare LF is treated as a
///   line end too, as lenient readers do);
/// - a field is a line that starts with a name, `[!-9;-~]+`, followed by `:` (optional SP/HTAB
///   before the colon are accepted, the obsolete syntax of RFC 5322 section 4.5.8 that Postfix and
///   SpamAssassin accept too, so `X-Spam-Flag : NO` is removed as well), plus its continuation
///   lines (lines that start with SP or HTAB);
/// - the first line that is neither a field nor a continuation ends the examination: like a mail
///   reader, Warden treats it as the start of the body, whose bytes are never changed;
/// - continuation lines at the very start of the message belong to no field (readers such as
///   Python's `email` skip them and go on reading fields): when fields are added they are removed,
///   as they would otherwise continue the last added field, e.g. turn `X-Spam-Flag: YES` into
///   `X-Spam-Flag: YES NO`.
public struct HeaderEdit: Sendable, Equatable {
    /// One header field to add.
    ///
    /// The value is stored sanitised, exactly as it will be written after `Name: `:
    /// - a line break the caller wrote (CRLF, or a bare CR or LF, which becomes CRLF) is kept as
    ///   folding: when the next line does not start with SP or HTAB, a SP is inserted, so the added
    ///   text can never end the field, start another field, or end the header section;
    /// - lines that would hold only white space are dropped (some readers take such a line for
    ///   the empty line that ends the header section), as is white space at the start and end.
    ///
    /// Lines are not folded for length: a caller adding long values folds them itself (RFC 5322
    /// section 2.1.1: at most 998 bytes a line, 78 recommended).
    public struct Field: Sendable, Equatable {
        public let name: String
        public let value: String

        /// - Precondition: `name` is a valid field name (`[!-9;-~]+`, RFC 5322 section 3.6.8);
        ///   names are Warden's own constants, so a bad one is a programming error.
        public init(name: String, value: String) {
            precondition(HeaderEdit.isFieldName(name), "invalid header field name \(name.debugDescription)")
            self.name = name
            self.value = HeaderEdit.sanitisedValue(value)
        }

        /// `Name: value` CRLF (`Name:` CRLF when the value is empty).
        func write(into buffer: inout ByteBuffer) {
            buffer.writeString(self.name)
            buffer.writeString(self.value.isEmpty ? ":" : ": ")
            buffer.writeString(self.value)
            buffer.writeString("\r\n")
        }
    }

    /// How many bytes at the start of the message are examined for fields to remove: 64 KiB.
    public static let scanLimit = 65_536

    /// The edit that changes nothing.
    public static let none = HeaderEdit()

    /// Fields written at the top of the message, in this order, before the first original byte.
    public var added: [Field]
    /// Names of the fields to remove from the header section, compared case-insensitively
    /// (ASCII). Added fields are never removed, whatever their names.
    public var removedNames: Set<String>

    public init(added: [Field] = [], removedNames: Set<String> = []) {
        self.added = added
        self.removedNames = removedNames
    }

    /// Adds `fields` and removes every field of the message that has one of their names.
    public static func replacing(_ fields: [Field]) -> HeaderEdit {
        HeaderEdit(added: fields, removedNames: Set(fields.map(\.name)))
    }

    /// Whether applying the edit leaves the message as it is.
    public var isEmpty: Bool { self.added.isEmpty && self.removedNames.isEmpty }

    /// The added fields as they are written at the top of the message.
    func prefix(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: self.added.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        for field in self.added {
            field.write(into: &buffer)
        }
        return buffer
    }

    // MARK: - Header section scanning

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let colon = UInt8(ascii: ":")

    private static func isWhiteSpace(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    /// `[!-9;-~]`: printable US-ASCII but the colon.
    private static func isNameByte(_ byte: UInt8) -> Bool { (0x21...0x7E).contains(byte) && byte != colon }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }

    static func isFieldName(_ name: String) -> Bool {
        !name.utf8.isEmpty && name.utf8.allSatisfy(isNameByte)
    }

    /// The byte ranges of `head` taken by the header fields whose names are in `removedNames`,
    /// each with its continuation lines and line ending; sorted, disjoint, adjacent ones merged.
    ///
    /// - Parameters:
    ///   - head: the first bytes of the message, at most ``scanLimit`` of them.
    ///   - isWholeMessage: whether `head` is the whole message, so that its end also ends the
    ///     last line and field; otherwise a field that may go on past `head` is not removed.
    ///   - removingLeadingContinuation: whether continuation lines at the start of `head`, which
    ///     belong to no field, are removed too.
    static func removedRanges(
        in head: [UInt8],
        isWholeMessage: Bool,
        removedNames: Set<String>,
        removingLeadingContinuation: Bool = false
    ) -> [Range<Int>] {
        guard !removedNames.isEmpty || removingLeadingContinuation else { return [] }
        let names = Set(removedNames.map { $0.utf8.map(lowercased) })
        var ranges: [Range<Int>] = []
        var field: (start: Int, remove: Bool)?

        func endField(at end: Int) {
            defer { field = nil }
            guard let field, field.remove else { return }
            if let last = ranges.last, last.upperBound == field.start {
                ranges[ranges.count - 1] = last.lowerBound..<end
            } else {
                ranges.append(field.start..<end)
            }
        }

        var position = 0
        while position < head.count {
            let first = head[position]
            // The start of the next line; nil when this one goes on past `head`.
            let next = head[position...].firstIndex(of: lf).map { $0 + 1 } ?? (isWholeMessage ? head.count : nil)
            if isWhiteSpace(first) {
                // A continuation line: part of the field before it, or, at the start of the
                // message, of none.
                if field == nil {
                    field = (position, removingLeadingContinuation)
                }
                guard let next else {
                    field = nil  // its end is not known: keep it rather than remove a part of it
                    break
                }
                position = next
                continue
            }
            endField(at: position)
            if first == lf || (first == cr && position + 1 < head.count && head[position + 1] == lf) {
                break  // the empty line that ends the header section
            }
            guard let next, let nameEnd = self.fieldNameEnd(in: head, from: position, to: next) else {
                break  // not a field (or not complete): the body starts here
            }
            field = (position, names.contains(head[position..<nameEnd].map(lowercased)))
            position = next
        }
        if field != nil && isWholeMessage {
            endField(at: head.count)
        }
        return ranges
    }

    /// The end of the field name when the line `head[start..<end]` starts a field:
    /// `[!-9;-~]+ *[ \t] ":"`.
    private static func fieldNameEnd(in head: [UInt8], from start: Int, to end: Int) -> Int? {
        var index = start
        while index < end && isNameByte(head[index]) {
            index += 1
        }
        let nameEnd = index
        guard nameEnd > start else { return nil }
        while index < end && isWhiteSpace(head[index]) {
            index += 1
        }
        return index < end && head[index] == colon ? nameEnd : nil
    }

    // MARK: - Added values

    /// See ``Field``: line breaks become CRLF followed by white space, blank lines and outer
    /// white space go.
    static func sanitisedValue(_ value: String) -> String {
        let bytes = Array(value.utf8)
        guard bytes.contains(where: { $0 == cr || $0 == lf || isWhiteSpace($0) }) else { return value }
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == cr || byte == lf {
                lines.append(bytes[start..<index])
                index += byte == cr && index + 1 < bytes.count && bytes[index + 1] == lf ? 2 : 1
                start = index
            } else {
                index += 1
            }
        }
        lines.append(bytes[start..<bytes.count])

        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        for line in lines where line.contains(where: { !isWhiteSpace($0) }) {
            if out.isEmpty {
                out += line.drop(while: isWhiteSpace)
            } else {
                out += [cr, lf]
                if !isWhiteSpace(line.first!) { out.append(space) }
                out += line
            }
        }
        while let last = out.last, isWhiteSpace(last) {
            out.removeLast()
        }
        return String(decoding: out, as: UTF8.self)
    }
}
