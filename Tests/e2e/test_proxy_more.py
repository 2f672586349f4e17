"""More of Warden end to end: SIGHUP reload, deadlines, big messages that spill to disk,
the smtps listener, the message size limit, STARTTLS and PROXY headers towards the upstream.

Same rules as test_proxy.py: every test starts its own `warden run --config FILE` (see
conftest.start_warden), talks to it on 127.0.0.1 only, and every wait is bounded. The
upstream is the session's private Postfix (with its STARTTLS and PROXY-protocol smtpd
services, see harness.PostfixUpstream) or the embedded maildir store. Each docstring says
what a user would notice if the test failed."""

from __future__ import annotations

import copy
import os
import re
import signal
import socket
import ssl
import threading
import time

import pytest

from harness import (
    http_get,
    metric_value,
    LOCALHOST,
    RawSMTP,
    Reply,
    SMTPClosed,
    make_message,
    received_headers,
    smtp_send,
    to_toml,
    token,
    wait_until,
    warden_missing_reason,
)

if warden_missing_reason() and os.environ.get("WARDEN_E2E_REQUIRE_BIN") != "1":
    pytest.skip(warden_missing_reason(), allow_module_level=True)

pytestmark = pytest.mark.usefixtures("warden_binary")

SENDER = "sender@example.org"


# ------------------------------------------------------------------------------ helpers


def rcpt_reply(w, rcpt: str) -> Reply:
    """A new session: EHLO, MAIL, RCPT TO:<rcpt>, QUIT; returns the reply to RCPT."""
    with RawSMTP(LOCALHOST, w.smtp_port) as c:
        assert c.greeting.code == 220, str(c.greeting)
        assert c.ehlo().code == 250
        r = c.cmd(f"MAIL FROM:<{SENDER}>")
        assert r.code == 250, str(r)
        reply = c.cmd(f"RCPT TO:<{rcpt}>")
        c.quit()
    return reply


def open_transaction(c: RawSMTP, rcpt: str = "bob@example.test", mail_params: str = "") -> None:
    r = c.ehlo()
    assert r.code == 250, str(r)
    r = c.cmd(f"MAIL FROM:<{SENDER}>{(' ' + mail_params) if mail_params else ''}")
    assert r.code == 250, str(r)
    r = c.cmd(f"RCPT TO:<{rcpt}>")
    assert r.code == 250, str(r)


def sentinel_roundtrip(pf) -> None:
    """Send one message straight to Postfix and wait for its delivery: anything Postfix
    queued before it has been delivered by then too."""
    tok = token("sentinel")
    res = smtp_send(pf.host, pf.port, SENDER, "dave@example.test", make_message(tok, rcpt="dave@example.test"))
    assert res.ok, res
    pf.wait_for_messages(tok)
    time.sleep(1.0)


def read_until_closed(c: RawSMTP, timeout: float) -> tuple[bytes, bool]:
    """Everything the server sends until it closes the connection (True) or `timeout`
    passes (False). Bounded in time and in reads."""
    data = bytearray(c.buf)
    c.buf.clear()
    deadline = time.monotonic() + timeout
    for _ in range(1000):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return bytes(data), False
        c.sock.settimeout(remaining)
        try:
            chunk = c.sock.recv(65536)
        except socket.timeout:
            return bytes(data), False
        except (ConnectionResetError, ssl.SSLError):
            return bytes(data), True
        if not chunk:
            return bytes(data), True
        data += chunk
    return bytes(data), False


def postfix_received(pf, raw: bytes) -> str:
    """The Received: header Postfix itself added to a delivered message."""
    ours = [h for h in received_headers(raw) if f"by {pf.HOSTNAME}" in h]
    assert ours, f"no Received: header by {pf.HOSTNAME}: {received_headers(raw)}"
    return ours[0]


def queue_id(final_reply_text: str) -> str | None:
    m = re.search(r"queued as (\S+)", final_reply_text)
    return m.group(1) if m else None


# ------------------------------------------------------------------------------ 1. SIGHUP


