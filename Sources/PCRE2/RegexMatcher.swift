import CPCRE2

/// Runs ``Regex8`` patterns over byte subjects with bounded work, so that a catastrophic pattern
/// ends in ``Outcome/limitExceeded`` instead of stalling an event loop.
///
/// Owns a match context (limits and JIT stack), match data and a JIT stack: one per thread or
/// event loop, reused for every match. Not `Sendable`.
public final class RegexMatcher {
    /// `pcre2_set_match_limit`: calls of PCRE2's internal `match()` (JIT and interpreter alike).
    public static let defaultMatchLimit: UInt32 = 1_000_000
    /// `pcre2_set_depth_limit`: backtracking depth (interpreter only; the JIT stack bounds the JIT).
    public static let defaultDepthLimit: UInt32 = 10_000
    /// `pcre2_set_heap_limit`, in KiB: the interpreter's backtracking memory (PCRE2's default is 20 GB).
    public static let defaultHeapLimitKiB: UInt32 = 20 * 1024
    /// Largest JIT stack, in bytes; it starts at 32 KiB and grows on demand.
    public static let defaultJITStackSize = 1024 * 1024

    public enum Outcome: Sendable, Hashable {
        /// Byte offsets of the whole match in the subject.
        case match(Range<Int>)
        case noMatch
        /// Match, depth, heap or JIT-stack limit reached: a catastrophic pattern, which callers
        /// count as a rule error.
        case limitExceeded
        /// Any other PCRE2 error code; ``RegexError/message(forCode:)`` gives its text.
        case error(Int32)
    }

    private let context: OpaquePointer
    private let matchData: OpaquePointer
    private let jitStack: OpaquePointer?
    /// A byte to point at for an empty subject whose buffer has no address.
    private let emptySubject: UnsafeMutablePointer<UInt8>

    public init(
        matchLimit: UInt32 = RegexMatcher.defaultMatchLimit,
        depthLimit: UInt32 = RegexMatcher.defaultDepthLimit,
        heapLimitKiB: UInt32 = RegexMatcher.defaultHeapLimitKiB,
        jitStackSize: Int = RegexMatcher.defaultJITStackSize
    ) {
        guard let context = pcre2_match_context_create_8(nil),
            let matchData = pcre2_match_data_create_8(1, nil)
        else { preconditionFailure("PCRE2 could not allocate a match context") }
        self.context = context
        self.matchData = matchData
        pcre2_set_match_limit_8(context, matchLimit)
        pcre2_set_depth_limit_8(context, depthLimit)
        pcre2_set_heap_limit_8(context, heapLimitKiB)
        // Without a stack of its own the JIT uses 32 KiB of the machine stack.
        let startSize = min(32 * 1024, jitStackSize)
        self.jitStack = pcre2_jit_stack_create_8(startSize, max(startSize, jitStackSize), nil)
        if let jitStack {
            pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(jitStack))
        }
        self.emptySubject = .allocate(capacity: 1)
        self.emptySubject.initialize(to: 0)
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(context)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
        emptySubject.deallocate()
    }

    /// The first match starting at or after `offset`.
    ///
    /// For a `.utf` regex the subject must be valid UTF-8 and `offset` a character boundary: it
    /// is not checked again (see ``Regex8/isValidUTF8(_:)``).
    public func firstMatch(_ regex: Regex8, in subject: UnsafeRawBufferPointer, from offset: Int = 0) -> Outcome {
        run(regex, subject, offset, options: 0)
    }

    public func firstMatch(_ regex: Regex8, in subject: [UInt8], from offset: Int = 0) -> Outcome {
        subject.withUnsafeBytes { run(regex, $0, offset, options: 0) }
    }

    /// Counts non-overlapping matches as Perl's `//g` does, stopping at `maximum` (SpamAssassin's
    /// `tflags multiple` and `maxhits`). After an empty match the next one may not be empty at
    /// the same place, so `x*` on `abc` counts 4. `limitExceeded` is also set for any other
    /// matching error: either way the rule failed to run to the end.
    public func countMatches(_ regex: Regex8, in subject: UnsafeRawBufferPointer, maximum: Int) -> (
        count: Int, limitExceeded: Bool
    ) {
        var count = 0
        var offset = 0
        var options: UInt32 = 0
        while count < maximum {
            switch run(regex, subject, offset, options: options) {
            case .match(let range):
                count += 1
                // Each step moves forward: a match starts at or after `offset`, and an empty one
                // at `offset` is excluded by NOTEMPTY_ATSTART after an empty match.
                offset = range.upperBound
                options = range.isEmpty ? UInt32(PCRE2_NOTEMPTY_ATSTART) : 0
            case .noMatch:
                return (count, false)
            case .limitExceeded, .error:
                return (count, true)
            }
        }
        return (count, false)
    }

    public func countMatches(_ regex: Regex8, in subject: [UInt8], maximum: Int) -> (
        count: Int, limitExceeded: Bool
    ) {
        subject.withUnsafeBytes { countMatches(regex, in: $0, maximum: maximum) }
    }

    private func run(_ regex: Regex8, _ subject: UnsafeRawBufferPointer, _ offset: Int, options: UInt32) -> Outcome {
        guard offset >= 0, offset <= subject.count else { return .error(PCRE2_ERROR_BADOFFSET) }
        let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptySubject)
        let code =
            regex.isJITCompiled
            ? pcre2_jit_match_8(regex.code, base, subject.count, offset, options, matchData, context)
            : pcre2_match_8(
                regex.code, base, subject.count, offset, options | regex.interpreterMatchOptions, matchData, context)
        switch code {
        case 0...:
            // 0 means the one-pair ovector was too small for the groups, which is all we want.
            let vector = pcre2_get_ovector_pointer_8(matchData)!
            let start = vector[0]
            let end = vector[1]
            // \K can in principle report an end before the start; never trap on it.
            guard start <= end, end <= subject.count, start >= offset else { return .error(PCRE2_ERROR_INTERNAL) }
            return .match(start..<end)
        case PCRE2_ERROR_NOMATCH:
            return .noMatch
        case PCRE2_ERROR_MATCHLIMIT, PCRE2_ERROR_DEPTHLIMIT, PCRE2_ERROR_HEAPLIMIT, PCRE2_ERROR_JIT_STACKLIMIT:
            return .limitExceeded
        default:
            return .error(code)
        }
    }
}
