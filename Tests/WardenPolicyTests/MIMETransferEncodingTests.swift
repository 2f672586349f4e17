import Testing

@testable import WardenPolicy

/// The decoders under `MIMEMessage`, against SpamAssassin 4.0.1's own functions on the same
/// input: `Util::base64_decode`, `Util::qp_decode`, `Util::parse_content_type` and
/// `Message::Node::_normalize`.
@Suite struct MIMETransferEncodingTests {
    /// (encoded text, SpamAssassin's bytes)
    static let base64Cases: [(String, [UInt8])] = [
        ("", []),
        ("!!!!", []),
        ("////", [0xFF, 0xFF, 0xFF]),
        ("=QUJD", [0xFD, 0x05, 0x09]),
        ("Q", []),
        ("QU", [0x41]),
        ("QU\nJD\r\n", [0x41, 0x42, 0x43]),
        ("QU JD", [0x41, 0x42, 0x43]),
        ("QU=JD", [0x41, 0x4F, 0xC9]),
        ("QUJ", [0x41, 0x42]),
        ("QUJD", [0x41, 0x42, 0x43]),
        ("QUJD RA", [0x41, 0x42, 0x43, 0x44]),
        ("QUJD!", [0x41, 0x42, 0x43]),
        ("QUJD====", [0x41, 0x42, 0x43]),
        ("QUJD=QUJD", [0x41, 0x42, 0x43, 0xFD, 0x05, 0x09]),
        ("QUJDRA=", [0x41, 0x42, 0x43, 0x44]),
        ("QUJDRA==", [0x41, 0x42, 0x43, 0x44]),
        ("w6k=", [0xC3, 0xA9]),
    ]

    /// Whitespace and junk skipped; inner padding read as "A" when the text is otherwise clean
    /// and as "/" when it is not; a lone last character and leftover bits dropped.
    @Test(arguments: base64Cases)
    func base64LikeSpamAssassin(encoded: String, expected: [UInt8]) {
        #expect(MIMETransferEncoding.decodeBase64(Array(encoded.utf8)).bytes == expected)
    }

    @Test func base64ProblemsAreFlagged() {
        #expect(!MIMETransferEncoding.decodeBase64(Array("QUJD\r\nRA==\n".utf8)).isMalformed)
        #expect(MIMETransferEncoding.decodeBase64(Array("QUJD!".utf8)).isMalformed)
        #expect(MIMETransferEncoding.decodeBase64(Array("QU=JD".utf8)).isMalformed)
    }

    /// (quoted-printable, SpamAssassin's bytes as U+0000–U+00FF)
    static let quotedPrintableCases: [(String, String)] = [
        ("=3D41", "=41"),
        ("a = b", "a = b"),
        ("a=3Db", "a=b"),
        ("a=3db", "a=b"),
        ("bad =ZZ", "bad =ZZ"),
        ("end=", "end="),
        ("eq= \nx", "eqx"),
        ("soft=\nbreak", "softbreak"),
        ("soft=\r\nbreak", "softbreak"),
        ("trail \t\r\nnext", "trail\r\nnext"),
        ("trail   \nnext", "trail\nnext"),
    ]

    /// Whitespace before a line break deleted, then soft line breaks, then `=XX` in either case.
    @Test(arguments: quotedPrintableCases)
    func quotedPrintableLikeSpamAssassin(encoded: String, expected: String) {
        let decoded = MIMETransferEncoding.decodeQuotedPrintable(Array(encoded.utf8)).bytes
        #expect(decoded == expected.unicodeScalars.map { UInt8($0.value) })
    }

    /// (Content-Type value, type, boundary, charset, name)
    static let contentTypeCases: [(String, String, String?, String?, String?)] = [
        ("", "text/plain", nil, "us-ascii", nil),
        (" text /html", "text/plain", nil, nil, nil),
        ("TEXT/HTML; charset=\"UTF-8\"", "text/html", nil, "UTF-8", nil),
        ("application/octet-stream; name=page.html", "application/octet-stream", nil, nil, "page.html"),
        ("application/pdf; NAME=X.PDF", "application/pdf", nil, nil, "X.PDF"),
        ("garbage", "garbage", nil, nil, nil),
        ("image/png; filename*0=\"a\"; filename*1=\"b.htm\"", "image/png", nil, nil, "ab.htm"),
        ("multipart/alternative;\n boundary=b2", "multipart/alternative", "b2", nil, nil),
        ("multipart/mixed; boundary = \"with space\"", "multipart/mixed", "with space", nil, nil),
        ("multipart/mixed; boundary=\"b1\"", "multipart/mixed", "b1", nil, nil),
        ("multipart/mixed; boundary=\"unclosed", "multipart/mixed", "unclosed", nil, nil),
        ("multipart/mixed; boundary=;", "multipart/mixed", nil, nil, nil),
        ("multipart/mixed; x-boundary=y", "multipart/mixed", "y", nil, nil),
        ("multipart/mixed; xboundary=x", "multipart/mixed", nil, nil, nil),
        ("text", "text/plain", nil, nil, nil),
        ("text/calendar", "text/calendar", nil, nil, nil),
        ("text/enriched", "text/plain", nil, nil, nil),
        ("text/plain", "text/plain", nil, nil, nil),
        ("text/plain; charset=\"utf-8\" format=flowed", "text/plain", nil, "utf-8\" format=flowed", nil),
        ("text/plain; charset='iso-8859-1'", "text/plain", nil, "iso-8859-1", nil),
        ("text/plain; charset=us-ascii; name=\"a.txt\"", "text/plain", nil, "us-ascii", "a.txt"),
        ("text/x-vcard", "text/x-vcard", nil, nil, nil),
        ("x(y)/z;", "xy/z", nil, nil, nil),
    ]