def test_sighup_reload_applies_and_keeps_settings_on_error(tmp_path, start_warden):
    """An operator who adds a domain to accepted_domains and sends SIGHUP sees new sessions
    accept mail for it without a restart; a typo in the file on the next SIGHUP is logged
    as 'reload failed, previous settings kept' with FILE:LINE, and mail for the added
    domain keeps flowing. /metrics counts one successful and one failed reload."""
    w = start_warden(tmp_path, f"maildir:{tmp_path / 'maildir'}")
    health = f"http://{LOCALHOST}:{w.metrics_port}/healthz"
    wait_until(lambda: http_get(health), 10, f"{health} to answer")  # fully started

    before = rcpt_reply(w, "x@other.test")
    assert before.code == 554 and before.enhanced == "5.7.1", f"before the reload: {before}"

    cfg = copy.deepcopy(w.config)
    cfg["relay"]["accepted_domains"] = [*cfg["relay"]["accepted_domains"], "other.test"]
    good_text = to_toml(cfg)
    w.config_path.write_text(good_text)
    w.send_signal(signal.SIGHUP)
    line = w.wait_for_log(lambda ln: ln.get("msg") == "reloaded", 10, 'the log line msg="reloaded"')
    assert w.alive(), "warden exited on SIGHUP"
    assert str(w.config_path.name) in str(line.get("file", "")), line

    after = rcpt_reply(w, "x@other.test")
    assert after.code == 250, f"after reloading with other.test accepted: {after}"

    broken = good_text + '\n[limits]\nrecipients = "many"\n'
    bad_line = next(i for i, ln in enumerate(broken.splitlines(), 1) if ln == 'recipients = "many"')
    w.config_path.write_text(broken)
    w.send_signal(signal.SIGHUP)
    fail = w.wait_for_log(lambda ln: ln.get("msg") == "reload failed, previous settings kept", 10,
                          'the log line msg="reload failed, previous settings kept"')
    assert w.alive(), "warden exited on SIGHUP with a broken file"
    error = str(fail.get("error", ""))
    assert f"{w.config_path}:{bad_line}" in error, (
        f"expected {w.config_path}:{bad_line} in the error field: {fail}")
    assert "recipients" in error, fail

    kept = rcpt_reply(w, "x@other.test")
    assert kept.code == 250, f"after the failed reload (previous settings should be kept): {kept}"
    still_refused = rcpt_reply(w, "x@elsewhere.test")
    assert still_refused.code == 554, str(still_refused)

    got = http_get(f"http://{LOCALHOST}:{w.metrics_port}/metrics")
    assert got is not None and got[0] == 200, got
    text = got[1]
    ok = metric_value(text, "warden_config_reloads_total", 'result="success"')
    bad = metric_value(text, "warden_config_reloads_total", 'result="failure"')
    assert (ok, bad) == (1, 1), (
        f"warden_config_reloads_total success={ok} failure={bad}:\n"
        + "\n".join(ln for ln in text.splitlines() if "reload" in ln))


# ------------------------------------------------------------------------------ 2. deadlines


def test_silent_client_gets_421_after_greeting_deadline(tmp_path, start_warden):
    """A client that connects and never says EHLO is dropped with 421 4.4.2 once
    timeouts.greeting_seconds (1 s here) has passed, instead of holding a session."""
    w = start_warden(tmp_path, f"maildir:{tmp_path / 'maildir'}", timeouts={"greeting_seconds": 1})
    start = time.monotonic()
    c = RawSMTP(LOCALHOST, w.smtp_port, timeout=10)
    try:
        assert c.greeting.code == 220, str(c.greeting)
        try:
            r = c.read_reply(timeout=3.5 - (time.monotonic() - start))
        except socket.timeout:
            pytest.fail("no reply within 3.5 s of connecting with greeting_seconds = 1")
        except SMTPClosed:
            pytest.fail("closed without a 421 reply")
        elapsed = time.monotonic() - start
        assert r.code == 421 and r.enhanced == "4.4.2", str(r)
        assert 0.8 <= elapsed <= 3.5, f"421 after {elapsed:.2f} s (greeting_seconds = 1)"
        rest, closed = read_until_closed(c, 2.0)
        assert closed, f"connection still open 2 s after the 421 (then got {rest!r})"
    finally:
        c.close()


