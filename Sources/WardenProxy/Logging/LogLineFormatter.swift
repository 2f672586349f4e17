import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Renders one log event as one line, in logfmt or JSON.
///
/// Fields come in a fixed order so that lines read the same way every time: `ts`, `level`, `msg`,
/// then the keys that identify a session and its outcome when present (``leadingKeys``), then
/// the rest sorted by name.
///
/// logfmt: `key=value`, the value in double quotes when it is empty or holds a space, `"`, `=`
/// or a character that does not print; inside quotes `"` and `\` are escaped, and so are
/// control, format and separator characters (`\n`, `\t`, `\u202e`), so that a hostile value
/// can neither start a new line nor reorder the text on a terminal.
///
/// JSON: one object per line, strings escaped per RFC 8259 7, the same unprintable characters
/// written as `\u` escapes; integers and booleans given as metadata stay numbers and booleans.
public struct LogLineFormatter: Sendable {
    /// Keys that come right after `msg`, in this order (STYLE.md rule 15).
    public static let leadingKeys = ["session", "client", "ref", "rule", "verdict"]
    /// Keys the line itself uses; metadata with these names is written as `_ts`, `_level`, `_msg`.
    static let reservedKeys = ["ts", "level", "msg"]

    public var format: LogFormat

    public init(format: LogFormat) {
        self.format = format
    }

    /// The line for one event, without a newline: the fields of `metadata` and, where a key is
    /// in both, those of `overrides` (the event's own metadata over the logger's).
    public func line(
        time: Date, level: Logger.Level, message: String, metadata: Logger.Metadata, overrides: Logger.Metadata? = nil
    ) -> String {
        // Leading keys by their place in `leadingKeys`, the rest sorted by (written) name.
        var leading = [Logger.MetadataValue?](repeating: nil, count: Self.leadingKeys.count)
        var rest: [(String, Logger.MetadataValue)] = []
        func take(_ key: String, _ value: Logger.MetadataValue, overridden: Bool) {
            if let index = Self.leadingKeys.firstIndex(of: key) {
                if leading[index] == nil { leading[index] = value }
            } else if !overridden {
                rest.append((Self.reservedKeys.contains(key) ? "_" + key : key, value))
            }
        }
        for (key, value) in overrides ?? [:] { take(key, value, overridden: false) }
        for (key, value) in metadata { take(key, value, overridden: overrides?[key] != nil) }
        rest.sort { $0.0 < $1.0 }
        switch format {
        case .logfmt:
            var line: [UInt8] = []
            line.reserveCapacity(320)
            line.append(contentsOf: "ts=".utf8)
            Self.appendTimestamp(time, to: &line)
            line.append(contentsOf: " level=".utf8)
            line.append(contentsOf: level.rawValue.utf8)
            line.append(contentsOf: " msg=".utf8)
            Self.appendLogfmt(message, to: &line)
            for (index, value) in leading.enumerated() {
                guard let value else { continue }
                Self.appendLogfmtField(Self.leadingKeys[index], value, to: &line)
            }
            for (key, value) in rest { Self.appendLogfmtField(key, value, to: &line) }
            return String(decoding: line, as: UTF8.self)
        case .json:
            var fields: [(String, Logger.MetadataValue)] = [
                ("ts", .string(Self.timestamp(time))), ("level", .string(level.rawValue)), ("msg", .string(message)),
            ]
            for (index, value) in leading.enumerated() {
                if let value { fields.append((Self.leadingKeys[index], value)) }
            }
            fields += rest
            return "{"
                + fields.map { key, value in Self.jsonString(key) + ":" + Self.json(value) }.joined(separator: ",")
                + "}"
        }
    }

    private static func appendLogfmtField(_ key: String, _ value: Logger.MetadataValue, to line: inout [UInt8]) {
        line.append(UInt8(ascii: " "))
        if isPlain(key) {
            line.append(contentsOf: key.utf8)
        } else {
            line.append(contentsOf: logfmtKey(key).utf8)
        }
        line.append(UInt8(ascii: "="))
        appendLogfmt(text(value), to: &line)
    }

