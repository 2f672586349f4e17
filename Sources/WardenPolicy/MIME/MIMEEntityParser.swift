/// Walks the MIME tree of a message ([RFC 2045](https://www.rfc-editor.org/rfc/rfc2045),
/// [RFC 2046 §5](https://www.rfc-editor.org/rfc/rfc2046#section-5)) the way SpamAssassin's
/// `Message.pm` does, collecting its leaves in order. Nothing is rejected:
///
/// - The header section ends at an empty line, at a line starting `--`, or at the fourth line
///   that is not a field; a line starting with whitespace continues the field before it.
/// - A multipart is split at lines that are exactly `--boundary` or `--boundary--` (trailing
///   whitespace allowed); the preamble before the first delimiter and the epilogue after the close
///   delimiter are dropped. Without any delimiter the whole body is one part; without a close
///   delimiter the last part runs to the end.
/// - A multipart without a `boundary` parameter is read as `text/plain`; a part that is a
///   multipart without one inherits its parent's.
/// - A `message/rfc822` (or `message/global`) part is decoded and read as a message of its own.
/// - Nesting stops at `MIMELimits.maximumDepth`, counting multiparts and enclosed messages.
struct MIMEEntityParser {
    let limits: MIMELimits
    private(set) var leaves: [MIMELeaf] = []
    private(set) var problems: [MIMEProblem] = []
    private var partCount = 0

    init(limits: MIMELimits) {
        self.limits = limits
    }

    private mutating func note(_ problem: MIMEProblem) {
        if problems.count < limits.maximumProblems { problems.append(problem) }
    }

    // MARK: Messages

    /// Reads a message (the top level or an enclosed one): its header fields are returned, its
    /// leaves appended to `leaves`.
    mutating func readMessage(_ input: [UInt8], depth: Int) -> [MIMEHeaderField] {
        let buffer = input.isEmpty ? [0x0A] : input
        var lines = MIMELine.split(buffer)
        if let first = lines.first, Self.isMboxSeparator(first, buffer) { lines.removeFirst() }
        if let first = lines.first, let last = lines.last,
            Self.endsInCRLF(first, buffer) || Self.endsInCRLF(last, buffer)
        {
            for index in lines.indices where Self.endsInCRLF(lines[index], buffer) {
                lines[index].range = lines[index].range.dropLast()
            }
        }
        let (fields, bodyStart) = readHeaderSection(lines, buffer)
        var body = compactBlankLines(Array(lines[bodyStart...]), buffer)
        let contentType = MIMEContentType(fields.lastDecoded("content-type"))
        // SpamAssassin bug 6845: MIME headers at the very top of a multipart body are not part
        // of the message header; a blank line keeps them out of the first part's header too.
        if contentType.type.hasPrefix("multipart/"), body.count > 1,
            buffer[body[0].range].contains(where: { !MIMEContentType.isSpace($0) }),
            !(contentType.boundary.map { Self.hasPrefix(buffer[body[0].range], "--" + $0) } ?? false)
        {
            body.insert(MIMELine(range: 0..<0, hasNewline: true), at: 0)
        }
        readEntity(
            fields: fields, type: contentType.type, boundary: contentType.boundary, lines: body, buffer: buffer,
            depth: depth)
        return fields
    }

