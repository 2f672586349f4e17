import TOMLKit

/// The file being loaded: its name for messages, its directory for relative paths, and where
/// each key is written.
struct ConfigurationSource {
    /// The file as named to Warden, used in messages.
    let file: String
    /// The file as an absolute path.
    let absolutePath: String
    let keyLines: TOMLKeyLines

    /// An error at the line of `path` (a key path such as `listener[1].port`), or without a line.
    func error(_ message: String, at path: String?) -> ConfigurationError {
        ConfigurationError(file: file, line: path.flatMap { keyLines.line(of: $0) }, message: message)
    }

    /// `path` made absolute against the configuration file's directory.
    func resolve(_ path: String) -> String {
        ConfigurationSyntax.absolutePath(path, relativeTo: ConfigurationSyntax.directory(of: absolutePath))
    }
}

/// One table of `warden.toml` with typed accessors. Each accessor returns nil for an absent key
/// and throws, at the key's line, for a value of the wrong type or outside its range.
struct ConfigurationTable {
    let table: TOMLTable
    /// Path for finding lines: `server`, `listener[1]`.
    let path: String
    /// Name in messages: `server`, `listener`.
    let name: String
    let source: ConfigurationSource

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    func keyName(_ key: String) -> String { name.isEmpty ? key : "\(name).\(key)" }

    func error(_ message: String, at key: String? = nil) -> ConfigurationError {
        source.error(message, at: key.map(keyPath) ?? path)
    }

    /// An error about one string of the array at `key`, at that string's line.
    func error(_ message: String, at key: String, element: String) -> ConfigurationError {
        ConfigurationError(
            file: source.file,
            line: source.keyLines.line(of: keyPath(key), element: element),
            message: message
        )
    }

    /// Refuses keys outside `allowed`, naming the first one in the file.
    func rejectUnknownKeys(allowing allowed: Set<String>) throws(ConfigurationError) {
        let unknown = table.keys.filter { !allowed.contains($0) }
        let first = unknown.min {
            (source.keyLines.line(of: keyPath($0)) ?? .max) < (source.keyLines.line(of: keyPath($1)) ?? .max)
        }
        guard let first else { return }
        let isTable = table[first]?.type == .table
        throw error(isTable ? "unknown table [\(keyName(first))]" : "unknown key \(keyName(first))", at: first)
    }

    private func value(
        _ key: String,
        expecting expected: TOMLType
    ) throws(ConfigurationError) -> TOMLValueConvertible? {
        guard let value = table[key] else { return nil }
        guard value.type == expected else {
            throw error("\(keyName(key)) must be \(Self.describe(expected)), not \(Self.describe(value.type))", at: key)
        }
        return value
    }

    func string(_ key: String) throws(ConfigurationError) -> String? {
        try value(key, expecting: .string)?.string
    }

    /// A string where `""` means "not set", as the reference's examples write it.
    func optionalString(_ key: String) throws(ConfigurationError) -> String? {
        guard let text = try string(key), !text.isEmpty else { return nil }
        return text
    }

    func nonEmptyString(_ key: String) throws(ConfigurationError) -> String? {
        guard let text = try string(key) else { return nil }
        guard !text.isEmpty else { throw error("\(keyName(key)) must not be empty", at: key) }
        return text
    }

    func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        try value(key, expecting: .bool)?.bool
    }

    /// An integer in `minimum...maximum`; `reason` follows the range in the message.
    func int(
        _ key: String,
        minimum: Int,
        maximum: Int? = nil,
        reason: String? = nil
    ) throws(ConfigurationError) -> Int? {
        guard let number = try value(key, expecting: .int)?.int else { return nil }
        guard number >= minimum, number <= maximum ?? .max else {
            var message: String
            if let maximum {
                message = "\(keyName(key)) must be between \(minimum) and \(maximum)"
            } else if minimum == 1 {
                message = "\(keyName(key)) must be greater than 0"
            } else {
                message = "\(keyName(key)) must be at least \(minimum)"
            }
            if let reason { message += " (\(reason))" }
            throw error(message, at: key)
        }
        return number
    }

    func stringArray(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let array = try value(key, expecting: .array)?.array else { return nil }
        var strings: [String] = []
        for element in array {
            guard let text = element.string else {
                throw error("\(keyName(key)) must be an array of strings, not of \(Self.plural(element.type))", at: key)
            }
            strings.append(text)
        }
        return strings
    }

    /// One of the raw values of `T`, listed in the message when the value is not one of them.
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, of type: T.Type) throws(ConfigurationError) -> T?
    where T.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let chosen = T(rawValue: text) else {
            let names = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("\(keyName(key)) must be one of \(names)", at: key)
        }
        return chosen
    }

    /// A nested table, or nil when the key is absent.
    func table(_ key: String) throws(ConfigurationError) -> ConfigurationTable? {
        guard let nested = try value(key, expecting: .table)?.table else { return nil }
        return ConfigurationTable(table: nested, path: keyPath(key), name: keyName(key), source: source)
    }

    static func describe(_ type: TOMLType) -> String {
        switch type {
        case .string: "a string"
        case .int: "an integer"
        case .double: "a float"
        case .bool: "a boolean"
        case .table: "a table"
        case .array: "an array"
        case .date: "a date"
        case .time: "a time"
        case .dateTime: "a date-time"
        }
    }

    static func plural(_ type: TOMLType) -> String {
        switch type {
        case .string: "strings"
        case .int: "integers"
        case .double: "floats"
        case .bool: "booleans"
        case .table: "tables"
        case .array: "arrays"
        case .date: "dates"
        case .time: "times"
        case .dateTime: "date-times"
        }
    }
}
