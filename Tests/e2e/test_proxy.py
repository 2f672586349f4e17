"""Warden end to end: the real binary between real clients and a real (or scripted) upstream.

Every test starts its own `warden run --config FILE` (see conftest.start_warden) unless
noted. The tests skip, with the reason, only when WARDEN_BIN does not exist; a binary that
exists but misbehaves fails them. Each docstring says what a user would notice if the test
failed."""

from __future__ import annotations

import os
import re
import signal
import socket
import time
import types
import urllib.request

import pytest

from harness import (
    LOCALHOST,
    FakeUpstream,
    RawSMTP,
    SMTPClosed,
    SwaksResult,
    credential_forms,
    default_config,
    find_any,
    free_port,
    launch_warden,
    make_message,
    merge_config,
    received_headers,
    run_swaks,
    run_warden_command,
    send_in_background,
    smtp_send,
    swaks_message_args,
    tail,
    to_toml,
    token,
    wait_until,
    warden_missing_reason,
    write_warden_config,
)

# Skip this whole module (one line in the summary) only when the binary does not exist;
# scripts/test sets WARDEN_E2E_REQUIRE_BIN=1, and then the warden_binary fixture fails instead.
if warden_missing_reason() and os.environ.get("WARDEN_E2E_REQUIRE_BIN") != "1":
    pytest.skip(warden_missing_reason(), allow_module_level=True)

pytestmark = pytest.mark.usefixtures("warden_binary")

SENDER = "sender@example.org"


# ------------------------------------------------------------------------------ helpers


def final_data_reply(r: SwaksResult):
    """The reply swaks got after its final dot (the one following the 354)."""
    replies = r.replies()
    for i, rep in enumerate(replies):
        if rep.code == 354 and i + 1 < len(replies):
            return replies[i + 1]
    return None


def is_5xx_enhanced(r) -> bool:
    return 500 <= r.code < 600 and r.enhanced is not None and r.enhanced.startswith("5.")


def open_transaction(c: RawSMTP, rcpt: str = "bob@example.test", sender: str = SENDER) -> None:
    r = c.ehlo()
    assert r.code == 250, str(r)
    r = c.cmd(f"MAIL FROM:<{sender}>")
    assert r.code == 250, str(r)
    r = c.cmd(f"RCPT TO:<{rcpt}>")
    assert r.code == 250, str(r)


def sentinel_roundtrip(pf) -> None:
    """Send one message straight to Postfix and wait for its delivery: anything queued
    before it (a smuggled message, say) has been delivered by then too."""
    tok = token("sentinel")
    res = smtp_send(pf.host, pf.port, SENDER, "dave@example.test", make_message(tok, rcpt="dave@example.test"))
    assert res.ok, res
    pf.wait_for_messages(tok)
    time.sleep(1.0)


# ------------------------------------------------------------------------------ (a) maildir


def test_maildir_upstream_stores_message(tmp_path, start_warden):
    """Out of the box (maildir: upstream) a newcomer's test mail shows up as a file in
    the maildir's new/ directory."""
    maildir = tmp_path / "maildir"
    w = start_warden(tmp_path, f"maildir:{maildir}")
    tok = token("maildir")
    r = run_swaks("--server", f"{LOCALHOST}:{w.smtp_port}", "--from", SENDER,
                  "--to", "user@example.test", *swaks_message_args(tok))
    final = final_data_reply(r)
    assert final is not None and final.code == 250, str(r)

    def stored():
        new = maildir / "new"
        return [p for p in new.glob("*") if p.is_file() and tok.encode() in p.read_bytes()]

    try:
        files = wait_until(stored, 10, f"a file containing {tok} in {maildir}/new")
    except TimeoutError:
        found = [str(p.relative_to(maildir)) for p in maildir.rglob("*") if p.is_file()]
        pytest.fail(f"message not stored under {maildir}/new/; files under the maildir: {found}")
    assert len(files) == 1


def test_log_is_json_lines(tmp_path, start_warden):
    """With log.format = "json" every stderr line is a JSON object with a `msg`, so
    operators' log shippers can parse it."""
    w = start_warden(tmp_path, f"maildir:{tmp_path / 'maildir'}")
    with RawSMTP(LOCALHOST, w.smtp_port) as c:
        assert c.greeting.code == 220, str(c.greeting)
        c.ehlo()
        c.quit()
    w.stop()
    lines = w.log_lines()
    assert lines, "warden wrote no log at all"
    bad = [ln["_raw"] for ln in lines if "_raw" in ln]
    assert not bad, f"non-JSON lines on stderr: {bad[:5]}"
    assert all("msg" in ln for ln in lines), [ln for ln in lines if "msg" not in ln][:5]