    private static func appendLogfmt(_ value: String, to line: inout [UInt8]) {
        if isPlain(value) {
            line.append(contentsOf: value.utf8)
        } else {
            line.append(contentsOf: logfmtValue(value).utf8)
        }
    }

    /// RFC 3339 UTC with milliseconds: `2026-11-21T23:59:01.123Z`.
    public static func timestamp(_ date: Date) -> String {
        var bytes: [UInt8] = []
        appendTimestamp(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func appendTimestamp(_ date: Date, to line: inout [UInt8]) {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(milliseconds.quotientRoundingDown(1000))
        let fraction = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        appendDigits(Int(parts.tm_year) + 1900, width: 4, to: &line)
        line.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mon) + 1, width: 2, to: &line)
        line.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mday), width: 2, to: &line)
        line.append(UInt8(ascii: "T"))
        appendDigits(Int(parts.tm_hour), width: 2, to: &line)
        line.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_min), width: 2, to: &line)
        line.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_sec), width: 2, to: &line)
        line.append(UInt8(ascii: "."))
        appendDigits(fraction, width: 3, to: &line)
        line.append(UInt8(ascii: "Z"))
    }

    /// `value` in decimal, zero-padded to `width` digits.
    private static func appendDigits(_ value: Int, width: Int, to line: inout [UInt8]) {
        guard value >= 0 else {
            line.append(contentsOf: String(value).utf8)
            return
        }
        var digits = 1
        var scale = 1
        while value / scale >= 10 {
            scale *= 10
            digits += 1
        }
        for _ in digits..<max(digits, width) { line.append(UInt8(ascii: "0")) }
        while scale > 0 {
            line.append(UInt8(ascii: "0") + UInt8(value / scale % 10))
            scale /= 10
        }
    }

    // MARK: logfmt

    static func logfmtKey(_ key: String) -> String {
        if isPlain(key) { return key }
        let cleaned = String(
            String.UnicodeScalarView(
                key.unicodeScalars.map { $0 == " " || $0 == "=" || $0 == "\"" || !isPrintable($0) ? "_" : $0 }
            )
        )
        return cleaned.isEmpty ? "_" : cleaned
    }

    static func logfmtValue(_ value: String) -> String {
        if isPlain(value) { return value }
        let needsQuotes =
            value.isEmpty || value.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || !isPrintable($0) }
        guard needsQuotes else { return value }
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case _ where !isPrintable(scalar):
                quoted +=
                    scalar.value <= 0xFFFF ? "\\u" + hex(scalar.value, width: 4) : "\\U" + hex(scalar.value, width: 8)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    /// Printable ASCII without space, `=` and `"`, not empty: written as it is, key or value.
    static func isPlain(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "\"") }
    }

    /// The text of a metadata value: arrays as `[a, b]`, dictionaries as `[k: v]` sorted by key.
    static func text(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): "[" + values.map(text).joined(separator: ", ") + "]"
        case .dictionary(let dictionary):
            "[" + dictionary.keys.sorted().map { "\($0): \(text(dictionary[$0]!))" }.joined(separator: ", ") + "]"
        }
    }

    // MARK: JSON

    static func json(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string):
            return jsonString(string)
        case .stringConvertible(let convertible):
            if convertible is any BinaryInteger || convertible is Bool { return convertible.description }
            return jsonString(convertible.description)
        case .array(let values):
            return "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            return "{"
                + dictionary.keys.sorted().map { jsonString($0) + ":" + json(dictionary[$0]!) }.joined(separator: ",")
                + "}"
        }
    }

    static func jsonString(_ string: String) -> String {
        var quoted = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case "\u{08}": quoted += "\\b"
            case "\u{0C}": quoted += "\\f"
            case _ where !isPrintable(scalar):
                for unit in String(scalar).utf16 { quoted += "\\u" + hex(UInt32(unit), width: 4) }
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    // MARK: Characters

    /// False for controls (C0, DEL, C1), format characters such as bidi overrides, separators
    /// other than the ASCII space, private-use and unassigned code points.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar.value >= 0x20 && scalar.value != 0x7F }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .privateUse, .surrogate,
            .unassigned:
            return false
        default:
            return true
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension Int64 {
    fileprivate func quotientRoundingDown(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
