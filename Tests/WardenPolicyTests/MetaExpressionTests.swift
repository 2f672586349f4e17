import Testing

@testable import WardenPolicy

@Suite struct MetaExpressionTests {
    // MARK: Parsing

    /// (expression, the rule names it references)
    @Test(arguments: [
        ("A && B || A", ["A", "B"]),
        ("(__A && !__B) || (RULE_C + RULE_D > 1)", ["__A", "__B", "RULE_C", "RULE_D"]),
        ("2 > 1.5", []),
        ("a_b1 + _x9 + a + A", ["a_b1", "_x9", "a", "A"]),
        ("\tA\n&&\r\nB", ["A", "B"]),
        ("A+B-C", ["A", "B", "C"]),
        ("()", []),
        ("( )", []),
        (String(repeating: "N", count: 128), [String(repeating: "N", count: 128)]),
    ])
    func ruleNames(expression: String, names: [String]) throws {
        #expect(try MetaExpression(parsing: expression).ruleNames == names)
    }

    // MARK: Evaluation (every expected value checked with perl 5.36, names replaced by their counts)

    /// (expression, hit counts of the rules that hit, result)
    @Test(arguments: [
        // || and && return an operand, as in Perl.
        ("A || B", ["B": 3], 3),
        ("A || B", ["A": 2, "B": 3], 2),
        ("(A || 3) + 1", [:], 4),
        ("(A && B) + 1", ["A": 2, "B": 5], 6),
        ("(A && B) + 1", ["B": 5], 1),
        ("A && B", ["A": 2], 0),
        ("!A", ["A": 3], 0),
        ("!A", [:], 1),
        ("!!A", ["A": 5], 1),
        // Precedence.
        ("A + B > 1 && !C", ["A": 1, "B": 1], 1),
        ("A + B > 1 && !C", ["A": 1, "B": 1, "C": 1], 0),
        ("A + B > 1 && !C", ["A": 1], 0),
        ("1 + 2 * 3", [:], 7),
        ("(1 + 2) * 3", [:], 9),
        ("8 / 2 / 2", [:], 2),
        ("1 - 2 - 3", [:], -4),
        ("A - B * C", ["A": 5, "B": 2, "C": 2], 1),
        ("-A * 2", ["A": 3], -6),
        ("!A + 1", [:], 2),
        ("- -A", ["A": 3], 3),
        ("+A", ["A": 3], 3),
        ("A+-B", ["A": 3, "B": 1], 2),
        // Arithmetic metas and decimals.
        ("(A + B + C) >= 2", ["A": 1, "C": 1], 1),
        ("(A + B + C) >= 2", ["A": 1], 0),
        ("7 / 2", [:], 3.5),
        ("A * 0.5", ["A": 3], 1.5),
        ("A > 1.5", ["A": 2], 1),
        // Comparisons, chained as in Perl 5.32+.
        ("A == 2", ["A": 2], 1),
        ("A != 2", ["A": 2], 0),
        ("A <= B", ["A": 2, "B": 2], 1),
        ("A >= B", ["A": 1, "B": 2], 0),
        ("1 < A < 4", ["A": 2], 1),
        ("1 < A < 4", ["A": 4], 0),
        ("A == B == C", ["A": 1, "B": 1, "C": 1], 1),
        ("A < B > C", ["A": 1, "B": 2], 1),
        ("A < B == B < A", ["A": 1, "B": 2], 0),
        // ^ is Perl's integer XOR, between == and && in precedence.
        ("A ^ B", ["A": 3, "B": 1], 2),
        ("A == 1 ^ B == 1", ["A": 1], 1),
        ("2 ^ 1 == 1", [:], 3),
        ("A ^ 0", ["A": 1.7], 1),
        // ?: is right associative and looser than ||.
        ("A ? B : C", ["A": 1, "B": 5, "C": 7], 5),
        ("A ? B : C", ["B": 5, "C": 7], 7),
        ("A ? 1 : B ? 2 : 3", ["B": 1], 2),
        ("A ? 1 : B ? 2 : 3", [:], 3),
        ("A || B ? 5 : 6", [:], 6),
        ("A ? B ? 1 : 2 : 3", ["A": 1], 2),
        // Unknown rules count 0.
        ("(__A && !__B) || (RULE_C + RULE_D > 1)", ["__A": 1, "RULE_C": 2], 1),
        ("(__A && !__B) || (RULE_C + RULE_D > 1)", ["__A": 1, "__B": 1, "RULE_C": 1], 0),
        ("NOT_DEFINED || 0", ["OTHER": 4], 0),
        // A division by zero that Perl reaches kills the meta; one that || && ?: skip does not.
        ("A / B", ["A": 1], 0),
        ("!(A / B)", ["A": 1], 0),
        ("1 + 1 / A", [:], 0),
        ("A || B / C", ["A": 1], 1),
        ("A == 0 || 1 / A > 0.5", [:], 1),
        ("A ? 1 / A : 2", [:], 2),
        ("!(1 > 2 > 1 / A)", [:], 1),
        // SpamAssassin's rule declaration.
        ("()", ["A": 1], 0),
    ] as [(String, [String: Double], Double)])
    func evaluation(expression: String, counts: [String: Double], result: Double) throws {
        let meta = try MetaExpression(parsing: expression)
        #expect(meta.evaluate { counts[$0] ?? 0 } == result)
        #expect(meta.evaluate(counts: meta.ruleNames.map { counts[$0] ?? 0 }) == result)
    }

