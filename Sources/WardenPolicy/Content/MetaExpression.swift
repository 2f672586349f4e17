/// A syntax error in a meta expression, at a byte offset into its UTF-8 text.
public struct MetaExpressionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var offset: Int

    public var description: String { "offset \(offset): \(message)" }
}

extension MetaExpressionError {
    init(_ message: String, at offset: Int) { self.init(message: message, offset: offset) }
}

/// A compiled SpamAssassin `meta` expression. Each rule name stands for that rule's hit count
/// (0 when it did not hit or is unknown), and the meta hits when the result is non-zero:
///
/// ```swift
/// let meta = try MetaExpression(parsing: "(__A && !__B) || (RULE_C + RULE_D > 1)")
/// meta.ruleNames                                     // ["__A", "__B", "RULE_C", "RULE_D"]
/// meta.evaluate { ["__A": 1, "RULE_C": 2][$0] ?? 0 } // 1: a hit
/// ```
///
/// The tokens are those of SpamAssassin's `ARITH_EXPRESSION_LEXER` (`Constants.pm`): rule names,
/// numbers like `2` or `1.5`, `( ) || && ^ ! < > <= >= == != + - * / ? :`. SpamAssassin pastes them
/// into Perl, so the semantics are Perl's: `||` and `&&` return an operand (`(A || 3) + 1` is 4 when
/// A did not hit), comparisons chain (`1 < A < 4`), `^` is integer XOR, and a division by zero kills
/// the meta (SpamAssassin's eval dies: no hit). Other characters are errors, where SpamAssassin's
/// lexer skips them; `A+1` is accepted, where it reads `+1` as one bad number. Just `()` is
/// SpamAssassin's rule declaration (Bug 8061) and never hits.
public struct MetaExpression: Sendable {
    /// Rule names referenced, unique, in order of first appearance.
    public let ruleNames: [String]
    private let code: [MetaInstruction]
    private let stackSize: Int

    /// Parentheses, `?:` and unary operators nest at most this deep. The parser does not recurse,
    /// so this is not about the machine stack: it rejects pathological rule files early and clearly.
    public static let maximumDepth = 200

    public init(parsing text: String) throws(MetaExpressionError) {
        var compiler = try MetaCompiler(text)
        try compiler.compile()
        ruleNames = compiler.names
        code = compiler.code
        stackSize = compiler.maxStack
    }

    /// Evaluates with `value(name)` giving each referenced rule's hit count.
    public func evaluate(_ value: (String) -> Double) -> Double { run { value(ruleNames[$0]) } }

    /// Evaluates with `counts[i]` the hit count of `ruleNames[i]`; missing entries count as 0.
    public func evaluate(counts: [Double]) -> Double {
        counts.withUnsafeBufferPointer { counts in run { $0 < counts.count ? counts[$0] : 0 } }
    }

    /// Runs the postfix code on a stack-allocated operand stack: no allocation per evaluation.
    private func run(_ count: (Int) -> Double) -> Double {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: stackSize) { stack in
            var pc = 0
            var top = -1  // index of the top operand
            while pc < code.count {
                switch code[pc] {
                case .constant(let value): top += 1; stack[top] = value
                case .rule(let index): top += 1; stack[top] = count(index)
                case .negate: stack[top] = -stack[top]
                case .not: stack[top] = stack[top] == 0 ? 1 : 0
                case .binary(let op):
                    top -= 1
                    guard let result = op.apply(stack[top], stack[top + 1]) else { return 0 }
                    stack[top] = result
                case .chain(let op, let end):
                    top -= 1
                    guard op.apply(stack[top], stack[top + 1]) != 0 else { stack[top] = 0; pc = end; continue }
                    stack[top] = stack[top + 1]
                case .orElse(let end): if stack[top] != 0 { pc = end; continue } else { top -= 1 }
                case .andThen(let end): if stack[top] == 0 { pc = end; continue } else { top -= 1 }
                case .branch(let otherwise): top -= 1; if stack[top + 1] == 0 { pc = otherwise; continue }
                case .jump(let target): pc = target; continue
                }
                pc += 1
            }
            return stack[0]
        }
    }
}