    @Test(arguments: contentTypeCases)
    func contentTypeLikeSpamAssassin(value: String, type: String, boundary: String?, charset: String?, name: String?) {
        let parsed = MIMEContentType(value.isEmpty ? nil : value)
        #expect(parsed.type == type)
        #expect(parsed.boundary == boundary)
        #expect(parsed.charset == (value.isEmpty ? "us-ascii" : charset))
        #expect(parsed.name == name)
        #expect(parsed.isMissing == value.isEmpty)
    }

    /// (bytes, declared charset, SpamAssassin's text)
    static let charsetCases: [([UInt8], String, String)] = [
        ([0x1B, 0x24, 0x42, 0x24, 0x62, 0x24, 0x47, 0x3B, 0x7A, 0x1B, 0x28, 0x42], "iso-2022-jp", "もで字"),
        ([0x61, 0x00, 0x62, 0x00, 0x63], "utf-16le", "a\u{0}b\u{0}c"),
        ([0x63, 0x61, 0x66, 0xC3, 0xA9], "iso-8859-1", "café"),
        ([0x63, 0x61, 0x66, 0xE9], "iso-8859-1", "café"),
        ([0x63, 0x61, 0x66, 0xE9], "us-ascii", "café"),
        ([0x63, 0x61, 0x66, 0xE9], "utf-8", "café"),
        ([0x63, 0x61, 0x66, 0xE9], "utf8", "café"),
        ([0x63, 0x61, 0x66, 0xE9], "x-unknown", "café"),
        ([0x68, 0x65, 0x6C, 0x6C, 0x6F], "x-unknown", "hello"),
        ([0x80, 0x81, 0x82], "windows-1252", "€\u{FFFD}‚"),
        ([0x82, 0xB1, 0x82, 0xF1, 0x82, 0xC9, 0x82, 0xBF, 0x82, 0xCD], "shift_jis", "こんにちは"),
        ([0xA4], "iso-8859-15", "€"),
        ([0xA4, 0xA4, 0xA4, 0xE5], "big5", "中文"),
        ([0xA4, 0xB3, 0xA4, 0xF3, 0xA4, 0xCB, 0xA4, 0xC1, 0xA4, 0xCF], "euc-jp", "こんにちは"),
        ([0xB1, 0xE6], "iso-8859-2", "ąć"),
        ([0xC4, 0xE3, 0xBA, 0xC3], "gb2312", "你好"),
        ([0xC7, 0xD1, 0xB1, 0xB9], "euc-kr", "한국"),
        ([0xC7, 0xD1, 0xB1, 0xB9], "ks_c_5601-1987", "한국"),
        ([0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2], "windows-1251", "Привет"),
        ([0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4], "koi8-r", "Привет"),
        ([0xFF], "shift_jis", "ÿ"),
    ]

    /// Valid UTF-8 wins whatever is declared; then the declared charset, through iconv; then
    /// windows-1252.
    @Test(arguments: charsetCases)
    func charsetLikeSpamAssassin(bytes: [UInt8], charset: String, expected: String) {
        #expect(MIMECharset.decode(bytes, declared: charset, mode: .body).text == expected)
    }

    @Test func charsetProblems() {
        #expect(MIMECharset.decode([0x63, 0xE9], declared: "x-unknown", mode: .body).problem == .unknownCharset)
        #expect(MIMECharset.decode([0x63, 0xE9], declared: "utf-8", mode: .body).problem == .badCharset)
        #expect(MIMECharset.decode([0x63, 0xE9], declared: "iso-8859-2", mode: .body).problem == nil)
        // Encoded words believe their charset, replacing what does not decode.
        #expect(MIMECharset.decode([0x63, 0xE9], declared: "utf-8", mode: .insistOnDeclared).text == "c\u{FFFD}")
        #expect(
            MIMECharset.decode([0x63, 0xC3, 0xA9], declared: "iso-8859-1", mode: .insistOnDeclared).text
                == "c\u{C3}\u{A9}")
    }
}
