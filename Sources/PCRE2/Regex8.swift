import CPCRE2

/// A compiled PCRE2 pattern over 8-bit code units, JIT-compiled when the platform allows.
///
/// Immutable after `init` and therefore shared freely between threads; matching state lives in a
/// ``RegexMatcher`` that each thread or event loop owns.
///
/// ```swift
/// let rule = try Regex8(perlLiteral: #"/\bcheap\s+meds\b/i"#)
/// let matcher = RegexMatcher()
/// if case .match(let range) = matcher.firstMatch(rule, in: body) { ... }
/// ```
public final class Regex8: @unchecked Sendable {
    public let pattern: String
    public let options: RegexOptions
    /// At least 3 bytes that every match contains, for pre-filtering, or `nil` when the analysis
    /// cannot tell (alternation at the top level, inline options, `\K`, verbs, no literal run
    /// of 3 bytes). For a caseless regex it is ASCII-lowercased and a subject must be searched
    /// for it ignoring ASCII case. See ``mayMatch(_:)``.
    public let requiredLiteral: [UInt8]?
    /// Spellings of which every match contains one, at least 3 bytes each, all of one length:
    /// `v[i1]agr[a@]` gives `viagra`, `v1agra`, `viagr@`, `v1agr@` (where `requiredLiteral` has
    /// only `agr`). Small classes (up to four one-byte members) are spelled out, up to 16
    /// spellings; `nil` as for `requiredLiteral`. Caseless regexes give lowercased spellings.
    public let requiredAlternatives: [[UInt8]]?
    /// Whether `pcre2_jit_compile` succeeded; otherwise matching uses the interpreter.
    public let isJITCompiled: Bool

    /// Owned; freed in `deinit`. Read-only after init, which PCRE2 allows across threads.
    let code: OpaquePointer
    /// Options passed to the interpreter (`pcre2_jit_match` takes no validity options).
    let interpreterMatchOptions: UInt32
    let literalSearcher: LiteralSearcher?

    public init(_ pattern: String, options: RegexOptions = []) throws(RegexError) {
        // A trailing NUL keeps the pointer non-nil for the empty pattern; the length excludes it.
        var bytes = Array(pattern.utf8)
        let length = bytes.count
        bytes.append(0)
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled = bytes.withUnsafeBufferPointer {
            pcre2_compile_8($0.baseAddress, length, options.compileOptions, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw RegexError(pattern: pattern, offset: errorOffset, message: RegexError.message(forCode: errorCode))
        }
        self.code = compiled
        self.pattern = pattern
        self.options = options
        // (*NO_JIT) in the pattern makes pcre2_jit_compile succeed without producing code.
        var jitSize = 0
        self.isJITCompiled =
            pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
            && pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_JITSIZE), &jitSize) == 0 && jitSize > 0
        self.interpreterMatchOptions = options.contains(.utf) ? UInt32(PCRE2_NO_UTF_CHECK) : 0
        var newline: UInt32 = 0
        _ = pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_NEWLINE), &newline)
        let (literal, alternatives) = RequiredLiteral.analyseBoth(
            Array(bytes[..<length]), options: options, newlineIsLF: newline == UInt32(PCRE2_NEWLINE_LF))
        self.requiredLiteral = literal
        self.requiredAlternatives = alternatives
        self.literalSearcher = literal.map { LiteralSearcher($0, caseless: options.contains(.caseless)) }
    }

    /// Compiles a SpamAssassin/Perl regex literal such as `/pattern/flags` or `m{pattern}flags`
    /// (see ``PerlRegexLiteral``). `options` are added to the literal's flags (for example `.utf`).
    public convenience init(perlLiteral: String, options: RegexOptions = []) throws(RegexError) {
        let literal = try PerlRegexLiteral(parsing: perlLiteral)
        try self.init(literal.pattern, options: literal.options.union(options))
    }

    deinit {
        pcre2_code_free_8(code)
    }

    /// `false` only when the subject cannot match because it lacks ``requiredLiteral``.
    ///
    /// Not a speed-up for rules that start with their literal: PCRE2's JIT already skips ahead
    /// to the first code unit with vector instructions, and calling this before each of 50 typical
    /// spam rules made the content stage slower (measured in `ThroughputTests`). It pays for
    /// rules whose literal comes after a costly start, or as the screen of a combined scan.
    public func mayMatch(_ subject: UnsafeRawBufferPointer) -> Bool {
        literalSearcher?.occurs(in: subject) ?? true
    }

    public func mayMatch(_ subject: [UInt8]) -> Bool {
        subject.withUnsafeBytes { mayMatch($0) }
    }
}
