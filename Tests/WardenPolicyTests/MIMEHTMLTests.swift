import Testing

@testable import WardenPolicy

/// HTML parts as body and uri rules see them. Each expected text and link set in
/// `spamAssassinRenderings` is what SpamAssassin 4.0.1 gave for the snippet sent as
/// `Content-Type: text/html; charset=utf-8` (its body after the Subject line, and its URI list).
@Suite struct MIMEHTMLTests {
    /// (HTML, rendered body after the Subject line, links)
    static let spamAssassinRenderings: [(String, String, Set<String>)] = [
        (
            "<p>Hello <b>wo</b>rld</p>",
            "\nHello world\n",
            []
        ),
        (
            "one<br>two<br/>three<div>four</div>five",
            "one two three four five ",
            []
        ),
        (
            "<ul><li>a</li><li>b</li></ul><ol><li>c<li>d</ol>",
            " a b c d ",
            []
        ),
        (
            "<table><tr><th>h</th><td>x</td></tr><tr><td>y</td></tr></table>",
            " h x y ",
            []
        ),
        (
            "<h1>Title</h1><h2>Sub</h2>text<hr>after<blockquote>quote</blockquote><pre>  keep   </pre>",
            " Title Sub text\nafter\nquote\nkeep\n",
            []
        ),
        (
            "&amp; &lt; &gt; &quot; &apos; &copy; &eacute; &euro; &hellip; &#65; &#x42; &#67 &#0; &#xFFFF; &AMP; &bogus; &copyright &alpha &alpha;",
            "& < > \" ' © é € … A B C &#0; &#xFFFF; &AMP; &bogus; ©right &alpha α ",
            []
        ),
        (
            "<script>var x = \"<b>not text</b>\";</script>visible<style>p { color: red }</style>shown",
            "visibleshown ",
            []
        ),
        (
            "<style>unterminated style",
            "",
            []
        ),
        (
            "<!-- comment --> text <!-- a -- b --> more <!> <!doctype html> <?php echo 1 ?> end",
            " text more end ",
            []
        ),
        (
            "5 < 6 and a<b and <3 and </ b> done",
            "5 < 6 and a done ",
            []
        ),
        (
            "<title>Page  title</title><textarea><b>raw</b> &amp;</textarea><xmp><i>x</i> &amp;</xmp>",
            "\nPage title\n<b>raw</b> &\n<i>x</i> &amp;\n",
            []
        ),
        (
            "<iframe><b>framed</b></iframe> after",
            "<b>framed</b> after ",
            []
        ),
        (
            "<plaintext><b>rest</b> &amp; all",
            "\n<b>rest</b> &amp; all ",
            []
        ),
        (
            "<![CDATA[ <b>cdata</b> &amp; ]]> after",
            " <b>cdata</b> &amp; after ",
            []
        ),
        (
            "<p>Visible <font color=\"white\">hidden </font><p>next</p>",
            "\nVisible hidden \nnext\n",
            []
        ),
        (
            "<p>Visible <font color=\"#000000\">dark </font><p>next</p>",
            "\nVisible dark\nnext\n",
            []
        ),
        (
            "<span style=\"display:none\">none </span><br><span style=\"visibility:hidden\"> hid</span>den <font size=\"1\">tiny </font><p>x",
            "none hidden tiny \nx ",
            []
        ),
        (
            "<body bgcolor=\"black\" text=\"white\"><p>white on black</p></body>",
            "\nwhite on black\n",
            []
        ),
        (
            "<div style=\"color: rgb(255,255,255); background-color: #fff\">same </div><br>",
            " same \n",
            []
        ),
        (
            "<o:p>office</o:p> <st1:place>place</st1:place>",
            "office place ",
            []
        ),
        (
            "<a href=\"http://example.com/a\">link</a> <a href='http://example.com/b'>b</a> <a href=http://example.com/c>c</a>",
            "link b c ",
            ["http://example.com/a", "http://example.com/b", "http://example.com/c"]
        ),
        (
            "<base href=\"http://base.example.com/a/b/page.html\"><a href=\"c/d.html\">x</a><a href=\"../up.html\">y</a><a href=\"/root\">z</a><a href=\"?q=1\">q</a><a href=\"#frag\">f</a><a href=\"//other.example.org/p\">o</a>",
            "xyzqfo ",
            [
                "#frag", "../up.html", "//other.example.org/p", "/root", "?q=1", "c/d.html", "http://../up.html",
                "http:////other.example.org/p", "http:///up.html", "http://base.example.com/a/b/#frag",
                "http://base.example.com/a/b/?q=1", "http://base.example.com/a/b/c/d.html",
                "http://base.example.com/a/b/page.html", "http://base.example.com/a/up.html",
                "http://base.example.com/root", "http://c/d.html", "http://other.example.org/p",
                "http://www.c.com/d.html",
            ]
        ),
        (
            "<a href=\"http://example.com/a b\">spaces</a><a href=\"  http://example.com/trim  \">trim</a>",
            "spacestrim ",
            ["http://example.com/a b", "http://example.com/trim"]
        ),
        (
            "<img src=\"http://img.example.com/i.png\"><img src=\"cid:part1@example\"><img src=\"data:image/png;base64,iVBOR\">",
            " ",
            ["cid:part1@example", "data:image/png;base64,iVBOR", "http://img.example.com/i.png"]
        ),
        (
            "<form action=\"http://form.example.com/post\"></form><iframe src=\"http://frame.example.com/\"></iframe><embed src=\"http://embed.example.com/e\"><script src=\"http://js.example.com/s.js\"></script>",
            " ",
            [
                "http://embed.example.com/e", "http://form.example.com/post", "http://frame.example.com/",
                "http://js.example.com/s.js",
            ]
        ),
        (
            "<table background=\"http://bg.example.com/t.png\"><tr background=\"http://bg.example.com/r.png\"><td background=\"http://bg.example.com/d.png\">x</td></tr></table>",
            " x ",
            ["http://bg.example.com/d.png", "http://bg.example.com/r.png", "http://bg.example.com/t.png"]
        ),
        (
            "<meta http-equiv=\"Refresh\" content=\"0;URL='http://refresh.example.com/'\"><meta http-equiv=\"refresh\" content=\"10\">",
            " ",
            [
                "'http://refresh.example.com/'", "http://'http://refresh.example.com/'",
                "http://www.'http.com://refresh.example.com/'",
            ]
        ),
        (
            "<area href=\"http://area.example.com/\"><link href=\"http://link.example.com/style.css\">",
            " ",
            ["http://area.example.com/", "http://link.example.com/style.css"]
        ),
        (
            "<a href=\"mailto:sales@example.com?subject=Buy\">mail</a><a href=\"tel:+1555\">tel</a><a href=\"javascript:void(0)\">js</a>",
            "mailteljs ",
            ["javascript:void(0)", "mailto:sales@example.com", "mailto:sales@example.com?subject=Buy", "tel:+1555"]
        ),
        (
            "<a href=“http://curly.example.com/”>curly</a>",
            "curly ",
            ["http://curly.example.com/"]
        ),
        (
            "<a href=\"http://example.com/unterminated",
            "",
            []
        ),
        (
            "<a name=\"anchor\">no href</a>",
            "no href ",
            [""]
        ),
        (
            "text <a href=\"http://x.example.com/\">before <b>bold</b> after</a> tail",
            "text before bold after tail ",
            ["http://x.example.com/"]
        ),
        (
            "<p>para one<p>para two</p><p></p><p>para three</p>",
            "\npara one\npara two\npara three\n",
            []
        ),
        (
            "<div><div><div>deep</div></div></div>text",
            "\ndeep\ntext ",
            []
        ),
        (
            "a<br> <br> <br>b",
            "a\nb ",
            []
        ),
        (
            "<p>trailing space </p> <p> leading space</p>",
            "\ntrailing space\nleading space\n",
            []
        ),
    ]