    /// The header section of a message, and the index of its first body line.
    private mutating func readHeaderSection(_ lines: [MIMELine], _ buffer: [UInt8]) -> ([MIMEHeaderField], Int) {
        var fields: [MIMEHeaderField] = []
        var field: [MIMELine]?
        var badLines = 0
        var index = 0
        while true {
            let current = index < lines.count ? lines[index] : nil
            if let current, Self.startsWithBlank(current, buffer) {
                if field == nil { field = [] }
                field!.append(current)
                index += 1
                continue
            }
            if let lines = field {
                if var stored = MIMEHeaderField(lines: lines, in: buffer, keepsSpaceAfterColon: true) {
                    while let last = stored.name.last, last == 0x20 || last == 0x09 { stored.name.removeLast() }
                    if stored.name.count > limits.maximumHeaderNameLength {
                        stored.name.removeLast(stored.name.count - limits.maximumHeaderNameLength)
                        note(.headerTruncated)
                    }
                    if stored.rawValue.count > limits.maximumHeaderValueLength {
                        stored.rawValue.removeLast(stored.rawValue.count - limits.maximumHeaderValueLength)
                        note(.headerTruncated)
                    }
                    fields.append(stored)
                }
                field = nil
            }
            guard let current else {
                note(.missingHeaderSeparator)
                return (fields, index)
            }
            if current.range.isEmpty, current.hasNewline { return (fields, index + 1) }
            if Self.hasPrefix(buffer[current.range], "--") {
                note(.missingHeaderSeparator)
                return (fields, index)
            }
            if !Self.isFieldStart(buffer[current.range]) {
                badLines += 1
                guard badLines <= limits.maximumInvalidHeaderLines else {
                    note(.missingHeaderSeparator)
                    return (fields, index)
                }
                note(.badHeaderLine)
            }
            field = [current]
            index += 1
        }
    }

    /// Runs of more than `maximumBlankLines` whitespace-only lines keep their first line and
    /// the last ones, as SpamAssassin trims them.
    private func compactBlankLines(_ lines: [MIMELine], _ buffer: [UInt8]) -> [MIMELine] {
        let maximum = limits.maximumBlankLines
        var removed = [Bool](repeating: false, count: lines.count)
        var runEnd: Int?
        var index = lines.count - 1
        while index >= 0 {
            let blank = buffer[lines[index].range].allSatisfy(MIMEContentType.isSpace)
            if blank {
                if runEnd == nil { runEnd = index }
                if index != 0 {
                    index -= 1
                    continue
                }
            }
            if let end = runEnd {
                let count = end - index
                if count > maximum {
                    for drop in (index + 2)..<(index + 2 + count - maximum) where drop < lines.count {
                        removed[drop] = true
                    }
                }
                runEnd = nil
            }
            index -= 1
        }
        guard removed.contains(true) else { return lines }
        return lines.indices.filter { !removed[$0] }.map { lines[$0] }
    }

    // MARK: Entities

    private mutating func readEntity(
        fields: [MIMEHeaderField], type: String, boundary: String?, lines: [MIMELine], buffer: [UInt8], depth: Int
    ) {
        if type.hasPrefix("multipart/"), let boundary {
            if depth > 0 {
                readMultipart(type: type, boundary: boundary, lines: lines, buffer: buffer, depth: depth)
                return
            }
            note(.tooDeep)
        }
        readLeaf(fields: fields, presetType: type, boundary: boundary, lines: lines, buffer: buffer, depth: depth)
    }

    private mutating func readLeaf(
        fields: [MIMEHeaderField], presetType: String, boundary: String?, lines: [MIMELine], buffer: [UInt8], depth: Int
    ) {
        let contentType = MIMEContentType(fields.lastDecoded("content-type"))
        var type = presetType
        if !contentType.isMissing {
            type = contentType.type
            if type.hasPrefix("multipart/"), boundary == nil {
                note(.missingBoundary)
                type = "text/plain"
            }
        }
        var name = contentType.name
        if let disposition = fields.lastDecoded("content-disposition"), let named = Self.dispositionName(disposition) {
            name = named
        }
        var body: [UInt8] = []
        body.reserveCapacity(lines.reduce(0) { $0 + $1.length })
        for line in lines {
            body.append(contentsOf: buffer[line.range])
            if line.hasNewline { body.append(0x0A) }
        }
        let transferEncoding = (fields.lastDecoded("content-transfer-encoding") ?? "").lowercased()
        if type == "message/rfc822" || type == "message/global" {
            if depth > 0 {
                let (decoded, problem) = MIMELeaf.decode(body, transferEncoding: transferEncoding, type: type)
                if let problem { note(problem) }
                if !decoded.isEmpty {
                    _ = readMessage(decoded, depth: depth - 1)
                    return
                }
            } else {
                note(.tooDeep)
            }
        }
        leaves.append(
            MIMELeaf(
                type: type, charset: contentType.charset, name: name, transferEncoding: transferEncoding, body: body))
    }

