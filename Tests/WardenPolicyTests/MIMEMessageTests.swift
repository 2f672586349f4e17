import Testing

@testable import WardenPolicy

/// `MIMEMessage` on whole messages. Every `body`, `rawBody`, `uris` and decoded header value
/// expected here is what SpamAssassin 4.0.1 produced for the same bytes
/// (`get_decoded_stripped_body_text_array`, `get_decoded_body_text_array` converted to UTF-8,
/// `get_uri_list`, `get_all_headers`), dumped with `Mail::SpamAssassin->parse` and `check` under
/// `local_tests_only` and pasted here; the tests never run Perl. SpamAssassin's URI list is a set,
/// so `uris` is compared as one (`MIMEURITests` checks the order). To dump a message the same way
/// (Debian's `spamassassin` package; `rawbody` here joins the parts' text as `MIMEMessage` does):
///
///     perl -MMail::SpamAssassin -e '
///       my $sa = Mail::SpamAssassin->new({local_tests_only => 1}); $sa->init(1);
///       my $m = $sa->parse(do { local $/; <STDIN> }, 1); my $s = $sa->check($m);
///       print "body: ", join("", @{$s->get_decoded_stripped_body_text_array}), "\n";
///       print "uri: $_\n" for $s->get_uri_list;
///       print "header: $_" for $m->get_all_headers(0)' < message.eml
@Suite struct MIMEMessageTests {
    // MARK: plainText

