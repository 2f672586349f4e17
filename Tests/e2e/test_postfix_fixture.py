"""The Postfix upstream fixture itself, tested directly (no Warden involved).

If these fail, every Warden test against Postfix is meaningless: fix the fixture first."""

from __future__ import annotations

import re

from harness import (
    RawSMTP,
    make_message,
    received_headers,
    run_swaks,
    smtp_send,
    swaks_message_args,
    token,
)


def server(pf) -> list[str]:
    return ["--server", f"{pf.host}:{pf.port}"]


def test_delivers_to_known_user(postfix_upstream):
    """A message to alice@example.test lands in alice's Maildir (new/)."""
    pf = postfix_upstream
    tok = token("fixture-deliver")
    r = run_swaks(*server(pf), "--from", "sender@example.org", "--to", "alice@example.test",
                  *swaks_message_args(tok))
    assert r.returncode == 0, str(r)
    assert r.replies()[-2].code == 250, str(r)  # the reply to the final dot (before 221)
    (msg,) = pf.wait_for_messages(tok)
    assert msg.parent.name == "new"
    assert pf.user_of(msg) == "alice"


def test_unknown_user_gets_550_user_unknown(postfix_upstream):
    """An unknown recipient gets Postfix's own 550 5.1.1 ... User unknown in virtual mailbox table."""
    pf = postfix_upstream
    r = run_swaks(*server(pf), "--from", "sender@example.org", "--to", "nobody@example.test")
    rcpt_reply = r.find(550)
    assert rcpt_reply is not None, str(r)
    assert rcpt_reply.enhanced == "5.1.1", str(r)
    assert "User unknown in virtual mailbox table" in rcpt_reply.text, str(r)


def test_loopback_is_not_trusted_for_relay(postfix_upstream):
    """127.0.0.1 is not in mynetworks: relaying elsewhere is refused, so whatever Postfix
    accepts from Warden it accepts on Warden's XCLIENT/AUTH, not on Warden's address."""
    pf = postfix_upstream
    with RawSMTP(pf.host, pf.port) as c:
        assert c.greeting.code == 220
        assert c.ehlo().code == 250
        assert c.cmd("MAIL FROM:<sender@example.org>").code == 250
        r = c.cmd("RCPT TO:<x@elsewhere.test>")
        assert r.code == 554 and r.enhanced == "5.7.1" and "Relay access denied" in r.text, str(r)
        c.quit()


def test_auth_plain_and_login(postfix_upstream):
    """AUTH PLAIN and LOGIN as alice@example.test / s3cret get 235 over plaintext."""
    pf = postfix_upstream
    for mech in ("PLAIN", "LOGIN"):
        tok = token(f"fixture-auth-{mech.lower()}")
        r = run_swaks(*server(pf), "--from", pf.SASL_USER, "--to", "bob@example.test",
                      "--auth", mech, "--auth-user", pf.SASL_USER, "--auth-password", pf.SASL_PASSWORD,
                      *swaks_message_args(tok))
        assert r.returncode == 0, str(r)
        ok = r.find(235)
        assert ok is not None and ok.enhanced == "2.7.0", str(r)
        pf.wait_for_messages(tok)


def test_auth_advertises_only_plain_and_login(postfix_upstream):
    """smtpd.conf is really read (mech_list), i.e. the sasldb in the temp dir is used."""
    pf = postfix_upstream
    with RawSMTP(pf.host, pf.port) as c:
        ehlo = c.ehlo()
        auth = [ln for ln in ehlo.lines if ln.upper().startswith("AUTH")]
        assert auth == ["AUTH PLAIN LOGIN"], str(ehlo)
        c.quit()


def test_auth_wrong_password_gets_535(postfix_upstream):
    """A wrong password gets 535 5.7.8; the user name without realm is refused too."""
    pf = postfix_upstream
    for user, password in ((pf.SASL_USER, "wrong-password"), ("alice", pf.SASL_PASSWORD)):
        r = run_swaks(*server(pf), "--from", pf.SASL_USER, "--to", "bob@example.test",
                      "--auth", "PLAIN", "--auth-user", user, "--auth-password", password,
                      "--quit-after", "AUTH")
        bad = r.find(535)
        assert bad is not None and bad.enhanced == "5.7.8", str(r)


def test_xclient_address_is_recorded(postfix_upstream):
    """XCLIENT from 127.0.0.1 is honoured: the delivered Received header and the log
    show the client address given in XCLIENT, not 127.0.0.1."""
    pf = postfix_upstream
    tok = token("fixture-xclient")
    r = run_swaks(*server(pf), "--from", "sender@example.org", "--to", "carol@example.test",
                  "--xclient", "ADDR=192.0.2.11 NAME=client.example HELO=client.example",
                  *swaks_message_args(tok))
    assert r.returncode == 0, str(r)
    queued = [x for x in r.replies() if x.code == 250 and "queued as" in x.text]
    assert queued, str(r)
    qid = re.search(r"queued as (\S+)", queued[-1].text).group(1)
    (msg,) = pf.wait_for_messages(tok)
    ours = [h for h in received_headers(msg.read_bytes()) if f"by {pf.HOSTNAME}" in h]
    assert ours and "[192.0.2.11]" in ours[0], ours
    pf.wait_for_log(rf"{qid}: client=client\.example\[192\.0\.2\.11\]")


def test_smtplib_helper_and_pipelined_raw_client(postfix_upstream):
    """The test helpers themselves: smtplib send, and raw pipelining with exact replies."""
    pf = postfix_upstream
    tok = token("fixture-smtplib")
    res = smtp_send(pf.host, pf.port, "sender@example.org", ["dave@example.test", "nobody@example.test"],
                    make_message(tok, rcpt="dave@example.test"))
    assert res.ok, res
    assert res.refused["nobody@example.test"][0] == 550
    pf.wait_for_messages(tok)

    with RawSMTP(pf.host, pf.port) as c:
        c.ehlo()
        c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@example.test>\r\nRCPT TO:<zed@example.test>\r\nRSET\r\n")
        codes = [x.code for x in c.read_replies(4)]
        assert codes == [250, 250, 550, 250]
        assert c.quit().code == 221
