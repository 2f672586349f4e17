import SMTPCore
import Testing

@Suite("SMTPCommandParser: ESMTP parameters (RFC 5321 4.1.2)")
struct ESMTPParameterTests {
    @Test(
        arguments: [
            ("MAIL FROM:<a@b> SIZE=1000", mail("a", "b", [ESMTPParameter("SIZE", "1000")])),
            ("MAIL FROM:<a@b> size=1000", mail("a", "b", [ESMTPParameter("SIZE", "1000")])),
            (
                "MAIL FROM:<a@b> SIZE=1000 BODY=8BITMIME SMTPUTF8",
                mail(
                    "a", "b",
                    [
                        ESMTPParameter("SIZE", "1000"), ESMTPParameter("BODY", "8BITMIME"),
                        ESMTPParameter("SMTPUTF8", nil),
                    ])
            ),
            (
                "MAIL FROM:<a@b>   SIZE=1   BODY=7BIT  ",
                mail("a", "b", [ESMTPParameter("SIZE", "1"), ESMTPParameter("BODY", "7BIT")])
            ),
            (
                "MAIL FROM:<> RET=HDRS ENVID=QQ314159",
                .mail(
                    MailCommand(
                        reversePath: nil,
                        parameters: [ESMTPParameter("RET", "HDRS"), ESMTPParameter("ENVID", "QQ314159")]))
            ),
            ("MAIL FROM:<a@b> AUTH=<>", mail("a", "b", [ESMTPParameter("AUTH", "<>")])),
            ("MAIL FROM:<a@b> AUTH=user+40example.org", mail("a", "b", [ESMTPParameter("AUTH", "user+40example.org")])),
            ("MAIL FROM:<a@b> X-Custom-1=~!", mail("a", "b", [ESMTPParameter("X-CUSTOM-1", "~!")])),
            ("MAIL FROM:<a@b> 8BITMIME", mail("a", "b", [ESMTPParameter("8BITMIME", nil)])),
            ("MAIL FROM:<a@b> X=jörg", mail("a", "b", [ESMTPParameter("X", "jörg")])),
            (
                "RCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+2Bx@d",
                rcpt(
                    "c", "d", [ESMTPParameter("NOTIFY", "SUCCESS,FAILURE"), ESMTPParameter("ORCPT", "rfc822;c+2Bx@d")])
            ),
            (
                "RCPT TO:<Postmaster> NOTIFY=NEVER",
                .rcpt(RcptCommand(forwardPath: .postmaster, parameters: [ESMTPParameter("NOTIFY", "NEVER")]))
            ),
        ] as [(String, SMTPCommand)])
    func accepts(line: String, command: SMTPCommand) {
        #expect(parse(line) == .command(command))
    }

    @Test(arguments: [
        ("MAIL FROM:<a@b> SIZE=", badSyntax),
        ("MAIL FROM:<a@b> =1", badSyntax),
        ("MAIL FROM:<a@b> -SIZE=1", badSyntax),
        ("MAIL FROM:<a@b> SI_ZE=1", badSyntax),
        ("MAIL FROM:<a@b> SIZE==1", badSyntax),
        ("MAIL FROM:<a@b> SIZE=1=2", badSyntax),
        ("MAIL FROM:<a@b> SIZE=1,BODY=8BITMIME", badSyntax),
        ("MAIL FROM:<a@b> SIZE=1 SIZE=2", "501 5.5.4 Duplicate parameter"),
        ("MAIL FROM:<a@b> size=1 SIZE=1", "501 5.5.4 Duplicate parameter"),
        ("RCPT TO:<c@d> NOTIFY=NEVER notify=NEVER", "501 5.5.4 Duplicate parameter"),
        ("RCPT TO:<c@d> =", badSyntax),
        ("RCPT TO:<c@d> X=\"a b\"", badSyntax),
        ("RCPT TO:<c@d> ü=1", badSyntax),
    ])
    func refuses(line: String, reply: String) {
        #expect(parse(line) == .refused(reply))
    }

    @Test(arguments: [
        raw(#"MAIL FROM:<a@b> X=\xFF"#),
        raw(#"MAIL FROM:<a@b> X=j\xC3rg"#),
    ])
    func refusesInvalidUTF8Value(line: [UInt8]) {
        #expect(parse(bytes: line) == .refused(badSyntax))
    }

    @Test(arguments: [
        (ESMTPParameter("size", "10"), "SIZE", "SIZE=10"),
        (ESMTPParameter("SmtpUtf8", nil), "SMTPUTF8", "SMTPUTF8"),
    ])
    func keywordIsUppercased(parameter: ESMTPParameter, keyword: String, description: String) {
        #expect(parameter.keyword == keyword)
        #expect(parameter.description == description)
    }
}
