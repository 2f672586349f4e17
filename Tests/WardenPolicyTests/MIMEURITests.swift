import Testing

@testable import WardenPolicy

/// Links as uri rules see them. Each expected set in `spamAssassinLinks` is SpamAssassin 4.0.1's
/// URI list for the line sent as a `text/plain` body: the links it finds in text and the
/// cleaned-up forms it adds.
@Suite struct MIMEURITests {
    /// (a line of text, the links)
    static let spamAssassinLinks: [(String, Set<String>)] = [
        (
            "visit www.example.com today",
            [
                "http://www.example.com"
            ]
        ),
        (
            "see http://example.com/path?a=1&b=2 and https://secure.example.org:8443/login",
            [
                "http://example.com/path?a=1&b=2",
                "https://secure.example.org:8443/login",
            ]
        ),
        (
            "ftp.example.com/file and ftp://files.example.net/pub",
            [
                "ftp://files.example.net/pub",
                "ftp://ftp.example.com/file",
            ]
        ),
        (
            "mail john.doe@example.com, jane@example.co.uk; or bob@localhost",
            [
                "mailto:jane@example.co.uk",
                "mailto:john.doe@example.com",
            ]
        ),
        (
            "mailto:sales@example.com?subject=hi and mailto:%20padded@example.com",
            [
                "mailto:%20padded@example.com",
                "mailto:padded@example.com",
                "mailto:sales@example.com",
                "mailto:sales@example.com?subject=hi",
            ]
        ),
        (
            "schemeless example.info/page and shop.example.co.uk but not example.invalid/page or foo.bar",
            [
                "http://example.info/page",
                "http://foo.bar",
                "http://shop.example.co.uk",
            ]
        ),
        (
            "trailing punctuation: www.example.com/a. http://example.com/b!!! (http://example.com/c) [www.example.org]",
            [
                "http://example.com/b",
                "http://example.com/c",
                "http://www.example.com/a",
                "http://www.example.org",
            ]
        ),
        (
            "<http://angle.example.com/> \"http://quoted.example.com/\" 'single.example.com'",
            [
                "http://angle.example.com/",
                "http://quoted.example.com/",
            ]
        ),
        (
            "port example.com:8080/x and example.org:123456/x and host.example.net:80",
            [
                "http://example.com:8080/x",
                "http://host.example.net",
                "http://host.example.net:80",
            ]
        ),
        (
            "http://192.168.1.1/admin http://0x7f.0.0.1/ http://2130706433/ http://017700000001/ http://0x7f000001/",
            [
                "http://017700000001/",
                "http://0x7f000001/",
                "http://127.0.0.1/",
                "http://192.168.1.1/admin",
                "http://2130706433/",
                "http://65.240.9.16/",
            ]
        ),
        (
            "http://%77%77%77.example.com/ http://ex%61mple.com/%7Euser/ http://example.com/%2e%2e",
            [
                "http://%77%77%77.example.com/",
                "http://ex%61mple.com/%7Euser/",
                "http://example.com/%2e%2e",
                "http://example.com/..",
                "http://example.com/~user/",
                "http://www.example.com/",
            ]
        ),
        (
            "http:\\\\backslash.example.com\\path http:/one.example.com http:www.noslash.example.com",
            [
                "http://one.example.com",
                "http://www.noslash.example.com",
            ]
        ),
        (
            "http://user:pass@userinfo.example.com/ http://trailing.example.com./x http://junk.example.com../",
            [
                "http://junk.example.com../",
                "http://junk.example.com/",
                "http://trailing.example.com./x",
                "http://trailing.example.com/x",
                "http://user:pass@userinfo.example.com/",
            ]
        ),
        (
            "http://foo/ http://localhost/ http://www.bar/ http://intranet:80/",
            [
                "http://foo/",
                "http://intranet/",
                "http://intranet:80/",
                "http://www.bar/",
                "http://www.foo.com/",
                "http://www.intranet.com:80/",
            ]
        ),
        (
            "http://redirect.example.com/go?to=http://target.example.net/landing&x=1",
            [
                "http://redirect.example.com/go?to=http://target.example.net/landing&x=1",
                "http://target.example.net/landing",
            ]
        ),
        (
            "http://münchen.example.de/ http://пример.рф/ www.example\u{3002}com",
            [
                "http://münchen.example.de/",
                "http://www.example.com",
                "http://www.example\u{3002}com",
                "http://xn--e1afmkfd.xn--p1ai/",
                "http://xn--mnchen-3ya.example.de/",
                "http://пример.рф/",
            ]
        ),
        (
            "http://zero\u{200B}width.example.com/ http://soft\u{AD}hyphen.example.com/",
            [
                "http://softhyphen.example.com/",
                "http://soft\u{AD}hyphen.example.com/",
                "http://zerowidth.example.com/",
                "http://zero\u{200B}width.example.com/",
            ]
        ),
        (
            "cid:image001.png@01D4986E.E3459640 hxxp://defanged.example.com news:comp.mail",
            [
                "http://defanged.example.com"
            ]
        ),
        (
            "HTTP://UPPER.EXAMPLE.COM/Path WWW.UPPER-CASE.COM",
            [
                "HTTP://UPPER.EXAMPLE.COM/Path",
                "http://WWW.UPPER-CASE.COM",
            ]
        ),
        (
            "user%40example.com@real.example.com and first.last+tag@sub.example.org",
            [
                "mailto:first.last+tag@sub.example.org"
            ]
        ),
        (
            "www1.example.com www12.example.com www123.example.com",
            [
                "http://www1.example.com",
                "http://www12.example.com",
                "http://www123.example.com",
            ]
        ),
        (
            "a long token http://example.com/ending-with-quote\" and http://example.com/x,y",
            [
                "http://example.com/ending-with-quote",
                "http://example.com/x,y",
            ]
        ),
        (
            "email: me@example.com skype:me@example.net mail:me@example.org",
            [
                "mailto:me@example.com",
                "mailto:me@example.net",
                "mailto:me@example.org",
            ]
        ),
        (
            "x@y.z a@b.com. foo@bar",
            [
                "mailto:a@b.com"
            ]
        ),
        (
            "http://example.com/a(b)c http://example.com/a)b",
            [
                "http://example.com/a",
                "http://example.com/a(b)c",
            ]
        ),
        (
            "http://example.com/#frag http://example.com?q=1",
            [
                "http://example.com/#frag",
                "http://example.com/?q=1",
                "http://example.com?q=1",
            ]
        ),
    ]