# ------------------------------------------------------------------------------ (b) Postfix


def test_message_reaches_postfix(tmp_path, start_warden, postfix_upstream):
    """Mail accepted by Warden is delivered by the real mail server behind it."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.url)
    tok = token("via-warden")
    r = run_swaks("--server", f"{LOCALHOST}:{w.smtp_port}", "--from", SENDER,
                  "--to", "alice@example.test", *swaks_message_args(tok))
    final = final_data_reply(r)
    assert final is not None and final.code == 250, str(r)
    (msg,) = pf.wait_for_messages(tok)
    assert pf.user_of(msg) == "alice"


def test_unknown_user_550_relayed_unchanged(tmp_path, start_warden, postfix_upstream):
    """A sender mistyping a recipient sees the mail server's own 'User unknown' reply,
    word for word, not a generic Warden message."""
    pf = postfix_upstream
    with RawSMTP(pf.host, pf.port) as direct:
        open_transaction(direct, rcpt="alice@example.test")
        expected = direct.cmd("RCPT TO:<nobody@example.test>")
        direct.quit()
    assert expected.code == 550

    w = start_warden(tmp_path, pf.url)
    with RawSMTP(LOCALHOST, w.smtp_port) as c:
        assert c.ehlo().code == 250
        assert c.cmd(f"MAIL FROM:<{SENDER}>").code == 250
        got = c.cmd("RCPT TO:<nobody@example.test>")
        c.quit()
    assert got.code == 550 and got.enhanced == "5.1.1", str(got)
    assert "User unknown in virtual mailbox table" in got.text, str(got)
    assert got.text == expected.text, f"Warden changed the upstream's reply:\n{got}\nvs Postfix:\n{expected}"


def test_xclient_passes_proxy_protocol_client_address(tmp_path, start_warden, postfix_upstream):
    """Behind a load balancer (PROXY header), the mail server still records the real
    client address (via XCLIENT), not Warden's 127.0.0.1."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.url,
                     listener={"smtp": {"proxy_protocol": True, "proxy_trusted": ["127.0.0.1/32"]}})
    tok = token("xclient")
    with RawSMTP(LOCALHOST, w.smtp_port, proxy_header=b"PROXY TCP4 192.0.2.10 127.0.0.1 40000 25\r\n") as c:
        assert c.greeting.code == 220, str(c.greeting)
        open_transaction(c, rcpt="carol@example.test")
        r354, final = c.data(make_message(tok, rcpt="carol@example.test"))
        assert r354.code == 354, str(r354)
        assert final.code == 250, str(final)
        c.quit()
    (msg,) = pf.wait_for_messages(tok)
    postfix_received = [h for h in received_headers(msg.read_bytes()) if f"by {pf.HOSTNAME}" in h]
    assert postfix_received, received_headers(msg.read_bytes())
    assert "[192.0.2.10]" in postfix_received[0], (
        f"Postfix recorded {postfix_received[0]!r}: XCLIENT did not carry the PROXY address")
    m = re.search(r"queued as (\S+)", final.text)
    if m:  # the upstream's 250 is relayed unchanged, so Postfix's queue id is in it
        pf.wait_for_log(rf"{re.escape(m.group(1))}: client=\S*\[192\.0\.2\.10\]")


# ------------------------------------------------------------------------------ (c) relay


@pytest.fixture(scope="module")
def relay_env(warden_binary, tmp_path_factory):
    """One Warden in front of a recording fake upstream, shared by the relay tests
    (each test uses its own SMTP session)."""
    fake = FakeUpstream().start()
    try:
        w = launch_warden(tmp_path_factory.mktemp("relay"), fake.url)
    except Exception:
        fake.close()
        raise
    yield types.SimpleNamespace(warden=w, upstream=fake, started=[w])
    w.stop()
    fake.close()


