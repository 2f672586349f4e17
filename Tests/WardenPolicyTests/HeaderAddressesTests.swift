import Testing

@testable import WardenPolicy

@Suite struct HeaderAddressesTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let raw: String
        let entries: [HeaderAddresses.Entry]
        /// The `:name` values: phrases RFC 2047-decoded, whitespace squeezed, trimmed, quotes dropped.
        let names: [String]
        init(_ raw: String, _ entries: [HeaderAddresses.Entry], names: [String]) {
            self.raw = raw
            self.entries = entries
            self.names = names
        }
        var testDescription: String { raw.debugDescription }
    }

    static func E(_ address: String?, _ phrase: String?) -> HeaderAddresses.Entry {
        HeaderAddresses.Entry(address: address, phrase: phrase)
    }

    /// The expected values are SpamAssassin 4.0.1's own, obtained by running its functions on each
    /// input (as a byte string, as SpamAssassin passes header values) with Debian's spamassassin,
    /// Email::Address::XS 1.05 and Net::LibIDN2 installed; `names` as `PerMsgStatus::_get` makes
    /// `:name` values:
    ///
    ///     perl -MMail::SpamAssassin::Util -MMail::SpamAssassin::Message::Node -e '
    ///       for (Mail::SpamAssassin::Util::parse_header_addresses($ARGV[0])) {
    ///         print join(" | ", map { $_ // "(undef)" } $_->{address}, $_->{phrase}), "\n";
    ///         next unless defined $_->{phrase};
    ///         my $n = Mail::SpamAssassin::Message::Node::_decode_header($_->{phrase}, "From");
    ///         if ($n =~ /\S/) { $n =~ s/\s+/ /g; $n =~ s/^\s+//; $n =~ s/\s+$//; $n =~ s/^\x27(.*?)\x27$/$1/ }
    ///         print "name: $n\n" }' "$raw"
    static let cases: [Case] = [
        Case("user@example.com", [E("user@example.com", nil)], names: []),
        Case("John Doe <john@example.com>", [E("john@example.com", "John Doe ")], names: ["John Doe"]),
        Case("\"Doe, John\" <john@example.com>", [E("john@example.com", "Doe, John ")], names: ["Doe, John"]),
        Case(
            "\"John \\\"JD\\\" Doe\" <jd@example.com>",
            [E("jd@example.com", "John \"JD\" Doe ")],
            names: ["John \"JD\" Doe"]),
        Case("john@example.com (John Doe)", [E("john@example.com", "John Doe")], names: ["John Doe"]),
        Case("a@example.com, b@example.org", [E("a@example.com", nil), E("b@example.org", nil)], names: []),
        Case("undisclosed-recipients:;", [], names: []),
        Case("Group: a@b.example, c@d.example;", [E("a@b.example", nil), E("c@d.example", nil)], names: []),
        Case(
            "\"Folded\n Name\" <fold@example.com>",
            [E("fold@example.com", "Folded\n Name ")],
            names: ["Folded Name"]),
        Case(
            "Folded Name\n\t<fold@example.com>,\n second@example.com",
            [E("fold@example.com", "Folded Name\n\t"), E("second@example.com", nil)],
            names: ["Folded Name"]),
        Case("Name <>", [E(nil, "Name ")], names: ["Name"]),
        Case("<>", [E(nil, nil)], names: []),
        Case("Bad Host <user@invalid_host>", [E("user@invalid_host", "Bad Host ")], names: ["Bad Host"]),
        Case("\"user@localhost\"", [E(nil, "user@localhost")], names: ["user@localhost"]),
        Case("\"user@example.com\"", [E("user@example.com", nil)], names: []),
        Case("user@münchen.de", [E("user@münchen.de", nil)], names: []),
        Case("\"info@bücher.example\"", [E("info@bücher.example", nil)], names: []),
        Case("Jörg <jorg@example.com>", [E("jorg@example.com", "Jörg ")], names: ["Jörg"]),
        Case(
            "=?UTF-8?B?Sm9obiBEb2U=?= <john@example.com>",
            [E("john@example.com", "=?UTF-8?B?Sm9obiBEb2U=?= ")],
            names: ["John Doe"]),
        Case(
            "=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
            [E("PIRARD@vm1.ulg.ac.be", "=?ISO-8859-1?Q?Andr=E9?= Pirard ")],
            names: ["André Pirard"]),
        Case(
            "john@example.com trailing junk",
            [E(nil, "john@example.com trailing junk")],
            names: ["john@example.com trailing junk"]),
        Case("<@route.example,@other.example:user@example.com>", [E(nil, nil)], names: []),
        Case("Name <user@example.com", [E("user@example.com", "Name")], names: ["Name"]),
        Case(
            "user@example.com (comment (nested) here)",
            [E(nil, "user@example.com (comment  here)")],
            names: ["user@example.com (comment here)"]),
        Case(
            "a@example.com (x), b@example.com (y (z))",
            [E("a@example.com", "x"), E(nil, "b@example.com (y )")],
            names: ["x", "b@example.com (y )"]),
        Case("=?UTF-8?Q?\"Foobar\"_<noreply@foobar.com>?=", [E("noreply@foobar.com", nil)], names: []),
        Case(
            "=?utf-8?Q?\"Foobar\"?=<info=foobar.com@mlsend.com>",
            [E("info=foobar.com@mlsend.com", "=?utf-8?Q?Foobar?=")],
            names: ["Foobar"]),
        Case("Name <user@example.com> <dup@example.com>", [E("user@example.com", "Name ")], names: ["Name"]),
        Case("'John Doe' <john@example.com>", [E("john@example.com", "'John Doe' ")], names: ["John Doe"]),
        Case("John Doe", [E(nil, "John Doe")], names: ["John Doe"]),
        Case(
            "\"Smith, A\" <a@x.example>, \"Smith, B\" <b@x.example>",
            [E("a@x.example", "Smith, A "), E("b@x.example", "Smith, B ")],
            names: ["Smith, A", "Smith, B"]),
        Case("Dr. Who <who@example.com>", [E("who@example.com", "Dr. Who ")], names: ["Dr. Who"]),
        Case("\"a b\"@example.com", [E("\"a b\"@example.com", nil)], names: []),
        Case("user@[192.168.0.1]", [E("user@[192.168.0.1]", nil)], names: []),
        Case("<user@example.com>", [E("user@example.com", nil)], names: []),
        Case("  spaced@example.com  ", [E("spaced@example.com", nil)], names: []),
        Case("a@b.example; c@d.example", [E("a@b.example", nil), E("c@d.example", nil)], names: []),
        Case("\"\" <empty@example.com>", [E("empty@example.com", " ")], names: [" "]),
        Case("Name <user(comment)@example.com>", [E("user@example.com", "Name ")], names: ["Name"]),
        Case("Back\\\\slash <bs@example.com>", [E("bs@example.com", "Backslash ")], names: ["Backslash"]),
        Case(
            "Alice <alice@example.com>, Bob",
            [E("alice@example.com", "Alice "), E(nil, "Bob")],
            names: ["Alice", "Bob"]),
        Case("a, b, c", [E(nil, "a"), E(nil, "b"), E(nil, "c")], names: ["a", "b", "c"]),
        Case("\"Unterminated <u@example.com>", [E("u@example.com", nil)], names: []),
        Case("x@y.example, , z@w.example", [E("x@y.example", nil), E(nil, " "), E("z@w.example", nil)], names: [" "]),
        Case(
            "\"Joe Q. Public\" <john.q.public@example.com>, Mary Smith <mary@x.test>, "
                + "jdoe@example.org, Who? <one@y.test>",
            [
                E("john.q.public@example.com", "Joe Q. Public "),
                E("mary@x.test", "Mary Smith "),
                E("jdoe@example.org", nil),
                E("one@y.test", "Who? "),
            ],
            names: ["Joe Q. Public", "Mary Smith", "Who?"]),
        Case(
            "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
            [E("pete@silly.test", "Pete")],
            names: ["Pete"]),
        Case(
            "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
            [E("c@a.test", "Ed Jones "), E("joe@where.test", nil), E("jdoe@one.test", "John ")],
            names: ["Ed Jones", "John"]),
        Case(
            "Mary Smith <mary@x.test>, <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
            [
                E("mary@x.test", "Mary Smith "),
                E("boss@nil.test", nil),
                E("sysservices@example.net", "Giant; \"Big\" Box "),
            ],
            names: ["Mary Smith", "Giant; \"Big\" Box"]),
        Case("user@example.com.", [E("user@example.com.", nil)], names: []),
        Case("a..b@example.com", [E("a..b@example.com", nil)], names: []),
        Case("Name <user@example.com> (Comment)", [E("user@example.com", "Name ")], names: ["Name"]),
        Case("(Only a comment)", [E(nil, nil)], names: []),
        Case("John <j@example.com>\n", [E("j@example.com", "John ")], names: ["John"]),
        Case("Name <a@example.com> <x>y>", [E("a@example.com", "Name ")], names: ["Name"]),
        Case("<a@example.com>x>", [E(nil, nil)], names: []),
        Case("Name <a b@example.com>", [E(nil, "Name ")], names: ["Name"]),
        Case("Name < user@example.com >", [E("user@example.com", "Name ")], names: ["Name"]),
        Case(
            "\"x@example.com\n\" <real@example.com>",
            [E("real@example.com", "x@example.com\n ")],
            names: ["x@example.com"]),
        Case(
            "one@example.com, two@example.com, \"Three, Four\" <t@example.com>, (c1) five@example.com",
            [
                E("one@example.com", nil),
                E("two@example.com", nil),
                E("t@example.com", "Three, Four "),
                E(nil, " five@example.com"),
            ],
            names: ["Three, Four", "five@example.com"]),
        Case(
            "Nested (a (b) c) <n@example.com>, other@example.com",
            [E("n@example.com", "Nested (a  c) "), E("other@example.com", nil)],
            names: ["Nested (a c)"]),
        Case("<> (Mail Delivery System)", [E(nil, "Mail Delivery System")], names: ["Mail Delivery System"]),
        Case("user", [E(nil, "user")], names: ["user"]),
        Case("\"Quoted only\"", [E(nil, "Quoted only")], names: ["Quoted only"]),
        Case(
            "=?UTF-8?Q?Caf=C3=A9_Owner?= <owner@cafe.example>, =?UTF-8?B?w4lsaXNl?= <elise@example.org>",
            [E("owner@cafe.example", "=?UTF-8?Q?Caf=C3=A9_Owner?= "), E("elise@example.org", "=?UTF-8?B?w4lsaXNl?= ")],
            names: ["Café Owner", "Élise"]),
        Case(
            "Name <user@example.com>, garbage <, last@example.com",
            [E("user@example.com", "Name"), E(nil, "garbage"), E("last@example.com", nil)],
            names: ["Name", "garbage"]),
        Case("a@b@c.example", [E("a@b", nil)], names: []),
        Case("<\"odd name\"@example.com>", [E("\"odd name\"@example.com", nil)], names: []),
        Case("\"John\" Smith <js@example.com>", [E("js@example.com", "John Smith ")], names: ["John Smith"]),
        Case("g1: a@x.example;, b@y.example", [E("a@x.example", nil), E("b@y.example", nil)], names: []),
        Case(
            "a@example.com, \"b, c\" d <x@example.com> junk, e@example.com",
            [E("a@example.com", nil), E("x@example.com", nil)],
            names: []),
        Case("Weird <a@example.com> extra, b@example.com", [E("a@example.com", nil)], names: []),
        Case(
            "user@example.com, <broken@, ok@example.com",
            [
                E("user@example.com", nil),
                E(nil, "user@example.com, <broken@, ok@example.com"),
                E("ok@example.com", nil),
            ],
            names: ["user@example.com, <broken@, ok@example.com"]),
        Case(
            "\"joe@example.com\", garbage <",
            [E(nil, "\"joe@example.com\", garbage <"), E(nil, "garbage")],
            names: ["\"joe@example.com\", garbage <", "garbage"]),
        Case(
            "Folded\n <f@example.com>, g@example.com (G (nested)), h@example.com",
            [E("f@example.com", "Folded\n "), E(nil, "g@example.com (G )"), E("h@example.com", nil)],
            names: ["Folded", "g@example.com (G )"]),
        Case(
            "x (a, b) y <z@example.com>, w@example.com",
            [E(nil, "x (a"), E("z@example.com", "b) y "), E("w@example.com", nil)],
            names: ["x (a", "b) y"]),
        Case(
            "\"Last, First\" <lf@example.com>, broken\"quote <bq@example.com>",
            [E("lf@example.com", "Last, First "), E("bq@example.com", nil)],
            names: ["Last, First"]),
        Case(
            "first.last@example.com.au, (comment) <c@example.com>, , trailing@example.com,",
            [
                E("first.last@example.com.au", nil),
                E("c@example.com", " "),
                E(nil, " "),
                E("trailing@example.com", nil),
            ],
            names: [" ", " "]),
        Case(
            "Bob Jones <bob@example.com>, =?UTF-8?Q?J=C3=BCrgen?= <j@example.de>, Foo <foo@bar@baz.example>, x",
            [
                E("bob@example.com", "Bob Jones "),
                E("j@example.de", "=?UTF-8?Q?J=C3=BCrgen?= "),
                E("foo@bar", "Foo "),
                E(nil, "x"),
            ],
            names: ["Bob Jones", "Jürgen", "Foo", "x"]),
        Case(
            "<@a.example:u@example.com>, v@example.com, , w@example.com",
            [E(nil, nil), E("v@example.com", nil), E(nil, " "), E("w@example.com", nil)],
            names: [" "]),
        Case("Name <> >", [E(nil, "Name ")], names: ["Name"]),
        Case("<ab>c>, d@example.com", [E(nil, nil), E("d@example.com", nil)], names: []),
        Case(
            "Name <a@example.com> < \"q r\"x> >, next@example.com",
            [E("a@example.com", "Name "), E("next@example.com", nil)],
            names: ["Name"]),
        Case(
            "\"a@b.example\"\n, other@example.com",
            [E("a@b.example\n", nil), E("other@example.com", nil)],
            names: []),
        Case("\"x@b.com\n\"", [E("x@b.com\n", nil)], names: []),
        Case(
            "jo@example.com (Jo), (just comment) , ann@example.com",
            [E("jo@example.com", "Jo"), E(nil, " "), E("ann@example.com", nil)],
            names: ["Jo", " "]),
        Case("Ann <ann@example.com>\n (The Boss)", [E("ann@example.com", "Ann ")], names: ["Ann"]),
        Case(
            "a@example.com,,b@example.com",
            [E("a@example.com", nil), E(nil, "a@example.com,,b@example.com"), E("b@example.com", nil)],
            names: ["a@example.com,,b@example.com"]),
        Case(":;", [E(nil, ":")], names: [":"]),
        Case("  ", [], names: []),
        Case("\"Trailing backslash\\\" <t@example.com>", [E("t@example.com", nil)], names: []),
        Case("<a@[1.2.3.4]>, <b@[bad host]>", [E("a@[1.2.3.4]", nil), E("b@[bad host]", nil)], names: []),
        Case("Name\t<tab@example.com>\t(c)\t;", [E("tab@example.com", "Name\t")], names: ["Name"]),
        Case(
            "=?UTF-8?B?Sm9obg==?=\n =?UTF-8?B?IERvZQ==?= <jd@example.com>",
            [E("jd@example.com", "=?UTF-8?B?Sm9obg==?=\n =?UTF-8?B?IERvZQ==?= ")],
            names: ["John Doe"]),
        Case(
            "user@sub_domain.example.com, user@example_bad.com",
            [E("user@sub_domain.example.com", nil), E("user@example_bad.com", nil)],
            names: []),
        Case("<user@example.com> trailing", [E("user@example.com", nil)], names: []),
        Case("G: (c) a@x.example (d), ;", [E(nil, " a@x.example "), E(nil, " ")], names: ["a@x.example", " "]),
        Case(
            "\"Smith, J.\" <j@x.example>, \"broken <",
            [E("j@x.example", "Smith, J."), E(nil, "\"Smith, J.\" <j@x.example>, \"broken <")],
            names: ["Smith, J.", "\"Smith, J.\" <j@x.example>, \"broken <"]),
        Case("a@x.example (unterminated", [E(nil, "a@x.example (unterminated")], names: ["a@x.example (unterminated"]),
        Case(
            "u@sub_d.ex.com ()\n \"a\\\"b\" (<u@sub_d.ex.com> Dr. X <x@[1.2.>3.4]>;<a@b> x>)",
            [E(nil, "u@sub_d.ex.com \n a\"b")],
            names: ["u@sub_d.ex.com a\"b"]),
        Case("x\"a\\\nb\"c", [E(nil, "x\"a\\\nb\"c")], names: ["x\"a\\b\"c"]),
        Case(
            "x\"a\\\nb\"c, d@example.com",
            [E(nil, "x\"a\\\nb\"c, d@example.com")],
            names: ["x\"a\\b\"c, d@example.com"]),
        Case(".@,;a'a", [E(nil, ".@")], names: [".@"]),
        Case(
            "a..b@example.com, broken <, .c@example.com, d.@example.com",
            [
                E("a..b@example.com", nil),
                E(nil, "broken"),
                E(nil, "a..b@example.com, broken <, .c@example.com, d.@example.com"),
            ],
            names: ["broken", "a..b@example.com, broken <, .c@example.com, d.@example.com"]),
        Case(
            "\"u@bücher.example\", garbage <",
            [E(nil, "\"u@bücher.example\", garbage <"), E(nil, "garbage")],
            names: ["\"u@bücher.example\", garbage <", "garbage"]),
        Case("\"u@ab--c.ü.example\"", [E(nil, "u@ab--c.ü.example")], names: ["u@ab--c.ü.example"]),
        Case("\"joe@example.com\n\", x <", [E("joe@example.com\n", nil), E(nil, "x")], names: ["x"]),
        Case("\"u@e.com\0x\"", [E("u@e.com\0x", nil)], names: []),
        Case("\"u@ab--c.com\n\"", [E("u@ab--c.com\n", nil)], names: []),
    ]

    @Test(arguments: cases)
    func parsesAsSpamAssassin(_ test: Case) {
        #expect(HeaderAddresses.parse(test.raw) == test.entries)
        #expect(HeaderAddresses.addresses(test.raw) == test.entries.compactMap(\.address))
        #expect(HeaderAddresses.names(test.raw, decodeWords: nil) == test.entries.compactMap(\.phrase))
    }

    /// `Message::Node::_decode_header` as far as these inputs need: line breaks dropped (a tab
    /// after one made a space), encoded words decoded; an all-blank phrase stays as it is.
    static func decodeWords(_ phrase: String) -> String {
        var bytes: [UInt8] = []
        for byte in phrase.utf8 { bytes.append(byte == 0x09 && bytes.last == 0x0A ? 0x20 : byte) }
        bytes.removeAll { $0 == 0x0A }
        let unfolded = String(decoding: bytes, as: UTF8.self)
        return unfolded.contains("=?") ? MIMEHeaderText.decoded(bytes, name: "From") : unfolded
    }

    @Test(arguments: cases)
    func decodedNamesAsSpamAssassin(_ test: Case) {
        #expect(HeaderAddresses.names(test.raw, decodeWords: Self.decodeWords) == test.names)
    }

    /// Long and hostile values, expected values again from SpamAssassin (which takes seconds on
    /// some of them).
    @Test func hostileValues() {
        let many = (0..<3000).map { "User \($0) <u\($0)@example.com>" }.joined(separator: ", ")
        #expect(HeaderAddresses.parse(many) == (0..<3000).map { Self.E("u\($0)@example.com", "User \($0) ") })
        let enclosures = "Name <a@b.example>" + String(repeating: "<x>", count: 20000)
        #expect(HeaderAddresses.parse(enclosures) == [Self.E(nil, "Name ")])
        #expect(HeaderAddresses.parse("<" + String(repeating: ">", count: 20000)) == [Self.E(nil, nil)])
        #expect(HeaderAddresses.parse("a@b.com " + String(repeating: "<", count: 20000)) == [Self.E("a@b.com", nil)])
        let blanks = String(repeating: " ,", count: 10000)
        #expect(HeaderAddresses.parse(blanks) == Array(repeating: Self.E(nil, " "), count: 10000))
    }
}