    @Test(arguments: spamAssassinRenderings)
    func rendersLikeSpamAssassin(html: String, body: String, uris: Set<String>) {
        let message = MIMEMessage(bytes: Array("Subject: t\nContent-Type: text/html; charset=utf-8\n\n\(html)\n".utf8))
        #expect(message.body == "t\n" + body)
        #expect(Set(message.uris) == uris)
        #expect(message.rawBody == html + "\n")
    }

    /// Hidden text stays in the body; it only keeps the space before a paragraph break that
    /// visible text loses.
    @Test func hiddenTextKeepsItsTrailingSpace() {
        let hidden = MIMEMessage(bytes: Array("Content-Type: text/html\n\n<p>a <font color=white>b </font><p>c".utf8))
        let visible = MIMEMessage(bytes: Array("Content-Type: text/html\n\n<p>a <font color=black>b </font><p>c".utf8))
        #expect(hidden.body == "\n\na b \nc")
        #expect(visible.body == "\n\na b\nc")
    }

    /// An attachment named `*.html` is rendered whatever its type; `textParts` has the decoded
    /// source.
    @Test func htmlAttachmentIsRendered() {
        let message = MIMEMessage(
            bytes: Array(
                """
                Subject: t
                Content-Type: application/octet-stream; name="offer.htm"

                <p>Cheap <b>pills</b></p>

                """.utf8))
        #expect(message.body == "t\n\nCheap pills\n")
        #expect(message.textParts.map(\.contentType) == ["text/html"])
        #expect(message.textParts.first?.text == "<p>Cheap <b>pills</b></p>\n")
    }

    /// Known difference: in an HTML part that is plain ASCII, SpamAssassin leaves characters
    /// U+0080–U+00FF from entities as raw Latin-1 bytes (invalid UTF-8, so "\u{A9}" and
    /// "\u{A0}" never match a rule written in UTF-8, and a no-break space is not whitespace);
    /// here they are characters, as SpamAssassin makes them in any HTML with one 8-bit byte.
    @Test func entitiesInASCIIHTMLAreCharacters() {
        let message = MIMEMessage(
            bytes: Array(
                "Content-Type: text/html\n\na&nbsp;b&nbsp c <a href=\"http://x.example/?a=1&copy=2\">x</a>".utf8))
        #expect(message.body == "\na b c x")
        #expect(message.uris == ["http://x.example/?a=1\u{A9}=2"])
    }
}