def rcpt_through(env, rcpt_arg: str):
    """One session: EHLO, MAIL, RCPT TO:<rcpt_arg as given>, QUIT. Returns (reply to RCPT,
    the RCPT commands the upstream received during the session)."""
    before = len(env.upstream.commands_snapshot())
    with RawSMTP(LOCALHOST, env.warden.smtp_port) as c:
        assert c.greeting.code == 220, str(c.greeting)
        assert c.ehlo().code == 250
        r = c.cmd(f"MAIL FROM:<{SENDER}>")
        assert r.code == 250, str(r)
        reply = c.cmd(f"RCPT TO:{rcpt_arg}")
        c.quit()
    time.sleep(0.2)
    new = env.upstream.commands_snapshot()[before:]
    return reply, [x for x in new if x.upper().startswith("RCPT")]


def test_relay_denied(relay_env):
    """Warden is never an open relay: mail for a domain it does not accept is refused
    with 554 5.7.1 Relay access denied and a reference the operator can grep for."""
    reply, upstream_rcpts = rcpt_through(relay_env, "<x@elsewhere.test>")
    assert reply.code == 554 and reply.enhanced == "5.7.1", str(reply)
    assert "Relay access denied" in reply.text, str(reply)
    assert reply.ref, f"refusal without [ref=...]: {reply}"
    assert upstream_rcpts == [], f"the refused RCPT reached the upstream: {upstream_rcpts}"
    line = relay_env.warden.wait_for_log(lambda ln: ln.get("ref") == reply.ref, 5,
                                         f"a log line with ref={reply.ref}")
    assert "verdict" in line and "msg" in line, line


REFUSED_RECIPIENT_FORMS = [
    "<user%elsewhere.test@example.test>",     # percent hack
    "<@example.test:user@elsewhere.test>",     # source route
    "<elsewhere.test!user@example.test>",      # bang path
    '<"user@elsewhere.test"@example.test>',    # quoted local part hiding a domain
    "<user@[127.0.0.1]>",                      # address literal
    "<user@example.test.>",                    # trailing dot
    "<user@example.test >",                    # space inside the brackets
]


@pytest.mark.parametrize("rcpt", REFUSED_RECIPIENT_FORMS)
def test_relay_tricks_refused(relay_env, rcpt):
    """Old relay tricks (percent hack, source routes, bang paths, quoting, literals) can't
    turn Warden into an open relay: refused with a 5xx, never passed to the upstream."""
    reply, upstream_rcpts = rcpt_through(relay_env, rcpt)
    assert 500 <= reply.code < 600, f"RCPT TO:{rcpt} got {reply}"
    if reply.code == 554:
        assert reply.ref, f"policy refusal without [ref=...]: {reply}"
    assert upstream_rcpts == [], f"RCPT TO:{rcpt} reached the upstream as {upstream_rcpts}"


def test_domain_match_is_case_insensitive(relay_env):
    """user@EXAMPLE.TEST is our own domain: accepted and passed on."""
    reply, upstream_rcpts = rcpt_through(relay_env, "<user@EXAMPLE.TEST>")
    assert reply.code == 250, str(reply)
    assert any("user@example.test" in x.lower() for x in upstream_rcpts), upstream_rcpts


# ------------------------------------------------------------------------------ (d) AUTH


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_auth_through_submission(tmp_path, start_warden, postfix_upstream, mech):
    """A user of the submission port logs in (checked by the mail server) and sends; the
    password never appears in Warden's log, in clear or base64."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.url)
    tok = token(f"auth-{mech.lower()}")
    r = run_swaks("--server", f"{LOCALHOST}:{w.submission_port}", "--tls",
                  "--auth", mech, "--auth-user", pf.SASL_USER, "--auth-password", pf.SASL_PASSWORD,
                  "--from", pf.SASL_USER, "--to", "bob@example.test", *swaks_message_args(tok))
    ok = r.find(235)
    assert ok is not None, str(r)
    final = final_data_reply(r)
    assert final is not None and final.code == 250, str(r)
    pf.wait_for_messages(tok)
    w.stop()
    leaks = find_any(w.log_text(), credential_forms(pf.SASL_USER, pf.SASL_PASSWORD))
    assert not leaks, f"credentials in Warden's log: {leaks}"


def test_auth_wrong_password_gets_upstream_535(tmp_path, start_warden, postfix_upstream):
    """A wrong password gets the mail server's own 535 and is not logged."""
    pf = postfix_upstream
    wrong = "not-the-password-42"
    direct = run_swaks("--server", f"{pf.host}:{pf.port}", "--auth", "PLAIN",
                       "--auth-user", pf.SASL_USER, "--auth-password", wrong, "--quit-after", "AUTH")
    expected = direct.find(535)
    assert expected is not None, str(direct)

    w = start_warden(tmp_path, pf.url)
    r = run_swaks("--server", f"{LOCALHOST}:{w.submission_port}", "--tls", "--auth", "PLAIN",
                  "--auth-user", pf.SASL_USER, "--auth-password", wrong, "--quit-after", "AUTH")
    got = r.find(535)
    assert got is not None, str(r)
    assert got.enhanced == "5.7.8" and got.text == expected.text, f"{got} vs Postfix's {expected}"
    w.stop()
    leaks = find_any(w.log_text(), credential_forms(pf.SASL_USER, wrong))
    assert not leaks, f"credentials in Warden's log: {leaks}"