def test_slowloris_command_line_hits_deadline(tmp_path, start_warden):
    """A slowloris client that keeps a command line open by sending one byte every 0.5 s
    is cut off with 421 4.4.2 when timeouts.command_seconds (2 s) is up: the limit is a
    deadline for the whole line, not an idle timer that each byte resets."""
    w = start_warden(tmp_path, f"maildir:{tmp_path / 'maildir'}",
                     timeouts={"greeting_seconds": 2, "command_seconds": 2})
    c = RawSMTP(LOCALHOST, w.smtp_port, timeout=10)
    try:
        assert c.greeting.code == 220, str(c.greeting)
        assert c.ehlo().code == 250
        trickle = b"NOOP " + b"x" * 40  # never a CRLF: the line never ends
        start = time.monotonic()
        received = bytearray()
        sent = 0
        closed = False
        for i in range(len(trickle)):
            if time.monotonic() - start > 6:
                break
            try:
                c.send(trickle[i:i + 1])
                sent += 1
            except OSError:
                closed = True
                break
            chunk, closed = read_until_closed(c, 0.5)  # doubles as the 0.5 s pause
            received += chunk
            if closed or b"421" in received:
                break
        elapsed = time.monotonic() - start
        assert received.startswith(b"421"), (
            f"after {sent} bytes in {elapsed:.1f} s: got {bytes(received)!r} (closed={closed})")
        reply = received.split(b"\r\n", 1)[0].decode("utf-8", "replace")
        assert re.match(r"^421 4\.4\.2 ", reply), reply
        assert elapsed <= 5.0, f"421 only after {elapsed:.1f} s of trickling (command_seconds = 2)"
        if not closed:
            rest, closed = read_until_closed(c, 2.0)
        assert closed, "connection still open 2 s after the 421"
    finally:
        c.close()


# ------------------------------------------------------------------------------ 3. big message


def big_body(tok: str, target: int = 3 * 1024 * 1024) -> list[bytes]:
    """Body lines (without line endings) of about `target` bytes: dot lines that need
    stuffing, 998-byte lines, 8-bit UTF-8 text, empty lines."""
    lines: list[bytes] = [f"Token: {tok}".encode()]
    size = 0
    for i in range(100000):
        if size >= target:
            break
        block = [
            b".",
            b"..",
            b"...",
            f".leading dot {i}".encode(),
            f"..two leading dots {i}".encode(),
            f"{i:08d}".encode() + b"L" * 990,                        # 998 bytes
            "Grüße aus Köln, naïve café, Ελληνικά, 日本語のテキスト {0}".format(i).encode(),
            ("é" * 499).encode(),                                    # 998 bytes of UTF-8
            b"",
            b" . not a dot line",
            b"x.",
        ]
        lines.extend(block)
        size += sum(len(b) + 2 for b in block)
    lines.append(f"End of {tok}".encode())
    return lines


