import CPCRE2

/// Compile options of a ``Regex8``, named after the Perl flags they stand for.
///
/// `caseless` is `/i`, `multiline` is `/m`, `dotAll` is `/s`, `extended` is `/x`.
/// `utf` treats pattern and subject as UTF-8 and gives `\w`, `\d`, `\b` and caseless matching
/// their Unicode meaning (`PCRE2_UTF | PCRE2_UCP`), as Perl does on character strings; without
/// it pattern and subject are bytes and only ASCII letters are word characters.
public struct RegexOptions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// `/i`
    public static let caseless = RegexOptions(rawValue: 1 << 0)
    /// `/m`: `^` and `$` also match at line boundaries.
    public static let multiline = RegexOptions(rawValue: 1 << 1)
    /// `/s`: `.` also matches a newline.
    public static let dotAll = RegexOptions(rawValue: 1 << 2)
    /// `/x`: whitespace and `#` comments in the pattern are ignored.
    public static let extended = RegexOptions(rawValue: 1 << 3)
    /// Pattern and subject are UTF-8; the subject must be valid (see ``Regex8/isValidUTF8(_:)``).
    public static let utf = RegexOptions(rawValue: 1 << 4)

    /// The `pcre2_compile` option bits.
    var compileOptions: UInt32 {
        var bits: UInt32 = 0
        if contains(.caseless) { bits |= UInt32(PCRE2_CASELESS) }
        if contains(.multiline) { bits |= UInt32(PCRE2_MULTILINE) }
        if contains(.dotAll) { bits |= UInt32(PCRE2_DOTALL) }
        if contains(.extended) { bits |= UInt32(PCRE2_EXTENDED) }
        if contains(.utf) {
            // \C could stop in the middle of a character of a subject that is not re-validated.
            bits |= UInt32(PCRE2_UTF) | UInt32(PCRE2_UCP) | UInt32(PCRE2_NEVER_BACKSLASH_C)
        } else {
            // A leading (*UTF) would make a byte regex validate (and reject) non-UTF-8 subjects.
            bits |= UInt32(PCRE2_NEVER_UTF)
        }
        return bits
    }
}