# ------------------------------------------------------------------------------ (e) STARTTLS


def test_starttls_discards_pipelined_plaintext(tmp_path, start_warden, postfix_upstream):
    """A man in the middle cannot inject commands before TLS starts (CVE-2011-0411 class):
    a MAIL pipelined after STARTTLS in plaintext is never executed."""
    w = start_warden(tmp_path, postfix_upstream.url)
    c = RawSMTP(LOCALHOST, w.smtp_port)
    try:
        assert c.greeting.code == 220
        c.send(b"EHLO x\r\nSTARTTLS\r\nMAIL FROM:<a@example.test>\r\n")
        ehlo = c.read_reply()
        assert ehlo.code == 250 and any(ln.upper() == "STARTTLS" for ln in ehlo.lines), str(ehlo)
        ready = c.read_reply()
        assert ready.code == 220, str(ready)
        extra = c.pending(0.5)
        assert extra == b"", f"Warden answered the pipelined plaintext command: {extra!r}"
        c.starttls()
        assert c.ehlo("x").code == 250
        r = c.cmd("RCPT TO:<bob@example.test>")
        assert r.code == 503 and r.enhanced == "5.5.1", f"MAIL from before TLS seems to be in effect: {r}"
        r = c.cmd("MAIL FROM:<a@example.test>")
        assert r.code == 250, str(r)
        assert c.cmd("QUIT").code == 221
    finally:
        c.close()


# ------------------------------------------------------------------------------ (f) hostile


def test_overlong_line_is_refused_and_bounded(tmp_path, start_warden, postfix_upstream):
    """A client sending a 2 MB line without CRLF gets 500 5.5.2; Warden neither buffers it
    nor hangs: QUIT still works (or the session is closed with 421)."""
    w = start_warden(tmp_path, postfix_upstream.url)
    c = RawSMTP(LOCALHOST, w.smtp_port, timeout=15)
    try:
        assert c.ehlo().code == 250
        t, _errors = send_in_background(c.sock.sendall, b"A" * (2 * 1024 * 1024))
        first = c.read_reply(timeout=15)
        assert first.code == 500 and first.enhanced == "5.5.2", str(first)
        t.join(20)
        assert not t.is_alive(), "Warden stopped reading but kept the connection open"
        try:
            c.send(b"\r\nQUIT\r\n")
        except OSError:
            pass
        seen = []
        for _ in range(4):
            try:
                rep = c.read_reply(timeout=10)
            except (SMTPClosed, ConnectionResetError):
                break
            seen.append(rep)
            if rep.code in (221, 421):
                break
        assert seen and seen[-1].code in (221, 421), f"after the long line: {[str(x) for x in seen]}"
    finally:
        c.close()
    with RawSMTP(LOCALHOST, w.smtp_port) as fresh:
        assert fresh.greeting.code == 220
    assert w.alive()


def _pipeline_rcpts(c: RawSMTP, n: int, deadline_s: float = 90):
    payload = b"".join(b"RCPT TO:<u%d@example.test>\r\n" % i for i in range(n))
    t, errors = send_in_background(c.sock.sendall, payload)
    replies = []
    deadline = time.monotonic() + deadline_s
    closed = False
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        try:
            rep = c.read_reply(timeout=15)
        except (SMTPClosed, ConnectionResetError):
            closed = True
            break
        replies.append(rep)
        if rep.code == 421:
            break
    t.join(30)
    return replies, closed