def test_big_8bit_message_with_dots_spills_and_arrives_intact(tmp_path, start_warden, postfix_upstream):
    """A 3 MB 8BITMIME message full of lines starting with dots, 998-byte lines and UTF-8
    text arrives at the mailbox byte for byte (no lost or doubled dots, no mangled 8-bit
    text), even though Warden spills it to disk (memory_spool = 64 KiB), and the spool
    file is gone afterwards."""
    pf = postfix_upstream
    spool = tmp_path / "spool"
    spool.mkdir()
    w = start_warden(tmp_path, pf.url, limits={"memory_spool": 65536, "spool_directory": str(spool)})
    tok = token("big8bit")
    body_lines = big_body(tok)
    headers = (f"From: <{SENDER}>\r\nTo: <bob@example.test>\r\nSubject: big {tok}\r\n"
               f"Message-ID: <{tok}@e2e.test>\r\nX-E2E-Token: {tok}\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
    message = headers.encode() + b"".join(ln + b"\r\n" for ln in body_lines)
    assert len(message) > 3 * 1024 * 1024

    seen_spool: set[str] = set()
    stop = threading.Event()

    def watch() -> None:
        for _ in range(20000):  # <= 20000 * 5 ms
            if stop.is_set():
                return
            try:
                seen_spool.update(os.listdir(spool))
            except OSError:
                pass
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        res = smtp_send(LOCALHOST, w.smtp_port, SENDER, "bob@example.test", message,
                        mail_options=["BODY=8BITMIME"], timeout=60)
    finally:
        stop.set()
        watcher.join(5)
    assert res.ok and res.code == 250, res

    (msg,) = pf.wait_for_messages(tok, timeout=30)
    raw = msg.read_bytes().replace(b"\r\n", b"\n")
    head, sep, body = raw.partition(b"\n\n")
    assert sep, "delivered file has no header/body separator"
    assert b"X-E2E-Token: " + tok.encode() in head
    got_lines = body.split(b"\n")
    if got_lines and got_lines[-1] == b"":
        got_lines.pop()
    if got_lines != body_lines:
        first = next((i for i, (a, b) in enumerate(zip(got_lines, body_lines)) if a != b),
                     min(len(got_lines), len(body_lines)))
        pytest.fail(f"body differs: {len(got_lines)} lines delivered, {len(body_lines)} sent; first "
                    f"difference at line {first}: delivered {got_lines[first:first + 1]!r} vs "
                    f"sent {body_lines[first:first + 1]!r}")

    assert any(n.startswith("warden-spool-") for n in seen_spool), (
        f"no spool file seen in {spool} while a 3 MB message passed with memory_spool = 64 KiB: {seen_spool}")
    try:
        wait_until(lambda: os.listdir(spool) == [], 5, f"{spool} to be empty")
    except TimeoutError:
        pytest.fail(f"spool files left behind after the session: {os.listdir(spool)}")


# ------------------------------------------------------------------------------ 4. smtps


def test_smtps_listener_implicit_tls(tmp_path, start_warden, postfix_upstream):
    """A mail client configured for port 465-style implicit TLS (smtps) gets the greeting
    over TLS, sees AUTH PLAIN LOGIN but no STARTTLS in EHLO (already encrypted), and its
    message reaches the mailbox."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.url, listener={"smtps": {"kind": "smtps"}})
    port = w.ports["smtps"]

    c = RawSMTP(LOCALHOST, port, timeout=10, implicit_tls=True)
    try:
        assert c.greeting.code == 220, str(c.greeting)
        assert isinstance(c.sock, ssl.SSLSocket) and c.sock.version(), "no TLS session"
        ehlo = c.ehlo()
        assert ehlo.code == 250, str(ehlo)
        upper = [ln.upper() for ln in ehlo.lines]
        assert "STARTTLS" not in upper, f"STARTTLS offered inside implicit TLS: {ehlo}"
        assert any(ln.split() == ["AUTH", "PLAIN", "LOGIN"] for ln in upper), f"AUTH PLAIN LOGIN missing: {ehlo}"
        assert c.cmd("QUIT").code == 221
    finally:
        c.close()

    with socket.create_connection((LOCALHOST, port), timeout=5) as plain:
        plain.settimeout(1)  # a TLS server waits for the ClientHello: silence
        try:
            data = plain.recv(100)
        except (socket.timeout, ConnectionResetError):
            data = b""
        assert not data.startswith(b"220"), f"plaintext greeting on the smtps port: {data!r}"

    tok = token("smtps")
    res = smtp_send(LOCALHOST, port, SENDER, "alice@example.test", make_message(tok), implicit_tls=True)
    assert res.ok, res
    (msg,) = pf.wait_for_messages(tok)
    assert pf.user_of(msg) == "alice"


# ------------------------------------------------------------------------------ 5. message size


def test_message_size_limit(tmp_path, start_warden, postfix_upstream):
    """With limits.message_size = 10000 a client announcing SIZE=20000 is refused at MAIL
    with 552 5.3.4, a 20 KB message sent without SIZE is refused after the final dot with
    552 5.3.4 [ref=...] (never a 250), the session goes on, and nothing is delivered."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.url, limits={"message_size": 10000})
    tok = token("toobig")
    body = "".join(f"line {i:05d} of a message that is too large {tok}\r\n" for i in range(400))
    message = make_message(tok, rcpt="bob@example.test", body=body)
    assert len(message.encode()) > 20000
    c = RawSMTP(LOCALHOST, w.smtp_port, timeout=20)
    try:
        ehlo = c.ehlo()
        assert ehlo.code == 250, str(ehlo)
        assert "SIZE 10000" in [ln.upper() for ln in ehlo.lines], f"EHLO does not announce SIZE 10000: {ehlo}"

        r = c.cmd(f"MAIL FROM:<{SENDER}> SIZE=20000")
        assert r.code == 552 and r.enhanced == "5.3.4", f"MAIL with SIZE=20000: {r}"

        r = c.cmd(f"MAIL FROM:<{SENDER}>")
        assert r.code == 250, f"MAIL after the refused one: {r}"
        r = c.cmd("RCPT TO:<bob@example.test>")
        assert r.code == 250, str(r)
        r354, final = c.data(message, timeout=20)
        assert r354.code == 354, str(r354)
        assert final.code == 552 and final.enhanced == "5.3.4", f"after the final dot: {final}"
        assert final.ref, f"552 without [ref=...]: {final}"

        r = c.cmd("NOOP")
        assert r.code == 250, f"NOOP after the 552: {r}"
        assert c.cmd("QUIT").code == 221
    finally:
        c.close()
    w.wait_for_log(lambda ln: ln.get("ref") == final.ref, 5, f"a log line with ref={final.ref}")
    sentinel_roundtrip(pf)
    assert pf.messages_containing(tok) == [], "the oversized message was delivered"


def test_message_larger_than_its_declared_size(tmp_path, start_warden, postfix_upstream):
    """A client that declares SIZE=2000 and then sends 8 KB (under the 10 KB limit) gets
    552 5.3.4 after the data rather than a delivery of more than it announced."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.url, limits={"message_size": 10000})
    tok = token("liar")
    body = "".join(f"line {i:05d} of a message bigger than declared {tok}\r\n" for i in range(100))
    message = make_message(tok, rcpt="bob@example.test", body=body)
    assert 2000 < len(message.encode()) < 10000
    c = RawSMTP(LOCALHOST, w.smtp_port, timeout=20)
    try:
        open_transaction(c, rcpt="bob@example.test", mail_params="SIZE=2000")
        r354, final = c.data(message, timeout=20)
        assert r354.code == 354, str(r354)
        assert final.code == 552 and final.enhanced == "5.3.4", f"after the final dot: {final}"
        assert c.cmd("NOOP").code == 250
        c.quit()
    finally:
        c.close()
    sentinel_roundtrip(pf)
    assert pf.messages_containing(tok) == [], "the message larger than its SIZE was delivered"


# ------------------------------------------------------------------------------ 6. upstream TLS


def test_upstream_tls_required_encrypts_to_postfix(tmp_path, start_warden, postfix_upstream):
    """With upstream.tls = "required" (tls_verify = false for the self-signed test
    certificate) mail still arrives, and the mail server saw it over TLS: its log has the
    TLS handshake and its Received: header says TLS."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.tls_url, upstream={"tls": "required", "tls_verify": False})
    tok = token("upstream-tls")
    with RawSMTP(LOCALHOST, w.smtp_port, timeout=20) as c:
        open_transaction(c, rcpt="carol@example.test")
        r354, final = c.data(make_message(tok, rcpt="carol@example.test"))
        assert r354.code == 354 and final.code == 250, f"{r354} / {final}"
        c.quit()
    (msg,) = pf.wait_for_messages(tok)
    rec = postfix_received(pf, msg.read_bytes())
    assert re.search(r"using TLSv1\.[23] with cipher", rec), f"Postfix's Received: shows no TLS: {rec!r}"
    pf.wait_for_log(r"postfix-e2e/tls/smtpd\[\d+\]: (Anonymous |Untrusted |Trusted |Verified )?"
                    r"TLS connection established from \S*\[127\.0\.0\.1\]")
    qid = queue_id(final.text)
    if qid:
        pf.wait_for_log(rf"postfix-e2e/tls/smtpd\[\d+\]: {re.escape(qid)}: client=")


def test_upstream_tls_required_but_not_offered_gives_451(tmp_path, start_warden, postfix_upstream):
    """If the mail server does not offer STARTTLS and upstream.tls = "required", Warden
    never sends the mail in clear: the client is told 451 4.4.1 at MAIL and retries later."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.url, upstream={"tls": "required", "tls_verify": False})
    with RawSMTP(LOCALHOST, w.smtp_port, timeout=20) as c:
        assert c.ehlo().code == 250
        r = c.cmd(f"MAIL FROM:<{SENDER}>", timeout=20)
        assert r.code == 451 and r.enhanced == "4.4.1", f"MAIL with a plaintext-only upstream: {r}"
        assert r.ref, f"451 without [ref=...]: {r}"
        c.quit()


def test_upstream_tls_verification_refuses_untrusted_certificate(tmp_path, start_warden, postfix_upstream):
    """With tls_verify left on (the default), a mail server presenting a certificate that
    nothing trusts is not used: 451 4.4.1 at MAIL, not mail sent to an unverified peer."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.tls_url, upstream={"tls": "required"})
    with RawSMTP(LOCALHOST, w.smtp_port, timeout=20) as c:
        assert c.ehlo().code == 250
        r = c.cmd(f"MAIL FROM:<{SENDER}>", timeout=20)
        assert r.code == 451 and r.enhanced == "4.4.1", f"MAIL with an untrusted upstream certificate: {r}"
        c.quit()


def test_upstream_tls_verified_with_ca_file(tmp_path, start_warden, postfix_upstream):
    """With tls_ca_file pointing at the mail server's certificate and tls_server_name set
    to its name, verification succeeds and mail is delivered over TLS."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.tls_url, upstream={"tls": "required", "tls_ca_file": str(pf.tls_cert),
                                                     "tls_server_name": pf.HOSTNAME})
    tok = token("upstream-tls-ca")
    with RawSMTP(LOCALHOST, w.smtp_port, timeout=20) as c:
        open_transaction(c, rcpt="carol@example.test")
        r354, final = c.data(make_message(tok, rcpt="carol@example.test"))
        assert r354.code == 354 and final.code == 250, f"{r354} / {final}"
        c.quit()
    (msg,) = pf.wait_for_messages(tok)
    rec = postfix_received(pf, msg.read_bytes())
    assert "using TLS" in rec, f"Postfix's Received: shows no TLS: {rec!r}"


# ------------------------------------------------------------------------------ 7. PROXY upstream


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_proxy_header_to_upstream_carries_client_address(tmp_path, start_warden, postfix_upstream, version):
    """With upstream.proxy_protocol = v1/v2 the mail server (Postfix with
    smtpd_upstream_proxy_protocol = haproxy) records the real client address, here the
    one a trusted load balancer gave Warden in its own PROXY header, not 127.0.0.1."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.haproxy_url, upstream={"proxy_protocol": version},
                     listener={"smtp": {"proxy_protocol": True, "proxy_trusted": ["127.0.0.1/32"]}})
    tok = token(f"proxy-{version}")
    header = b"PROXY TCP4 192.0.2.77 127.0.0.1 40077 25\r\n"
    with RawSMTP(LOCALHOST, w.smtp_port, timeout=20, proxy_header=header) as c:
        assert c.greeting.code == 220, str(c.greeting)
        open_transaction(c, rcpt="carol@example.test")
        r354, final = c.data(make_message(tok, rcpt="carol@example.test"))
        assert r354.code == 354 and final.code == 250, f"{r354} / {final}"
        c.quit()
    (msg,) = pf.wait_for_messages(tok)
    rec = postfix_received(pf, msg.read_bytes())
    assert "[192.0.2.77]" in rec, f"Postfix recorded {rec!r}, not the client 192.0.2.77"
    qid = queue_id(final.text)
    assert qid, f"no queue id in the relayed 250: {final}"
    pf.wait_for_log(rf"postfix-e2e/haproxy/smtpd\[\d+\]: {re.escape(qid)}: client=\S*\[192\.0\.2\.77\]")