    /// `name=` in a `Content-Disposition` value, as SpamAssassin finds it: `name=\s*"?([^";]+)"?`.
    private static func dispositionName(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        var index = 0
        while index + 5 <= bytes.count {
            if MIMEContentType.equalsIgnoringCase(bytes[index..<(index + 5)], Array("name=".utf8)) {
                var start = index + 5
                while start < bytes.count, MIMEContentType.isSpace(bytes[start]) { start += 1 }
                if start < bytes.count, bytes[start] == UInt8(ascii: "\"") { start += 1 }
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: ";") { end += 1 }
                if end > start { return String(decoding: bytes[start..<end], as: UTF8.self) }
            }
            index += 1
        }
        return nil
    }

    // MARK: Multiparts

    /// Splits a multipart at its delimiter lines and reads each part, as `_parse_multipart` does.
    private mutating func readMultipart(type: String, boundary: String, lines: [MIMELine], buffer: [UInt8], depth: Int)
    {
        let delimiter = Array(("--" + boundary).utf8)
        var start = 0
        if let first = lines.firstIndex(where: { Self.delimiterKind(buffer[$0.range], delimiter) == false }) {
            start = first + 1
        } else {
            note(.boundaryNotFound)
        }
        var fields: [MIMEHeaderField] = []
        var field: [MIMELine]?
        var partLines: [MIMELine]?
        var inBody = false
        var nestedBoundary = false
        var closed = false
        var remaining = lines.count - start
        for line in lines[start...] {
            let kind = Self.delimiterKind(buffer[line.range], delimiter)
            var isDelimiter = kind != nil
            let isClose = kind == true
            if isDelimiter, nestedBoundary {
                // SpamAssassin bug 7358: a part reusing its parent's boundary keeps one level of it.
                isDelimiter = false
                if isClose { nestedBoundary = false }
            }
            remaining -= 1
            if remaining == 0 || isDelimiter {
                if !isDelimiter {
                    appendSplitting(line, to: &partLines)
                } else if var part = partLines, !part.isEmpty {
                    part[part.count - 1].hasNewline = false
                    if part[part.count - 1].range.isEmpty { part.removeLast() }
                    partLines = part
                } else {
                    partLines = []
                }
                let contentType = MIMEContentType(fields.lastDecoded("content-type"))
                var partType = contentType.type
                if contentType.isMissing, type == "multipart/digest" { partType = "message/rfc822" }
                partCount += 1
                guard partCount <= limits.maximumParts else {
                    note(.tooManyParts)
                    return
                }
                readEntity(
                    fields: fields, type: partType, boundary: contentType.boundary ?? boundary, lines: partLines ?? [],
                    buffer: buffer, depth: depth - 1)
                if isClose, isDelimiter {
                    closed = true
                    break
                }
                inBody = false
                fields = []
                partLines = nil
                field = nil
                continue
            }
            if !inBody {
                let content = buffer[line.range]
                if Self.isFieldStart(content) {
                    if let lines = field,
                        let stored = MIMEHeaderField(lines: lines, in: buffer, keepsSpaceAfterColon: false)
                    {
                        fields.append(stored)
                    }
                    field = [line]
                    continue
                }
                if Self.startsWithBlank(line, buffer), field != nil {
                    field?.append(line)
                    continue
                }
                if let lines = field,
                    let stored = MIMEHeaderField(lines: lines, in: buffer, keepsSpaceAfterColon: false)
                {
                    fields.append(stored)
                    if stored.lowercasedName == "content-type",
                        MIMEContentType(fields.lastDecoded("content-type")).boundary == boundary
                    {
                        nestedBoundary = true
                    }
                }
                inBody = true
                if content.isEmpty || (content.count == 1 && content.first == 0x0D) { continue }
            }
            appendSplitting(line, to: &partLines)
        }
        if !closed, start > 0 { note(.missingClosingBoundary) }
    }

    /// Appends a body line, cut into `maximumBodyLineLength` pieces as SpamAssassin cuts them.
    private func appendSplitting(_ line: MIMELine, to lines: inout [MIMELine]?) {
        var line = line
        let maximum = limits.maximumBodyLineLength
        if lines == nil { lines = [] }
        while line.length > maximum {
            let cut = line.range.lowerBound + maximum
            lines!.append(MIMELine(range: line.range.lowerBound..<cut, hasNewline: true))
            line.range = cut..<line.range.upperBound
        }
        lines!.append(line)
    }

    // MARK: Lines

    /// `false` for `--boundary`, `true` for `--boundary--`, either followed only by whitespace;
    /// nil for any other line.
    private static func delimiterKind(_ content: ArraySlice<UInt8>, _ delimiter: [UInt8]) -> Bool? {
        guard content.count >= delimiter.count, content.starts(with: delimiter) else { return nil }
        var rest = content.dropFirst(delimiter.count)
        var isClose = false
        if rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) {
            isClose = true
            rest = rest.dropFirst(2)
        }
        guard rest.allSatisfy(MIMEContentType.isSpace) else { return nil }
        return isClose
    }

    /// `^[\041-\071\073-\176]+[ \t]*:`: a field name, optional whitespace, a colon.
    private static func isFieldStart(_ content: ArraySlice<UInt8>) -> Bool {
        var index = content.startIndex
        while index < content.endIndex, content[index] >= 0x21, content[index] <= 0x7E, content[index] != 0x3A {
            index += 1
        }
        guard index > content.startIndex else { return false }
        while index < content.endIndex, content[index] == 0x20 || content[index] == 0x09 { index += 1 }
        return index < content.endIndex && content[index] == 0x3A
    }

    private static func startsWithBlank(_ line: MIMELine, _ buffer: [UInt8]) -> Bool {
        guard let first = buffer[line.range].first else { return false }
        return first == 0x20 || first == 0x09
    }

    private static func endsInCRLF(_ line: MIMELine, _ buffer: [UInt8]) -> Bool {
        line.hasNewline && buffer[line.range].last == 0x0D
    }

    private static func hasPrefix(_ content: ArraySlice<UInt8>, _ prefix: String) -> Bool {
        content.starts(with: prefix.utf8)
    }

    /// The length of a leading mbox `From ` line, which is not part of the message.
    static func mboxSeparatorLength(_ bytes: [UInt8]) -> Int {
        let newline = bytes.firstIndex(of: 0x0A)
        let line = MIMELine(range: 0..<(newline ?? bytes.count), hasNewline: newline != nil)
        return isMboxSeparator(line, bytes) ? line.length : 0
    }

    /// `^From\s+(?!:)`: an mbox separator, not a `From:` field written with spaces.
    private static func isMboxSeparator(_ line: MIMELine, _ buffer: [UInt8]) -> Bool {
        let content = buffer[line.range]
        guard hasPrefix(content, "From") else { return false }
        let rest = content.dropFirst(4)
        let spaces = rest.prefix(while: MIMEContentType.isSpace).count
        // The line feed is whitespace too.
        guard spaces > 0 else { return rest.isEmpty && line.hasNewline }
        // Backtracking lets `\s+` give one space back unless a single space precedes the colon.
        return spaces > 1 || rest.dropFirst(spaces).first != UInt8(ascii: ":")
    }
}