def test_recipient_limit_with_10000_pipelined_rcpt(tmp_path, start_warden, fake_upstream):
    """A spammer pipelining 10,000 RCPTs gets 452 4.5.3 past the 100th, the upstream sees
    only 100, and the session still ends cleanly with QUIT."""
    up = fake_upstream()
    w = start_warden(tmp_path, up.url, limits={"errors": 20000, "commands": 20000})
    c = RawSMTP(LOCALHOST, w.smtp_port, timeout=15)
    try:
        assert c.ehlo().code == 250
        assert c.cmd(f"MAIL FROM:<{SENDER}>").code == 250
        replies, closed = _pipeline_rcpts(c, 10000)
        assert not closed and len(replies) == 10000, f"{len(replies)} replies, closed={closed}, last={replies[-1:]}"
        assert [r.code for r in replies[:100]] == [250] * 100, [str(r) for r in replies[:100] if r.code != 250][:3]
        bad = [str(r) for r in replies[100:] if not r.is_(452, "4.5.3")]
        assert not bad, f"{len(bad)} replies past the limit were not 452 4.5.3, e.g. {bad[:3]}"
        assert c.cmd("QUIT", timeout=15).code == 221
    finally:
        c.close()
    upstream_rcpts = [x for x in up.commands_snapshot() if x.upper().startswith("RCPT")]
    assert len(upstream_rcpts) == 100


def test_recipient_flood_with_default_limits_stays_bounded(tmp_path, start_warden, fake_upstream):
    """Same flood with the default error/command limits: 452 4.5.3 past 100, then either
    the session survives to QUIT or Warden ends it with 421; Warden keeps serving."""
    up = fake_upstream()
    w = start_warden(tmp_path, up.url)
    c = RawSMTP(LOCALHOST, w.smtp_port, timeout=15)
    try:
        assert c.ehlo().code == 250
        assert c.cmd(f"MAIL FROM:<{SENDER}>").code == 250
        replies, closed = _pipeline_rcpts(c, 10000)
        assert len(replies) > 100, [str(r) for r in replies[-3:]]
        assert [r.code for r in replies[:100]] == [250] * 100
        assert replies[100].is_(452, "4.5.3"), str(replies[100])
        last = replies[-1]
        if last.code == 421:
            assert all(r.is_(452, "4.5.3") for r in replies[100:-1])
        else:
            assert not closed, "connection closed without a 421"
            assert all(r.is_(452, "4.5.3") for r in replies[100:])
            assert c.cmd("QUIT", timeout=15).code == 221
    finally:
        c.close()
    with RawSMTP(LOCALHOST, w.smtp_port) as fresh:
        assert fresh.greeting.code == 220


SMUGGLE_TAIL = b"MAIL FROM:<evil@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nsmuggled-%s\r\n.\r\n"
SMUGGLE_VARIANTS = {
    "lf-dot-lf": b"hello-%s\n.\n",
    "crlf-dot-lf": b"hello-%s\r\n.\n",
    "lf-dot-crlf": b"hello-%s\n.\r\n",
}


def _smuggle(w, tok: str, variant: str):
    """One transaction to bob whose data hides a second transaction behind a fake end of data."""
    content = (SMUGGLE_VARIANTS[variant] % tok.encode()) + (SMUGGLE_TAIL % tok.encode())
    c = RawSMTP(LOCALHOST, w.smtp_port, timeout=20)
    try:
        open_transaction(c, rcpt="bob@example.test")
        r = c.cmd("DATA")
        assert r.code == 354, str(r)
        c.send(content)
        end = c.read_reply(timeout=30)
        after = c.quit(timeout=10)  # the next reply must answer QUIT, not a smuggled command
        return end, after
    finally:
        c.close()


@pytest.mark.parametrize("variant", list(SMUGGLE_VARIANTS))
def test_smtp_smuggling_refused_by_default(tmp_path, start_warden, postfix_upstream, variant):
    """SMTP smuggling (bare LF before the dot) cannot inject a second message: by default
    the message is refused with a 5xx and nothing reaches the mailbox."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.url)
    tok = token("smuggle-reject")
    end, after = _smuggle(w, tok, variant)
    assert is_5xx_enhanced(end), f"end of data got {end}"
    assert after is None or after.code in (221, 421), f"a smuggled command was answered: {after}"
    sentinel_roundtrip(pf)
    assert pf.messages_containing(f"smuggled-{tok}") == [], "the smuggled message was delivered"
    assert pf.messages_containing(f"hello-{tok}") == [], "a refused message was delivered"


@pytest.mark.parametrize("variant", list(SMUGGLE_VARIANTS))
def test_smtp_smuggling_normalized(tmp_path, start_warden, postfix_upstream, variant):
    """With bare_line_endings = "normalize" the hidden 'second message' is just text of
    the one message: exactly one delivery, containing it."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.url, limits={"bare_line_endings": "normalize"})
    tok = token("smuggle-normalize")
    end, after = _smuggle(w, tok, variant)
    assert end.code == 250, f"end of data got {end}"
    assert after is not None and after.code == 221, f"the reply after the message was {after}"
    (msg,) = pf.wait_for_messages(f"smuggled-{tok}")
    sentinel_roundtrip(pf)
    found = pf.messages_containing(tok)
    assert found == [msg], f"{len(found)} messages carry the token: {found}"
    body = msg.read_bytes()
    assert f"hello-{tok}".encode() in body
    assert b"MAIL FROM:<evil@example.test>" in body
    assert pf.user_of(msg) == "bob"