    @Test func countsAreIndexedLikeRuleNames() throws {
        let meta = try MetaExpression(parsing: "B * 100 + A * 10 + C")
        #expect(meta.ruleNames == ["B", "A", "C"])
        #expect(meta.evaluate(counts: [1, 2, 3]) == 123)
        #expect(meta.evaluate(counts: [1, 2]) == 120)  // missing entries count 0
        #expect(meta.evaluate(counts: []) == 0)
    }

    @Test func evaluatesRepeatedly() throws {
        let meta = try MetaExpression(parsing: "(A + B + C) >= 2 && !(D / E)")
        for a in 0..<3 {
            for e in 0..<2 {
                let counts: [Double] = [Double(a), 1, 0, 0, Double(e)]
                #expect(meta.evaluate(counts: counts) == (a >= 1 && e == 1 ? 1 : 0))
            }
        }
    }

    // MARK: Errors

    /// (expression, message, byte offset)
    @Test(arguments: [
        ("", "empty expression", 0),
        ("  \t ", "empty expression", 0),
        ("(A && B", "'(' is never closed", 0),
        ("A && (B || C", "'(' is never closed", 5),
        ("A && (", "'(' is never closed", 5),
        ("A)", "')' has no matching '('", 1),
        (") A", "')' has no matching '('", 0),
        ("A && ()", "empty parentheses", 5),
        ("A &&", "'&&' has no right operand", 2),
        ("A + ", "'+' has no right operand", 2),
        ("!", "'!' has no right operand", 0),
        ("(A &&)", "'&&' has no right operand", 3),
        ("&& A", "missing operand before '&&'", 0),
        ("A && || B", "missing operand before '||'", 5),
        ("A * / B", "missing operand before '/'", 4),
        ("A B", "missing operator between 'A' and 'B'", 2),
        ("A 1", "missing operator between 'A' and '1'", 2),
        ("(A) (B)", "missing operator between ')' and '('", 4),
        ("A !B", "missing operator between 'A' and '!'", 2),
        ("A(B)", "'A(' is a function call, which is not supported", 1),
        ("A (B)", "missing operator between 'A' and '('", 2),
        ("A ? (B : C)", "':' without '?'", 7),
        ("(A ? B) : C", "'?' at offset 3 has no matching ':'", 6),
        ("A ? B : C : D", "':' without '?'", 10),
        ("(A : B)", "':' without '?'", 3),
        ("rules_matching(__FOO*)", "'rules_matching(' is a function call, which is not supported", 14),
        ("A & B", "unknown character '&' (did you mean '&&'?)", 2),
        ("A | B", "unknown character '|' (did you mean '||'?)", 2),
        ("A = 1", "unknown character '=' (did you mean '=='?)", 2),
        ("A && $B", "unknown character '$'", 5),
        ("A ∧ B", "unknown character '∧'", 2),
        ("A && é", "unknown character 'é'", 5),
        ("A -- B", "'--' is not an operator; separate the signs with a space", 2),
        ("A ++B", "'++' is not an operator; separate the signs with a space", 2),
        ("A ? B", "'?' at offset 2 has no matching ':'", 5),
        ("A : B", "':' without '?'", 2),
        ("A:B", "':' without '?'", 1),
        ("A ? : B", "missing operand before ':'", 4),
        (".5 + A", "malformed number '.5': write it like 2 or 1.5", 0),
        ("A > 1.", "malformed number '1.': write it like 2 or 1.5", 4),
        ("1.2.3", "malformed number '1.2.3': write it like 2 or 1.5", 0),
        ("A > 2abc", "malformed number '2abc': write it like 2 or 1.5", 4),
        ("A + " + String(repeating: "N", count: 129), "rule name is longer than 128 characters", 4),
    ])
    func errors(expression: String, message: String, offset: Int) {
        #expect(throws: MetaExpressionError(message: message, offset: offset)) {
            try MetaExpression(parsing: expression)
        }
    }

    // MARK: Nesting

    static let tooDeep = "nesting deeper than 200 levels of parentheses, '?:' and unary operators"

    @Test func nestingUpToTheLimit() throws {
        let parens = String(repeating: "(", count: 200) + "A" + String(repeating: ")", count: 200)
        #expect(try MetaExpression(parsing: parens).evaluate { _ in 3 } == 3)
        let nots = String(repeating: "!", count: 200) + "A"
        #expect(try MetaExpression(parsing: nots).evaluate { _ in 3 } == 1)
        let conditionals = String(repeating: "A ? 1 : ", count: 200) + "2"
        #expect(try MetaExpression(parsing: conditionals).evaluate { _ in 0 } == 2)
        // Every binary operator at every level, so the parser recurses as deep as it can.
        let operators = ["||", "&&", "^", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/"]
        let mixed = (0..<200).map { "A \(operators[$0 % operators.count]) (" }.joined() + "A"
            + String(repeating: ")", count: 200)
        #expect(try MetaExpression(parsing: mixed).ruleNames == ["A"])
    }

    @Test(arguments: [
        (String(repeating: "(", count: 201) + "A" + String(repeating: ")", count: 201), 200),
        (String(repeating: "!", count: 201) + "A", 200),
        (String(repeating: "- ", count: 201) + "A", 400),
        (String(repeating: "A ? 1 : ", count: 201) + "2", 200 * 8 + 2),
    ])
    func nestingBeyondTheLimit(expression: String, offset: Int) {
        #expect(throws: MetaExpressionError(message: Self.tooDeep, offset: offset)) {
            try MetaExpression(parsing: expression)
        }
    }

    @Test func hostileNestingFailsAtTheLimit() {
        #expect(throws: MetaExpressionError(message: Self.tooDeep, offset: 200)) {
            try MetaExpression(parsing: String(repeating: "(", count: 10_000))
        }
    }

    @Test func longFlatExpressionsDoNotRecurse() throws {
        let sum = try MetaExpression(parsing: Array(repeating: "A", count: 10_000).joined(separator: " + "))
        #expect(sum.evaluate { _ in 1 } == 10_000)
        let chain = try MetaExpression(parsing: Array(repeating: "A", count: 10_000).joined(separator: " || "))
        #expect(chain.evaluate { _ in 0 } == 0)
    }
}
