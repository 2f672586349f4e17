/// The line on which each key and table header of a TOML document is written.
///
/// TOMLKit keeps no source positions for values, so a semantic error ("port must be between 0
/// and 65535") would otherwise have no line. This scans the text for table headers (`[a.b]`,
/// `[[listener]]`) and `key = value` lines, skipping the insides of strings, multi-line strings
/// and arrays that span lines. It runs after TOMLKit accepted the document, so it need not
/// diagnose anything.
///
/// Paths are dotted. The n-th table of an array of tables is `name[n]`, counted from 0:
/// `listener[1].port` is the `port` of the second `[[listener]]`.
struct TOMLKeyLines: Sendable {
    private var lines: [String: Int] = [:]
    private let sourceLines: [Substring]

    init(source: String) {
        sourceLines = source.split(separator: "\n", omittingEmptySubsequences: false)
        var scanner = Scanner()
        var lineNumber = 0
        for rawLine in sourceLines {
            lineNumber += 1
            let bytes = Array(rawLine.utf8)
            for (path, isNew) in scanner.scan(line: bytes) {
                if isNew || lines[path] == nil { lines[path] = lineNumber }
            }
        }
    }

    /// The line of `path`, or else of the nearest enclosing key or table that is written down
    /// (a key given inside an inline table has the line of that table's key).
    func line(of path: String) -> Int? {
        var path = Substring(path)
        while !path.isEmpty {
            if let line = lines[String(path)] { return line }
            if path.hasSuffix("]"), let open = path.lastIndex(of: "[") {
                path = path[..<open]
            } else if let dot = path.lastIndex(of: ".") {
                path = path[..<dot]
            } else {
                return nil
            }
        }
        return nil
    }

    /// The line of the string `element` in the array at `path`, which may span lines; else the
    /// line of `path`.
    func line(of path: String, element: String) -> Int? {
        guard let start = line(of: path) else { return nil }
        let quoted = ["\"\(element)\"", "'\(element)'"]
        for number in start...sourceLines.count where quoted.contains(where: sourceLines[number - 1].contains) {
            return number
        }
        return start
    }
}

extension TOMLKeyLines {
    /// Line-by-line state: the current table, counters of arrays of tables, and whether a
    /// multi-line string or array is still open from an earlier line.
    private struct Scanner {
        var currentTable = ""
        var arrayIndex: [String: Int] = [:]
        var openMultilineString: UInt8?  // the quote byte of an open """ or '''
        var bracketDepth = 0

        /// Returns the paths written on this line; `true` marks a table header, which always
        /// replaces an earlier entry (a `[a.b]` after a dotted key `b.c` inside `[a]`).
        mutating func scan(line: [UInt8]) -> [(String, Bool)] {
            if openMultilineString != nil || bracketDepth > 0 {
                scanValue(line, from: 0)
                return []
            }
            var index = Self.skipBlanks(line, from: 0)
            guard index < line.count, line[index] != UInt8(ascii: "#") else { return [] }
            if line[index] == UInt8(ascii: "[") {
                let isArrayTable = index + 1 < line.count && line[index + 1] == UInt8(ascii: "[")
                index += isArrayTable ? 2 : 1
                guard let (components, _) = Self.parseKey(line, from: index, terminator: "]") else { return [] }
                if isArrayTable {
                    let parent = resolve(Array(components.dropLast()))
                    let base = parent.isEmpty ? components.last! : parent + "." + components.last!
                    let next = (arrayIndex[base] ?? -1) + 1
                    arrayIndex[base] = next
                    currentTable = "\(base)[\(next)]"
                } else {
                    currentTable = resolve(components)
                }
                return [(currentTable, true)]
            }
            guard let (components, valueStart) = Self.parseKey(line, from: index, terminator: "=") else {
                return []
            }
            scanValue(line, from: valueStart)
            var paths: [(String, Bool)] = []
            var path = currentTable
            for component in components {
                path = path.isEmpty ? component : path + "." + component
                paths.append((path, false))
            }
            return paths
        }

        /// Applies the current index of every array of tables along `components`.
        private func resolve(_ components: [String]) -> String {
            var path = ""
            for component in components {
                path = path.isEmpty ? component : path + "." + component
                if let index = arrayIndex[path] { path += "[\(index)]" }
            }
            return path
        }

        /// Follows strings, comments and brackets of a value so that the next line's state is known.
        private mutating func scanValue(_ line: [UInt8], from start: Int) {
            var index = start
            while index < line.count {
                if let quote = openMultilineString {
                    if Self.isTripleQuote(line, at: index, quote: quote) {
                        openMultilineString = nil
                        index += 3
                    } else {
                        index += quote == UInt8(ascii: "\"") && line[index] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    continue
                }
                let byte = line[index]
                switch byte {
                case UInt8(ascii: "#"):
                    return
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    if Self.isTripleQuote(line, at: index, quote: byte) {
                        openMultilineString = byte
                        index += 3
                    } else {
                        index = Self.endOfString(line, from: index + 1, quote: byte)
                    }
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    bracketDepth += 1
                    index += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    bracketDepth = max(0, bracketDepth - 1)
                    index += 1
                default:
                    index += 1
                }
            }
        }

        private static func isTripleQuote(_ line: [UInt8], at index: Int, quote: UInt8) -> Bool {
            index + 2 < line.count && line[index] == quote && line[index + 1] == quote && line[index + 2] == quote
        }

        /// The index just past the closing quote of a one-line string whose body starts at `start`.
        private static func endOfString(_ line: [UInt8], from start: Int, quote: UInt8) -> Int {
            var index = start
            while index < line.count {
                if line[index] == quote { return index + 1 }
                index += quote == UInt8(ascii: "\"") && line[index] == UInt8(ascii: "\\") ? 2 : 1
            }
            return index
        }

        private static func skipBlanks(_ line: [UInt8], from start: Int) -> Int {
            var index = start
            while index < line.count,
                line[index] == UInt8(ascii: " ") || line[index] == UInt8(ascii: "\t")
                    || line[index] == UInt8(ascii: "\r")
            {
                index += 1
            }
            return index
        }

        /// Parses a possibly dotted, possibly quoted key up to `terminator`; returns its components
        /// and the index after the terminator, or nil when the line holds no key.
        static func parseKey(_ line: [UInt8], from start: Int, terminator: Unicode.Scalar) -> ([String], Int)? {
            var components: [String] = []
            var index = skipBlanks(line, from: start)
            while index < line.count {
                let byte = line[index]
                var component: [UInt8] = []
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    let end = endOfString(line, from: index + 1, quote: byte)
                    component = Array(line[(index + 1)..<max(index + 1, end - 1)])
                    index = end
                } else {
                    while index < line.count, isBareKeyByte(line[index]) {
                        component.append(line[index])
                        index += 1
                    }
                    if component.isEmpty { return nil }
                }
                components.append(String(decoding: component, as: UTF8.self))
                index = skipBlanks(line, from: index)
                guard index < line.count else { return nil }
                if line[index] == UInt8(ascii: ".") {
                    index = skipBlanks(line, from: index + 1)
                } else if line[index] == UInt8(ascii: terminator) {
                    return (components, index + 1)
                } else {
                    return nil
                }
            }
            return nil
        }

        private static func isBareKeyByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}