# ------------------------------------------------------------------------------ (g) upstream failures


def test_upstream_dies_mid_data_gives_4xx(tmp_path, start_warden, fake_upstream):
    """If the mail server crashes while receiving a message, the sender is told to retry
    later (4xx) and keeps the message: never a 250 for mail that was not stored."""
    up = fake_upstream("die_in_data")
    w = start_warden(tmp_path, up.url)
    tok = token("upstream-dies")
    c = RawSMTP(LOCALHOST, w.smtp_port, timeout=20)
    try:
        open_transaction(c, rcpt="bob@example.test")
        body = "".join(f"line {i} of a message that the upstream will not finish {tok}\r\n" for i in range(2000))
        r354, final = c.data(make_message(tok, rcpt="bob@example.test", body=body), timeout=30)
        assert r354.code == 354, str(r354)
        assert final.code in (421, 451), f"after the final dot: {final}"
    except (SMTPClosed, ConnectionResetError) as e:
        pytest.fail(f"connection dropped without a 4xx reply: {e!r}")
    finally:
        c.close()
    assert any(x.upper().startswith("DATA") for x in up.commands_snapshot()), up.commands_snapshot()


def test_upstream_down_gives_4xx_at_mail(tmp_path, start_warden):
    """With the mail server down, senders get a temporary failure at MAIL (421 4.4.2 or
    451 4.4.1) and retry later; nothing bounces."""
    dead_port = free_port()
    w = start_warden(tmp_path, f"smtp://{LOCALHOST}:{dead_port}")
    with RawSMTP(LOCALHOST, w.smtp_port, timeout=20) as c:
        assert c.greeting.code == 220, str(c.greeting)
        assert c.ehlo().code == 250
        r = c.cmd(f"MAIL FROM:<{SENDER}>", timeout=20)
        assert (r.code, r.enhanced) in ((421, "4.4.2"), (451, "4.4.1")), str(r)
        c.quit()


# ------------------------------------------------------------------------------ (h) load


def test_500_held_connections_do_not_starve_a_new_client(tmp_path, start_warden, postfix_upstream):
    """500 idle connections held open do not lock legitimate senders out: a new client
    gets its greeting (or a clear 421) within 2 seconds."""
    w = start_warden(tmp_path, postfix_upstream.url, server={"max_sessions_per_client": 1000})
    held: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 20
        for i in range(500):
            assert time.monotonic() < deadline, f"only {i} connections opened in 20 s"
            held.append(socket.create_connection((LOCALHOST, w.smtp_port), timeout=5))
        start = time.monotonic()
        try:
            fresh = RawSMTP(LOCALHOST, w.smtp_port, timeout=2.0)
        except socket.timeout:
            pytest.fail("no greeting within 2 s with 500 connections held")
        with fresh:
            elapsed = time.monotonic() - start
            assert fresh.greeting.code in (220, 421), str(fresh.greeting)
            assert elapsed <= 2.0
            if fresh.greeting.code == 220:
                assert fresh.ehlo().code == 250
    finally:
        for s in held:
            s.close()
    assert w.alive()


def test_per_client_session_limit(tmp_path, start_warden, postfix_upstream):
    """One address cannot take all sessions: past max_sessions_per_client (default 50)
    it gets 421 4.7.0."""
    w = start_warden(tmp_path, postfix_upstream.url)
    clients: list[RawSMTP] = []
    try:
        for _ in range(60):
            c = RawSMTP(LOCALHOST, w.smtp_port, timeout=5)
            clients.append(c)
            if c.greeting.code != 220:
                break
        greeted = sum(1 for c in clients if c.greeting.code == 220)
        last = clients[-1].greeting
        assert last.code == 421 and last.enhanced == "4.7.0", f"after {greeted} sessions: {last}"
        assert 45 <= greeted <= 50, f"{greeted} sessions greeted before the 421"
    finally:
        for c in clients:
            c.close()