private enum MetaInstruction {
    case constant(Double), rule(Int), negate, not, binary(MetaOperator)
    /// `a < b` within `a < b < c`: pops both, then pushes b, or else 0 and jumps to the chain's end.
    case chain(MetaOperator, end: Int)
    /// `||` and `&&` keep the left operand and jump to `end` when it decides the result, else pop it.
    case orElse(end: Int), andThen(end: Int)
    /// The condition of `?:`: pops it and jumps to the false branch when it is 0.
    case branch(otherwise: Int)
    case jump(Int)
}

/// The tens digit of the raw value is Perl's precedence (perlop), loosest first; unary `! - +`
/// bind tighter than all of these.
private enum MetaOperator: Int {
    case or = 10, and = 20, xor = 30, equal = 40, notEqual, less = 50, greater, lessOrEqual, greaterOrEqual
    case add = 60, subtract, multiply = 70, divide

    var precedence: Int { rawValue / 10 }
    var isComparison: Bool { precedence == 4 || precedence == 5 }

    /// nil for a division by zero.
    func apply(_ a: Double, _ b: Double) -> Double? {
        switch self {
        case .or, .and: preconditionFailure("|| and && compile to jumps")
        case .xor: Double(Self.perlUnsigned(a) ^ Self.perlUnsigned(b))
        case .equal: a == b ? 1 : 0
        case .notEqual: a != b ? 1 : 0
        case .less: a < b ? 1 : 0
        case .greater: a > b ? 1 : 0
        case .lessOrEqual: a <= b ? 1 : 0
        case .greaterOrEqual: a >= b ? 1 : 0
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: b == 0 ? nil : a / b
        }
    }

    /// Perl's bitwise operators work on unsigned integers: fractions truncate, -1 is 2^64-1.
    /// (Perl keeps the integer exact; here results above 2^53 round.)
    private static func perlUnsigned(_ x: Double) -> UInt64 {
        if x.isNaN { return 0 }
        if x < 0 { return UInt64(bitPattern: x >= -0x1p63 ? Int64(x) : Int64.min) }
        return x < 0x1p64 ? UInt64(x) : UInt64.max
    }
}

/// Lexes the text, then compiles it straight into postfix code.
private struct MetaCompiler {
    enum Kind: Equatable {
        case name(Int), number(Double), binary(MetaOperator), not, open, close, question, colon, end
    }
    struct Token { var kind: Kind; var offset: Int; var text: String }

    /// Two-character operators first, so that `<=` is not read as `<`.
    static let operators: [(String, Kind)] = [
        ("||", .binary(.or)), ("&&", .binary(.and)), ("==", .binary(.equal)), ("!=", .binary(.notEqual)),
        ("<=", .binary(.lessOrEqual)), (">=", .binary(.greaterOrEqual)), ("^", .binary(.xor)), ("<", .binary(.less)),
        (">", .binary(.greater)), ("+", .binary(.add)), ("-", .binary(.subtract)), ("*", .binary(.multiply)),
        ("/", .binary(.divide)), ("!", .not), ("(", .open), (")", .close), ("?", .question), (":", .colon),
    ]

    var tokens: [Token] = []
    var names: [String] = []
    var code: [MetaInstruction] = []
    var position = 0, depth = 0, stack = 0, maxStack = 0