    @Test(arguments: spamAssassinLinks)
    func findsLinksLikeSpamAssassin(text: String, uris: Set<String>) {
        let message = MIMEMessage(bytes: Array("Subject: t\nContent-Type: text/plain; charset=utf-8\n\n\(text)\n".utf8))
        #expect(Set(message.uris) == uris)
    }

    /// The order of `uris`: text links first (the Subject, then the body), each followed by the
    /// forms made from it, then the HTML links in document order; no duplicates.
    @Test func linksAreInOrderWithoutDuplicates() {
        let message = MIMEMessage(
            bytes: Array(
                """
                Subject: see www.first.example.com
                Content-Type: multipart/alternative; boundary="b"

                --b
                Content-Type: text/plain

                then http://second.example.com?x and www.first.example.com again
                --b
                Content-Type: text/html

                <a href="http://third.example.com/">www.first.example.com</a><img src="http://second.example.com?x">
                --b--

                """.utf8))
        #expect(
            message.uris == [
                "http://www.first.example.com", "http://second.example.com?x", "http://second.example.com/?x",
                "http://third.example.com/",
            ])
    }

    /// A link in the Subject counts, as in SpamAssassin (the Subject is the first body line).
    @Test func subjectLinks() {
        let message = MIMEMessage(bytes: Array("Subject: win at casino.example.com\n\nhello\n".utf8))
        #expect(message.uris == ["http://casino.example.com"])
    }

    /// A text link counts only when one of its forms names a host under a known top-level
    /// domain or an IP address: `a.b.invalid` does not, `intranet` does through its
    /// `www.intranet.com` form. HTML links always count. (SpamAssassin's values, down to its
    /// reading of "0." as an octal octet.)
    @Test func textLinksNeedAPlausibleHost() {
        let text = MIMEMessage(bytes: Array("\nhttp://intranet/x http://10.0.0.1/x http://a.b.invalid/\n".utf8))
        #expect(
            text.uris == ["http://intranet/x", "http://www.intranet.com/x", "http://10.0.0.1/x", "http://10...1/x"])
        let html = MIMEMessage(bytes: Array("Content-Type: text/html\n\n<a href=\"http://a.b.invalid/\">x</a>".utf8))
        #expect(html.uris == ["http://a.b.invalid/"])
    }
}