    static let plain: [UInt8] = Array(
        #"""
        From: Alice <alice@example.com>
        To: bob@example.org
        Subject: Lunch =?utf-8?q?at_the_caf=C3=A9?=
         tomorrow?
        Date: Mon, 1 Jan 2024 10:00:00 +0000
        Content-Type: text/plain; charset=us-ascii

        Hi Bob,

        Shall we meet at noon?   The menu is at www.example.com/menu,
        and the map at http://maps.example.org/?q=cafe&z=3.


        Write to me at alice@example.com (or mailto:bob@example.org?subject=lunch).
        See example.info/page, not example.invalid/page.

        """#.utf8)

    /// A text/plain message: the decoded, unfolded Subject leads `body`, runs of whitespace are
    /// one space, blank lines make paragraphs, and links come from the text (`www.`, `http://`,
    /// addresses, `mailto:` and schemeless names under a known top-level domain only).
    @Test func plainText() {
        let message = MIMEMessage(bytes: Self.plain)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "Lunch at the café tomorrow?",
                "Hi Bob,",
                "Shall we meet at noon? The menu is at www.example.com/menu, and the map at http://maps.example.org/?q=cafe&z=3.",
                "Write to me at alice@example.com (or mailto:bob@example.org?subject=lunch). See example.info/page, not example.invalid/page. "
            ),
            rawBody: lines(
                "Hi Bob,",
                "",
                "Shall we meet at noon?   The menu is at www.example.com/menu,",
                "and the map at http://maps.example.org/?q=cafe&z=3.",
                "",
                "",
                "Write to me at alice@example.com (or mailto:bob@example.org?subject=lunch).",
                "See example.info/page, not example.invalid/page.",
                ""),
            uris: [
                "http://example.info/page",
                "http://maps.example.org/?q=cafe&z=3",
                "http://www.example.com/menu",
                "mailto:alice@example.com",
                "mailto:bob@example.org",
                "mailto:bob@example.org?subject=lunch",
            ],
            headers: [
                ("From", "Alice <alice@example.com>"),
                ("To", "bob@example.org"),
                ("Subject", "Lunch at the café tomorrow?"),
                ("Date", "Mon, 1 Jan 2024 10:00:00 +0000"),
                ("Content-Type", "text/plain; charset=us-ascii"),
            ])
        #expect(message.problems == [])
    }

    // MARK: multipartAlternative

    static let alternative: [UInt8] = Array(
        #"""
        From: shop@example.com
        Subject: Sale
        MIME-Version: 1.0
        Content-Type: multipart/alternative; boundary="==alt=="

        This preamble is not shown.

        --==alt==
        Content-Type: text/plain; charset=us-ascii

        Big sale today.
        Shop at http://shop.example.com/sale
        --==alt==
        Content-Type: text/html; charset=us-ascii

        <html><head><title>Sale</title></head>
        <body><p>Big <b>sale</b> today.</p>
        <p><a href="http://shop.example.com/sale">Shop now</a></p></body></html>
        --==alt==--
        This epilogue is not shown either.

        """#.utf8)

    /// Both alternatives are read, as SpamAssassin reads them: the plain part, then the rendered
    /// HTML (whose `<title>` counts as text); the preamble and epilogue are not.
    @Test func multipartAlternative() {
        let message = MIMEMessage(bytes: Self.alternative)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "Sale",
                "Big sale today. Shop at http://shop.example.com/sale",
                "Sale",
                "Big sale today.",
                "Shop now",
                ""),
            rawBody: lines(
                "Big sale today.",
                "Shop at http://shop.example.com/sale",
                "<html><head><title>Sale</title></head>",
                "<body><p>Big <b>sale</b> today.</p>",
                "<p><a href=\"http://shop.example.com/sale\">Shop now</a></p></body></html>"),
            uris: ["http://shop.example.com/sale"],
            headers: [
                ("From", "shop@example.com"),
                ("Subject", "Sale"),
                ("MIME-Version", "1.0"),
                ("Content-Type", "multipart/alternative; boundary=\"==alt==\""),
            ])
        #expect(message.problems == [])
    }

    // MARK: htmlOnly

    static let htmlOnlyMessage: [UInt8] = Array(
        #"""
        From: news@example.com
        Subject: News
        Content-Type: text/html; charset=utf-8

        <!DOCTYPE html>
        <html><head>
        <meta http-equiv="refresh" content="5; URL=http://refresh.example.com/next">
        <base href="http://base.example.com/dir/index.html">
        <title>Weekly   news</title>
        <style>p { color: red }</style>
        <script>document.write("<p>not shown</p>")</script>
        </head>
        <body background="bg.png">
        <!-- http://comment.example.com is a comment -->
        <h1>Top&nbsp;stories</h1>
        <p>Prices: &euro;10 &amp; &pound;5 &copy 2024 &#8364; &#x20AC; &lt;b&gt; &bogus;</p>
        <div>Line one<br>Line two<br/>Line three</div>
        <ul><li>First</li><li>Second</li></ul>
        <table><tr><td>Cell 1</td><td>Cell 2</td></tr></table>
        <p>Seen <font color="#ffffff">hidden white text</font> seen <span style="display:none">gone</span> again</p>
        <p><a href="story.html">relative</a> <a href="/about">absolute path</a>
        <a href="//cdn.example.net/x.js">scheme-relative</a> <a href="mailto:editor@example.com?subject=hi">mail</a>
        <a href=" http://spaced.example.com/ ">spaced</a> <a href="#top">anchor</a>
        <img src="cid:logo@local"><img src="http://img.example.com/pixel.gif" width="1" height="1">
        <form action="http://form.example.com/submit"><input type="text"></form></p>
        <p>5 &lt; 6 and 7 > 3</p>
        <pre>  pre   formatted  </pre>
        </body></html>

        """#.utf8)

    /// HTML rendered to text: tags and comments dropped, `script` and `style` skipped, entities
    /// decoded, blocks broken into paragraphs, hidden text kept; links from `href`, `src`,
    /// `action`, `background` and `meta` refresh, resolved against `<base href>`, plus each
    /// anchor's `href` as written.
    @Test func htmlOnly() {
        let message = MIMEMessage(bytes: Self.htmlOnlyMessage)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "News",
                " ",
                "Weekly news",
                " Top stories ",
                "Prices: €10 & £5 © 2024 € € <b> &bogus;",
                "Line one Line two Line three First Second Cell 1 Cell 2 ",
                "Seen hidden white text seen gone again",
                "relative absolute path scheme-relative mail spaced anchor ",
                "5 < 6 and 7 > 3",
                "pre formatted",
                " "),
            rawBody: lines(
                "<!DOCTYPE html>",
                "<html><head>",
                "<meta http-equiv=\"refresh\" content=\"5; URL=http://refresh.example.com/next\">",
                "<base href=\"http://base.example.com/dir/index.html\">",
                "<title>Weekly   news</title>",
                "<style>p { color: red }</style>",
                "<script>document.write(\"<p>not shown</p>\")</script>",
                "</head>",
                "<body background=\"bg.png\">",
                "<!-- http://comment.example.com is a comment -->",
                "<h1>Top&nbsp;stories</h1>",
                "<p>Prices: &euro;10 &amp; &pound;5 &copy 2024 &#8364; &#x20AC; &lt;b&gt; &bogus;</p>",
                "<div>Line one<br>Line two<br/>Line three</div>",
                "<ul><li>First</li><li>Second</li></ul>",
                "<table><tr><td>Cell 1</td><td>Cell 2</td></tr></table>",
                "<p>Seen <font color=\"#ffffff\">hidden white text</font> seen <span style=\"display:none\">gone</span> again</p>",
                "<p><a href=\"story.html\">relative</a> <a href=\"/about\">absolute path</a>",
                "<a href=\"//cdn.example.net/x.js\">scheme-relative</a> <a href=\"mailto:editor@example.com?subject=hi\">mail</a>",
                "<a href=\" http://spaced.example.com/ \">spaced</a> <a href=\"#top\">anchor</a>",
                "<img src=\"cid:logo@local\"><img src=\"http://img.example.com/pixel.gif\" width=\"1\" height=\"1\">",
                "<form action=\"http://form.example.com/submit\"><input type=\"text\"></form></p>",
                "<p>5 &lt; 6 and 7 > 3</p>",
                "<pre>  pre   formatted  </pre>",
                "</body></html>",
                ""),
            uris: [
                "#top",
                "//cdn.example.net/x.js",
                "/about",
                "cid:logo@local",
                "http:////cdn.example.net/x.js",
                "http://base.example.com/about",
                "http://base.example.com/dir/#top",
                "http://base.example.com/dir/bg.png",
                "http://base.example.com/dir/index.html",
                "http://base.example.com/dir/story.html",
                "http://cdn.example.net/x.js",
                "http://form.example.com/submit",
                "http://img.example.com/pixel.gif",
                "http://refresh.example.com/next",
                "http://spaced.example.com/",
                "http://story.html",
                "mailto:editor@example.com",
                "mailto:editor@example.com?subject=hi",
                "story.html",
            ],
            headers: [
                ("From", "news@example.com"),
                ("Subject", "News"),
                ("Content-Type", "text/html; charset=utf-8"),
            ])
        #expect(message.problems == [])
    }

    // MARK: base64

    static let base64Text: [UInt8] = Array(
        #"""
        From: a@example.com
        Subject: b64
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: base64

        R3LDvMOfZSBhdXMgS8O2bG4hDQpNb3JlIGF0IGh0dHBzOi8va8O2bG4uZXhhbXBsZS5kZS93ZXR0
        ZXINCg==

        """#.utf8)

    /// Base64 text decoded, CRLF made LF; the IDN link gets its Punycode form.
    @Test func base64() {
        let message = MIMEMessage(bytes: Self.base64Text)
        expectSpamAssassinInputs(
            message,
            body: "b64\nGrüße aus Köln! More at https://köln.example.de/wetter ",
            rawBody: lines(
                "Grüße aus Köln!",
                "More at https://köln.example.de/wetter",
                ""),
            uris: ["https://köln.example.de/wetter", "https://xn--kln-sna.example.de/wetter"],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "b64"),
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Transfer-Encoding", "base64"),
            ])
        #expect(message.problems == [])
    }

    // MARK: quotedPrintable

    static let quotedPrintableMessage: [UInt8] = Array(
        lines(
            "From: a@example.com",
            "Subject: qp",
            "Content-Type: text/plain; charset=iso-8859-1",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "Caf=E9 cr=E8me br=FBl=E9e =3D tasty. This line is long enough that it is wrapped with a soft=",
            " line break.   ",
            "Lower-case =e9scapes and a bad =ZZ escape.",
            "http://qp.example.com/a=3Db",
            ""
        ).utf8)

    /// Quoted-printable in ISO-8859-1: soft line breaks joined, `=XX` in either case decoded, a
    /// bad escape kept as written (and counted).
    @Test func quotedPrintable() {
        let message = MIMEMessage(bytes: Self.quotedPrintableMessage)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "qp",
                "Café crème brûlée = tasty. This line is long enough that it is wrapped with a soft line break. Lower-case éscapes and a bad =ZZ escape. http://qp.example.com/a=b "
            ),
            rawBody: lines(
                "Café crème brûlée = tasty. This line is long enough that it is wrapped with a soft line break.",
                "Lower-case éscapes and a bad =ZZ escape.",
                "http://qp.example.com/a=b",
                ""),
            uris: ["http://qp.example.com/a=b"],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "qp"),
                ("Content-Type", "text/plain; charset=iso-8859-1"),
                ("Content-Transfer-Encoding", "quoted-printable"),
            ])
        #expect(message.problems == ["bad quoted-printable"])
    }

    // MARK: latin1EightBit

    static let latin1Raw: [UInt8] = latin1(
        lines(
            "From: a@example.com",
            "Subject: latin1",
            "Content-Type: text/plain; charset=ISO-8859-1",
            "Content-Transfer-Encoding: 8bit",
            "",
            "D\u{E9}j\u{E0} vu: na\u{EF}ve fa\u{E7}ade, 50 EUR? No: 50 EUR.",
            ""))

    /// Raw 8-bit ISO-8859-1 read as windows-1252.
    @Test func latin1EightBit() {
        let message = MIMEMessage(bytes: Self.latin1Raw)
        expectSpamAssassinInputs(
            message,
            body: "latin1\nDéjà vu: naïve façade, 50 EUR? No: 50 EUR. ",
            rawBody: "Déjà vu: naïve façade, 50 EUR? No: 50 EUR.\n",
            uris: [],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "latin1"),
                ("Content-Type", "text/plain; charset=ISO-8859-1"),
                ("Content-Transfer-Encoding", "8bit"),
            ])
        #expect(message.problems == [])
    }

    // MARK: koi8r

    static let koi8rMessage: [UInt8] = latin1(
        lines(
            "From: a@example.com",
            "Subject: =?koi8-r?B?8NLJ18XU?=",
            "Content-Type: text/html; charset=koi8-r",
            "",
            "<p>\u{F0}\u{D2}\u{C9}\u{D7}\u{C5}\u{D4}, <b>\u{CD}\u{C9}\u{D2}</b>!</p>",
            ""))

    /// KOI8-R HTML and a KOI8-R encoded Subject.
    @Test func koi8r() {
        let message = MIMEMessage(bytes: Self.koi8rMessage)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "Привет",
                "",
                "Привет, мир!",
                ""),
            rawBody: "<p>Привет, <b>мир</b>!</p>\n",
            uris: [],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "Привет"),
                ("Content-Type", "text/html; charset=koi8-r"),
            ])
        #expect(message.problems == [])
    }

    // MARK: shiftJIS

    static let shiftJISMessage: [UInt8] = Array(
        #"""
        From: a@example.com
        Subject: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=
        Content-Type: text/html; charset=Shift_JIS
        Content-Transfer-Encoding: base64

        PGh0bWw+PGJvZHk+grGC8YLJgr+CzTxicj6QoopFIGh0dHA6Ly9qcC5leGFtcGxlLmpwLzwvYm9k
        eT48L2h0bWw+Cg==

        """#.utf8)

    /// Shift_JIS HTML in base64, and an ISO-2022-JP encoded Subject.
    @Test func shiftJIS() {
        let message = MIMEMessage(bytes: Self.shiftJISMessage)
        expectSpamAssassinInputs(
            message,
            body: "日本語\nこんにちは 世界 http://jp.example.jp/ ",
            rawBody: "<html><body>こんにちは<br>世界 http://jp.example.jp/</body></html>\n",
            uris: ["http://jp.example.jp/"],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "日本語"),
                ("Content-Type", "text/html; charset=Shift_JIS"),
                ("Content-Transfer-Encoding", "base64"),
            ])
        #expect(message.problems == [])
    }

    // MARK: encodedHeaders

    static let encodedHeadersMessage: [UInt8] = Array(
        #"""
        From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>
        To: =?iso-8859-1?q?Andr=E9?= <andre@example.fr>
        Subject: =?utf-8?B?8J+YgCBTdXBlciBkZWFs?= =?utf-8?Q?_=E2=82=AC?= now
        X-Split: =?utf-8?B?w6k=?= =?utf-8?B?w6k=?=  plain =?utf-8?q?x?=
        X-Charsets: =?koi8-r?B?8NLJ18XU?= and =?windows-1252?q?=93quoted=94?= end
        X-Split-Char: =?utf-8?q?=E2=82?= =?utf-8?q?=AC?=
        X-Invalid: =?utf-8?X?abc?= =?broken =?utf-8?q?ok?=
        X-Unknown-Charset: =?x-unknown?q?caf=E9?=
        X-Inside-Word: abc=?utf-8?q?DEF?=ghi
        X-Language: =?utf-8*en?q?with_language?=
        X-Folded: first
         second
        	third
        Received: from =?utf-8?q?not_decoded?= by mx.example.com
        Content-Type: text/plain

        Body.

        """#.utf8)

    /// RFC 2047 encoded words: B and Q, adjacent words joined (whitespace between them dropped,
    /// a character split across two words rebuilt), malformed words kept, an unknown charset read
    /// as windows-1252, words inside other text decoded, `Received` left alone.
    @Test func encodedHeaders() {
        let message = MIMEMessage(bytes: Self.encodedHeadersMessage)
        expectSpamAssassinInputs(
            message,
            body: "😀 Super deal € now\nBody. ",
            rawBody: "Body.\n",
            uris: [],
            headers: [
                ("From", "Jürgen Müller <jm@example.de>"),
                ("To", "André <andre@example.fr>"),
                ("Subject", "😀 Super deal € now"),
                ("X-Split", "éé  plain x"),
                ("X-Charsets", "Привет and “quoted” end"),
                ("X-Split-Char", "€"),
                ("X-Invalid", "=?utf-8?X?abc?= =?broken ok"),
                ("X-Unknown-Charset", "café"),
                ("X-Inside-Word", "abcDEFghi"),
                ("X-Language", "with language"),
                ("X-Folded", "first second third"),
                ("Received", "from =?utf-8?q?not_decoded?= by mx.example.com"),
                ("Content-Type", "text/plain"),
            ])
        #expect(message.problems == ["unknown charset"])
    }

    // MARK: nestedMultipart

    static let nested: [UInt8] = Array(
        #"""
        From: a@example.com
        Subject: nested
        Content-Type: multipart/mixed; boundary="outer"

        --outer
        Content-Type: multipart/related; boundary="related"

        --related
        Content-Type: multipart/alternative; boundary="alternative"

        --alternative
        Content-Type: text/plain; charset=utf-8

        Third level plain
        --alternative
        Content-Type: text/html; charset=utf-8

        <div>Third level <em>html</em></div>
        --alternative--
        --related
        Content-Type: image/png
        Content-Transfer-Encoding: base64

        iVBORw0KGgo=
        --related--
        --outer
        Content-Type: message/rfc822

        From: inner@example.com
        Subject: =?utf-8?q?Inner_subj=C3=A9ct?=
        Content-Type: multipart/alternative; boundary="inner"

        --inner
        Content-Type: text/plain

        Inner plain at http://inner.example.com/
        --inner
        Content-Type: text/html

        <p>Inner <b>html</b></p>
        --inner--

        --outer
        Content-Type: application/octet-stream; name="page.html"
        Content-Transfer-Encoding: base64

        PGh0bWw+PGJvZHk+QXR0YWNoZWQgPGI+cGFnZTwvYj48L2JvZHk+PC9odG1sPg==

        --outer
        Content-Type: text/calendar

        BEGIN:VCALENDAR
        --outer
        Content-Type: text/enriched

        <bold>enriched</bold>
        --outer--

        """#.utf8)

    /// Multiparts three deep, an image, an enclosed message, an attachment named `.html`
    /// (rendered as HTML), `text/calendar` (skipped) and `text/enriched` (read as plain text).
    @Test func nestedMultipart() {
        let message = MIMEMessage(bytes: Self.nested)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "nested",
                "Third level plain",
                "Third level html",
                "Inner plain at http://inner.example.com/",
                "Inner html",
                "Attached page",
                "<bold>enriched</bold>"),
            rawBody: lines(
                "Third level plain",
                "<div>Third level <em>html</em></div>",
                "Inner plain at http://inner.example.com/",
                "<p>Inner <b>html</b></p>",
                "<html><body>Attached <b>page</b></body></html>",
                "<bold>enriched</bold>"),
            uris: ["http://inner.example.com/"],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "nested"),
                ("Content-Type", "multipart/mixed; boundary=\"outer\""),
            ])
        #expect(message.problems == [])
    }

    // MARK: enclosedMessageInBase64

    static let rfc822Base64: [UInt8] = Array(
        #"""
        From: a@example.com
        Subject: fwd
        Content-Type: multipart/mixed; boundary="m"

        --m
        Content-Type: text/plain

        See the attached message.
        --m
        Content-Type: message/rfc822
        Content-Transfer-Encoding: base64

        RnJvbTogaW5uZXJAZXhhbXBsZS5jb20KU3ViamVjdDogPT91dGYtOD9xP0lubmVyX3N1Ymo9QzM9
        QTljdD89CkNvbnRlbnQtVHlwZTogbXVsdGlwYXJ0L2FsdGVybmF0aXZlOyBib3VuZGFyeT0iaW5u
        ZXIiCgotLWlubmVyCkNvbnRlbnQtVHlwZTogdGV4dC9wbGFpbgoKSW5uZXIgcGxhaW4gYXQgaHR0
        cDovL2lubmVyLmV4YW1wbGUuY29tLwotLWlubmVyCkNvbnRlbnQtVHlwZTogdGV4dC9odG1sCgo8
        cD5Jbm5lciA8Yj5odG1sPC9iPjwvcD4KLS1pbm5lci0tCg==
        --m--

        """#.utf8)

    /// A base64 `message/rfc822` part is decoded and read as a message of its own.
    @Test func enclosedMessageInBase64() {
        let message = MIMEMessage(bytes: Self.rfc822Base64)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "fwd",
                "See the attached message. Inner plain at http://inner.example.com/",
                "Inner html",
                ""),
            rawBody: lines(
                "See the attached message.",
                "Inner plain at http://inner.example.com/",
                "<p>Inner <b>html</b></p>"),
            uris: ["http://inner.example.com/"],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "fwd"),
                ("Content-Type", "multipart/mixed; boundary=\"m\""),
            ])
        #expect(message.problems == [])
    }

    // MARK: missingClosingBoundary

    static let missingClosingBoundaryMessage: [UInt8] = Array(
        #"""
        From: a@example.com
        Subject: unclosed
        Content-Type: multipart/mixed; boundary="b"

        --b
        Content-Type: text/plain

        part one
        --b
        Content-Type: text/html

        <p>part two, never closed

        """#.utf8)

    /// A multipart that never closes: its last part runs to the end.
    @Test func missingClosingBoundary() {
        let message = MIMEMessage(bytes: Self.missingClosingBoundaryMessage)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "unclosed",
                "part one",
                "part two, never closed "),
            rawBody: lines(
                "part one",
                "<p>part two, never closed",
                ""),
            uris: [],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "unclosed"),
                ("Content-Type", "multipart/mixed; boundary=\"b\""),
            ])
        #expect(message.problems == ["missing closing boundary"])
    }

    // MARK: noBoundaryParameter

    static let noBoundaryParameterMessage: [UInt8] = Array(
        #"""
        From: a@example.com
        Subject: no boundary
        Content-Type: multipart/mixed

        --b
        Content-Type: text/html

        <p>read as text</p>
        --b--

        """#.utf8)

    /// A multipart without a boundary is read as text, delimiter lines and all.
    @Test func noBoundaryParameter() {
        let message = MIMEMessage(bytes: Self.noBoundaryParameterMessage)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "no boundary",
                " --b Content-Type: text/html",
                "<p>read as text</p> --b-- "),
            rawBody: lines(
                "",
                "--b",
                "Content-Type: text/html",
                "",
                "<p>read as text</p>",
                "--b--",
                ""),
            uris: [],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "no boundary"),
                ("Content-Type", "multipart/mixed"),
            ])
        #expect(message.problems == ["missing boundary"])
    }

    // MARK: boundaryNotFound

    static let boundaryNotFoundMessage: [UInt8] = Array(
        #"""
        From: a@example.com
        Subject: lost
        Content-Type: multipart/alternative; boundary="missing"

        Content-Type: text/html

        <p>No delimiter</p>

        """#.utf8)

    /// A boundary that never appears: the whole body is one headerless part.
    @Test func boundaryNotFound() {
        let message = MIMEMessage(bytes: Self.boundaryNotFoundMessage)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "lost",
                "Content-Type: text/html",
                "<p>No delimiter</p> "),
            rawBody: lines(
                "Content-Type: text/html",
                "",
                "<p>No delimiter</p>",
                ""),
            uris: [],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "lost"),
                ("Content-Type", "multipart/alternative; boundary=\"missing\""),
            ])
        #expect(message.problems == ["boundary not found"])
    }

    // MARK: badBase64

    static let badBase64Message: [UInt8] = Array(
        lines(
            "From: a@example.com",
            "Subject: bad b64",
            "Content-Type: text/plain",
            "Content-Transfer-Encoding: base64",
            "",
            "SGVsbG8gd29y!!!bGQh",
            "IFRoaXMg=aXMg",
            "YmFkIGJhc2U2NA",
            "-- ",
            "signature",
            ""
        ).utf8)

    /// Base64 with junk: characters outside the alphabet are dropped, an inner `=` reads as `/`.
    @Test func badBase64() {
        let message = MIMEMessage(bytes: Self.badBase64Message)
        expectSpamAssassinInputs(
            message,
            body: "bad b64\nHello world! This ý¥Ì�‰…��‰…Í”ØÐ,Š Ú¶êÞ",
            rawBody: "Hello world! This ý¥Ì�‰…��‰…Í”ØÐ,Š\tÚ¶êÞ",
            uris: [],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "bad b64"),
                ("Content-Type", "text/plain"),
                ("Content-Transfer-Encoding", "base64"),
            ])
        #expect(message.problems == ["bad base64"])
    }

    // MARK: crlfLineEndings

    static let crlf: [UInt8] = Array(
        """
        From: a@example.com
        Subject: crlf
        Content-Type: multipart/alternative; boundary="c"

        --c
        Content-Type: text/plain

        CRLF text
        line two
        --c
        Content-Type: text/html

        <p>CRLF <b>html</b></p>
        --c--

        """.replacing("\n", with: "\r\n").utf8)

    /// A message with CRLF line endings reads the same as with LF.
    @Test func crlfLineEndings() {
        let message = MIMEMessage(bytes: Self.crlf)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "crlf",
                "CRLF text line two",
                "CRLF html",
                ""),
            rawBody: lines(
                "CRLF text",
                "line two",
                "<p>CRLF <b>html</b></p>"),
            uris: [],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "crlf"),
                ("Content-Type", "multipart/alternative; boundary=\"c\""),
            ])
        #expect(message.problems == [])
    }

    // MARK: mboxSeparator

    static let mbox: [UInt8] = Array(
        #"""
        From alice@example.com Mon Jan  1 00:00:00 2024
        From: alice@example.com
        Subject: mbox

        Body of an mbox message.

        """#.utf8)

    /// A leading mbox `From ` line is not a header.
    @Test func mboxSeparator() {
        let message = MIMEMessage(bytes: Self.mbox)
        expectSpamAssassinInputs(
            message,
            body: "mbox\nBody of an mbox message. ",
            rawBody: "Body of an mbox message.\n",
            uris: [],
            headers: [
                ("From", "alice@example.com"),
                ("Subject", "mbox"),
            ])
        #expect(message.problems == [])
    }

    // MARK: digest

    static let digestMessage: [UInt8] = Array(
        #"""
        From: list@example.com
        Subject: digest
        Content-Type: multipart/digest; boundary="d"

        --d

        From: one@example.com
        Subject: first

        First message.
        --d

        From: two@example.com
        Subject: second

        Second message.
        --d--

        """#.utf8)

    /// In `multipart/digest` a part without `Content-Type` is a `message/rfc822`.
    @Test func digest() {
        let message = MIMEMessage(bytes: Self.digestMessage)
        expectSpamAssassinInputs(
            message,
            body: "digest\nFirst message. Second message.",
            rawBody: "First message.\nSecond message.",
            uris: [],
            headers: [
                ("From", "list@example.com"),
                ("Subject", "digest"),
                ("Content-Type", "multipart/digest; boundary=\"d\""),
            ])
        #expect(message.problems == [])
    }

    // MARK: charsetFallbacks

    static let charsetFallbacksMessage: [UInt8] = latin1(
        lines(
            "From: a@example.com",
            "Subject: charsets",
            "Content-Type: multipart/mixed; boundary=\"cs\"",
            "",
            "--cs",
            "Content-Type: text/plain; charset=x-unknown-charset",
            "",
            "caf\u{E9} na\u{EF}ve",
            "--cs",
            "Content-Type: text/plain; charset=iso-8859-1",
            "",
            "Really UTF-8: caf\u{C3}\u{A9}",
            "--cs",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Broken \u{E9}t\u{E9} \u{80}",
            "--cs--",
            ""))

    /// An unknown charset and invalid UTF-8 fall back to windows-1252; text labelled ISO-8859-1
    /// that is valid UTF-8 is read as UTF-8.
    @Test func charsetFallbacks() {
        let message = MIMEMessage(bytes: Self.charsetFallbacksMessage)
        expectSpamAssassinInputs(
            message,
            body: "charsets\ncafé naïve Really UTF-8: café Broken été €",
            rawBody: lines(
                "café naïve",
                "Really UTF-8: café",
                "Broken été €"),
            uris: [],
            headers: [
                ("From", "a@example.com"),
                ("Subject", "charsets"),
                ("Content-Type", "multipart/mixed; boundary=\"cs\""),
            ])
        #expect(message.problems == ["unknown charset", "bad charset"])
    }
    // MARK: Bounds

    /// Only `maxBytes` are read: this copy of `alternative` stops inside its HTML part, which is
    /// then read to the cut (SpamAssassin's values are for the same 400 bytes).
    @Test func truncatedAtMaxBytes() {
        let message = MIMEMessage(bytes: Self.alternative, maxBytes: 400)
        expectSpamAssassinInputs(
            message,
            body: lines(
                "Sale",
                "Big sale today. Shop at http://shop.example.com/sale",
                "Sale",
                "Big sale today.",
                ""),
            rawBody: lines(
                "Big sale today.",
                "Shop at http://shop.example.com/sale",
                "<html><head><title>Sale</title></head>",
                "<body><p>Big <b>sale</b> today.</p>",
                "<p><a href=\"http://shop."),
            uris: ["http://shop.example.com/sale"],
            headers: [
                ("From", "shop@example.com"),
                ("Subject", "Sale"),
                ("MIME-Version", "1.0"),
                ("Content-Type", "multipart/alternative; boundary=\"==alt==\""),
            ])
        #expect(message.problems == ["truncated", "missing closing boundary"])
        #expect(message.full == String(decoding: Self.alternative.prefix(400), as: UTF8.self))
    }
}

// MARK: Helpers

/// Lines joined with line feeds.
private func lines(_ lines: String...) -> String { lines.joined(separator: "\n") }

/// One byte per character (U+0000–U+00FF), for fixtures that are not UTF-8.
private func latin1(_ text: String) -> [UInt8] { text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }

/// Checks the rule inputs against SpamAssassin's: `body`, `rawBody`, the set of `uris` (without
/// duplicates) and the decoded header fields in order.
func expectSpamAssassinInputs(
    _ message: MIMEMessage, body: String, rawBody: String, uris: Set<String>, headers: [(String, String)],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(message.body == body, sourceLocation: sourceLocation)
    #expect(message.rawBody == rawBody, sourceLocation: sourceLocation)
    #expect(Set(message.uris) == uris, sourceLocation: sourceLocation)
    #expect(message.uris.count == Set(message.uris).count, "duplicate URIs", sourceLocation: sourceLocation)
    #expect(
        message.headers.map { [$0.name, $0.decoded] } == headers.map { [$0.0, $0.1] }, sourceLocation: sourceLocation)
}