    init(_ text: String) throws(MetaExpressionError) {
        let bytes = Array(text.utf8)
        var nameIndex: [String: Int] = [:]
        var i = 0
        func at(_ j: Int) -> UInt8 { j < bytes.count ? bytes[j] : 0 }
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        func isWord(_ b: UInt8) -> Bool {
            b == UInt8(ascii: "_") || isDigit(b) || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z"))
        }
        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        while i < bytes.count {
            let start = i, byte = bytes[i]
            let kind: Kind
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                i += 1; continue
            } else if isWord(byte) && !isDigit(byte) {
                while isWord(at(i)) { i += 1 }
                // SpamAssassin's RULENAME_RE allows 128 characters.
                guard i - start <= 128 else { throw .init("rule name is longer than 128 characters", at: start) }
                let name = string(start..<i), index = nameIndex[name] ?? names.count
                if index == names.count { nameIndex[name] = index; names.append(name) }
                kind = .name(index)
            } else if isDigit(byte) || byte == UInt8(ascii: ".") {
                while isDigit(at(i)) { i += 1 }
                if i > start, at(i) == UInt8(ascii: "."), isDigit(at(i + 1)) { i += 2; while isDigit(at(i)) { i += 1 } }
                guard i > start, at(i) != UInt8(ascii: "."), !isWord(at(i)) else {
                    while isWord(at(i)) || at(i) == UInt8(ascii: ".") { i += 1 }
                    throw .init("malformed number '\(string(start..<i))': write it like 2 or 1.5", at: start)
                }
                kind = .number(Double(string(start..<i)) ?? 0)
            } else if (byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")) && at(i + 1) == byte {
                // Perl reads these as increment and decrement, which SpamAssassin's eval rejects.
                let message = "'\(string(i..<i + 2))' is not an operator; separate the signs with a space"
                throw .init(message, at: i)
            } else if let (op, opKind) = Self.operators.first(where: { bytes[i...].starts(with: $0.0.utf8) }) {
                kind = opKind
                i += op.utf8.count
            } else {
                let scalar = String(decoding: bytes[i..<min(i + 4, bytes.count)], as: UTF8.self).unicodeScalars.first!
                let hint = ["&": " (did you mean '&&'?)", "|": " (did you mean '||'?)", "=": " (did you mean '=='?)"]
                let message = "unknown character '\(scalar.escaped(asASCII: false))'\(hint[String(scalar)] ?? "")"
                throw .init(message, at: i)
            }
            tokens.append(Token(kind: kind, offset: start, text: string(start..<i)))
        }
        tokens.append(Token(kind: .end, offset: bytes.count, text: ""))
    }

    var current: Token { tokens[position] }

    /// An operator waiting for its right operand: operator-precedence parsing with an explicit
    /// stack, so that even hostile nesting costs no machine stack.
    enum Pending {
        case open(token: Int)
        case unary(MetaInstruction?)  // nil for unary plus
        /// `start`: the `||`/`&&` jump to patch, or where a comparison chain begins.
        case binary(MetaOperator, start: Int)
        case question(token: Int, branch: Int)
        case colon(jump: Int)

        var precedence: Int {
            switch self {
            case .open: -1
            case .question, .colon: 0
            case .binary(let op, _): op.precedence
            case .unary: 8
            }
        }
    }
    var pending: [Pending] = []

    mutating func compile() throws(MetaExpressionError) {
        if tokens.map(\.kind) == [.open, .close, .end] { emit(.constant(0)); return }
        if current.kind == .end { throw .init("empty expression", at: 0) }
        var expectOperand = true
        while true {
            if expectOperand {
                switch current.kind {
                case .name(let index): emit(.rule(index)); expectOperand = false
                case .number(let value): emit(.constant(value)); expectOperand = false
                case .open: try push(.open(token: position))
                case .not: try push(.unary(.not))
                case .binary(.subtract): try push(.unary(.negate))
                case .binary(.add): try push(.unary(nil))
                default: throw missingOperand()
                }
                position += 1
                continue
            }
            switch current.kind {
            case .binary(let op) where op.isComparison:
                try reduce(while: op.precedence + 1)
                // Perl 5.32+ chains comparisons of one precedence: `a < b <= c` is `a < b && b <= c`.
                if case .binary(let previous, let start) = pending.last, previous.precedence == op.precedence {
                    emit(.chain(previous, end: 0))  // patched when the chain is finished
                    pending[pending.count - 1] = .binary(op, start: start)
                } else {
                    pending.append(.binary(op, start: code.count))
                }
            case .binary(let op):
                try reduce(while: op.precedence)
                pending.append(.binary(op, start: op == .or || op == .and ? emit(.orElse(end: 0)) : code.count))
            case .question:  // right associative: `a ? b : c ? d : e` keeps the first `:` pending
                try reduce(while: 1)
                try push(.question(token: position, branch: emit(.branch(otherwise: 0))))
            case .colon:
                try reduce(while: 1)
                while case .colon = pending.last { try finish(pending.removeLast()) }
                guard case .question(_, let branch) = pending.last else { throw unexpected() }
                pending[pending.count - 1] = .colon(jump: emit(.jump(0)))
                code[branch] = .branch(otherwise: code.count)
                stack -= 1  // the false branch starts from the stack the true branch started from
            case .close:
                try reduce(while: 0)
                guard case .open = pending.popLast() else { throw unexpected() }
                depth -= 1
                position += 1
                continue
            case .end:
                try reduce(while: 0)
                if case .open(let open) = pending.last {
                    throw .init("'(' is never closed", at: tokens[open].offset)
                }
                return
            default: throw unexpected()
            }
            expectOperand = true
            position += 1
        }
    }

    /// Pushes an operator that opens a nesting level.
    mutating func push(_ entry: Pending) throws(MetaExpressionError) {
        depth += 1
        guard depth <= MetaExpression.maximumDepth else {
            let limit = MetaExpression.maximumDepth
            let message = "nesting deeper than \(limit) levels of parentheses, '?:' and unary operators"
            throw .init(message, at: current.offset)
        }
        pending.append(entry)
    }

    /// Finishes the pending operators of at least `minimum` precedence: their operands are complete.
    mutating func reduce(while minimum: Int) throws(MetaExpressionError) {
        while let top = pending.last, top.precedence >= minimum {
            try finish(pending.removeLast())
        }
    }

    mutating func finish(_ entry: Pending) throws(MetaExpressionError) {
        switch entry {
        case .open: preconditionFailure("parentheses are closed by ')'")
        case .unary(let instruction):
            if let instruction { emit(instruction) }
            depth -= 1
        case .binary(.or, let jump): code[jump] = .orElse(end: code.count)
        case .binary(.and, let jump): code[jump] = .andThen(end: code.count)
        case .binary(let op, let start):
            emit(.binary(op))
            guard op.isComparison else { break }
            // Points this chain's tests at its end; finished chains never end at 0.
            for i in start..<code.count {
                if case .chain(let op, 0) = code[i] { code[i] = .chain(op, end: code.count) }
            }
        case .question(let token, _):
            let message = "'?' at offset \(tokens[token].offset) has no matching ':'"
            throw .init(message, at: current.offset)
        case .colon(let jump):
            code[jump] = .jump(code.count)
            depth -= 1
        }
    }

    /// The error for the current token, which cannot follow a complete operand.
    func unexpected() -> MetaExpressionError {
        let token = current, previous = tokens[position - 1]
        if token.kind == .open, case .name = previous.kind, previous.offset + previous.text.utf8.count == token.offset {
            return .init("'\(previous.text)(' is a function call, which is not supported", at: token.offset)
        }
        switch token.kind {
        case .close: return .init("')' has no matching '('", at: token.offset)
        case .colon: return .init("':' without '?'", at: token.offset)
        default: return .init("missing operator between '\(previous.text)' and '\(token.text)'", at: token.offset)
        }
    }

    /// The error for the current token, which is not the rule name, number, `(` or unary operator expected.
    func missingOperand() -> MetaExpressionError {
        let token = current, previous = position > 0 ? tokens[position - 1] : nil
        switch (token.kind, previous?.kind) {
        case (.end, .open?): return .init("'(' is never closed", at: previous!.offset)
        case (.close, .open?): return .init("empty parentheses", at: previous!.offset)
        case (.end, _?), (.close, _?): return .init("'\(previous!.text)' has no right operand", at: previous!.offset)
        case (.close, nil): return .init("')' has no matching '('", at: token.offset)
        default: return .init("missing operand before '\(token.text)'", at: token.offset)
        }
    }

    /// Appends an instruction, tracking the operand stack depth it leaves on the fall-through path.
    @discardableResult
    mutating func emit(_ instruction: MetaInstruction) -> Int {
        switch instruction {
        case .constant, .rule: stack += 1
        case .binary, .chain, .orElse, .andThen, .branch: stack -= 1
        case .negate, .not, .jump: break
        }
        maxStack = max(maxStack, stack)
        code.append(instruction)
        return code.count - 1
    }
}