# ------------------------------------------------------------------------------ (i) SIGTERM


def test_sigterm_drains_and_exits_zero(tmp_path, start_warden, postfix_upstream):
    """On SIGTERM (deploy, reboot) new clients are turned away with 421 4.3.2 (or refused),
    a message in flight is either accepted and delivered or deferred (4xx), never lost,
    and the process exits 0 within the grace period."""
    pf = postfix_upstream
    grace = 5
    w = start_warden(tmp_path, pf.url, server={"shutdown_grace_seconds": grace})
    tok = token("sigterm")
    msg = make_message(tok, rcpt="bob@example.test").encode()
    half = len(msg) // 2
    a = RawSMTP(LOCALHOST, w.smtp_port, timeout=15)
    b = RawSMTP(LOCALHOST, w.smtp_port, timeout=15)
    try:
        open_transaction(a, rcpt="bob@example.test")
        assert a.cmd("DATA").code == 354
        a.send(msg[:half])
        assert b.ehlo().code == 250

        w.send_signal(signal.SIGTERM)
        t_term = time.monotonic()
        time.sleep(0.5)

        try:
            with RawSMTP(LOCALHOST, w.smtp_port, timeout=5) as late:
                g = late.greeting
                assert g.code == 421 and g.enhanced == "4.3.2", f"new connection after SIGTERM got {g}"
        except (ConnectionRefusedError, ConnectionResetError):
            pass
        except SMTPClosed:
            pytest.fail("a new connection after SIGTERM was accepted and closed without 421 4.3.2")

        try:
            a.send(msg[half:] + b"\r\n.\r\n")
        except OSError:
            pass
        try:
            final = a.read_reply(timeout=grace + 5)
        except (SMTPClosed, ConnectionResetError):
            pytest.fail("the transaction in flight was cut without a reply")
        assert final.code == 250 or final.code // 100 == 4, f"in-flight message got {final}"
        if final.code == 250:
            pf.wait_for_messages(tok)

        try:
            rb = b.read_reply(timeout=grace + 3)
            assert rb.code == 421 and rb.enhanced == "4.3.2", f"idle session got {rb}"
        except (SMTPClosed, ConnectionResetError):
            pass

        rc = w.wait(max(0.5, grace + 3 - (time.monotonic() - t_term)))
        assert rc is not None, f"warden still running {grace + 3} s after SIGTERM (grace {grace} s)"
        assert rc == 0, f"warden exited with {rc}\n{tail(w.log_text())}"
    finally:
        a.close()
        b.close()


# ------------------------------------------------------------------------------ CLI and metrics


def test_check_accepts_the_harness_config(tmp_path, warden_binary):
    """`warden check` accepts a valid configuration (exit 0)."""
    _, path = write_warden_config(tmp_path, f"maildir:{tmp_path / 'maildir'}")
    p = run_warden_command("check", "--config", str(path))
    assert p.returncode == 0, (p.stdout + p.stderr).decode(errors="replace")


def test_check_reports_unknown_key_with_line(tmp_path, warden_binary):
    """A typo in warden.toml is reported as FILE:LINE: reason, not ignored."""
    cfg = merge_config(default_config(f"maildir:{tmp_path / 'maildir'}"), {"limits": {"recipeints": 10}})
    text = to_toml(cfg)
    _, path = write_warden_config(tmp_path, "maildir:maildir")
    path.write_text(text)
    line_no = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith("recipeints"))
    p = run_warden_command("check", "--config", str(path))
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode != 0, out
    assert re.search(rf"warden\.toml:{line_no}\b", out), f"expected warden.toml:{line_no}: in:\n{out}"
    assert "recipeints" in out, out


def test_metrics_healthz(tmp_path, start_warden):
    """The metrics address answers /healthz, so a load balancer can probe Warden."""
    w = start_warden(tmp_path, f"maildir:{tmp_path / 'maildir'}")
    url = f"http://{LOCALHOST}:{w.metrics_port}/healthz"
    status = wait_until(lambda: _http_status(url), 10, f"{url} to answer")
    assert status == 200, status


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None
