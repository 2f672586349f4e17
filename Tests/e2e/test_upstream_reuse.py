"""Warden end to end: upstream sessions kept between client sessions (`upstream.reuse_idle_seconds`).

A client session that ends with no transaction open leaves its upstream session to the next
client session on the same event loop, which sends RSET with its MAIL (in one write when the
upstream offers PIPELINING) and opens a fresh connection when the RSET fails. Sessions that told the upstream who the client is (XCLIENT, a PROXY header) or saw
AUTH are never reused."""

from __future__ import annotations

import os
import time

import pytest

from harness import (
    LOCALHOST,
    make_message,
    metric_value,
    metrics,
    RawSMTP,
    token,
    wait_until,
    warden_missing_reason,
)

if warden_missing_reason() and os.environ.get("WARDEN_E2E_REQUIRE_BIN") != "1":
    pytest.skip(warden_missing_reason(), allow_module_level=True)

pytestmark = pytest.mark.usefixtures("warden_binary")

SENDER = "sender@example.org"


def send_one(w, tok: str) -> None:
    """One client session: one message, then QUIT."""
    with RawSMTP(LOCALHOST, w.smtp_port, timeout=20) as c:
        assert c.greeting.code == 220, str(c.greeting)
        assert c.ehlo().code == 250
        assert c.cmd(f"MAIL FROM:<{SENDER}>").code == 250
        assert c.cmd("RCPT TO:<bob@example.test>").code == 250
        r354, final = c.data(make_message(tok, rcpt="bob@example.test"))
        assert r354.code == 354 and final.code == 250, f"{r354} / {final}"
        c.quit()


def upstream_verbs(up) -> list[str]:
    return [c.split(" ", 1)[0].upper() for c in up.commands_snapshot()]


def test_consecutive_sessions_share_upstream_sessions(tmp_path, start_warden, fake_upstream):
    """Six client sessions, one after the other: each event loop opens one upstream session
    (greeting, EHLO) and every later client session on that loop reuses it after an RSET; every
    message is stored and no kept session is ended. (Sessions are spread over the event loops,
    one per core: six sessions reuse at least once on up to five cores.)"""
    up = fake_upstream()
    w = start_warden(tmp_path, up.url)
    toks = [token(f"reuse-{i}") for i in range(6)]
    for tok in toks:
        send_one(w, tok)
    wait_until(lambda: len(up.messages) == 6, 10, "six messages upstream")
    assert all(any(t.encode() in m for m in up.messages) for t in toks)
    verbs = upstream_verbs(up)
    reused = metric_value(metrics(w), "warden_upstream_reused_total")
    assert reused is not None and reused >= 1, (reused, verbs)
    assert up.connections + reused == 6, (up.connections, reused)
    assert verbs.count("EHLO") == up.connections and verbs.count("RSET") == reused, verbs
    assert [v for v in verbs if v not in ("EHLO", "RSET")] == ["MAIL", "RCPT", "DATA"] * 6, verbs
    assert "QUIT" not in verbs, "a kept session is not ended"


def test_kept_session_that_refuses_rset_is_replaced(tmp_path, start_warden, fake_upstream):
    """The upstream drops the kept session (RSET answered 421): the next client never notices,
    Warden opens a fresh connection and the message is stored. (Four sessions meet a kept one
    at least once on up to three cores.)"""
    up = fake_upstream("refuse_rset")
    w = start_warden(tmp_path, up.url)
    toks = [token(f"rset-{i}") for i in range(4)]
    for tok in toks:
        send_one(w, tok)
    wait_until(lambda: len(up.messages) == 4, 10, "four messages upstream")
    verbs = upstream_verbs(up)
    assert up.connections == 4, (up.connections, verbs)
    assert verbs.count("EHLO") == 4 and verbs.count("RSET") >= 1, verbs
    assert metric_value(metrics(w), "warden_upstream_reused_total") == 0


def test_rset_goes_out_with_mail_in_one_write(tmp_path, start_warden, fake_upstream):
    """On a kept session the RSET costs no round trip of its own: it arrives in the same read
    as the MAIL after it (the fake upstream offers PIPELINING)."""
    up = fake_upstream()
    w = start_warden(tmp_path, up.url)
    for i in range(6):
        send_one(w, token(f"pipelined-{i}"))
    wait_until(lambda: len(up.messages) == 6, 10, "six messages upstream")
    arrivals = up.arrivals_snapshot()
    after_rset = [(cmd, batched) for (prev, _), (cmd, batched) in zip(arrivals, arrivals[1:])
                  if prev.upper() == "RSET"]
    assert after_rset, arrivals
    assert all(cmd.upper().startswith("MAIL FROM:") and batched for cmd, batched in after_rset), arrivals


def test_upstream_without_pipelining_gets_rset_answered_first(tmp_path, start_warden, fake_upstream):
    """An upstream that does not offer PIPELINING: the kept session's RSET is answered before
    the MAIL is sent, and sessions are still reused."""
    up = fake_upstream("no_pipelining")
    w = start_warden(tmp_path, up.url)
    for i in range(6):
        send_one(w, token(f"lockstep-{i}"))
    wait_until(lambda: len(up.messages) == 6, 10, "six messages upstream")
    reused = metric_value(metrics(w), "warden_upstream_reused_total")
    assert reused is not None and reused >= 1, reused
    arrivals = up.arrivals_snapshot()
    assert not any(batched for _, batched in arrivals), arrivals
    assert [c.split(" ", 1)[0].upper() for c, _ in arrivals].count("RSET") == reused


def test_reuse_off_ends_every_upstream_session(tmp_path, start_warden, fake_upstream):
    """reuse_idle_seconds = 0: each client session has its own upstream session, ended by QUIT."""
    up = fake_upstream()
    w = start_warden(tmp_path, up.url, upstream={"reuse_idle_seconds": 0})
    for i in range(2):
        send_one(w, token(f"noreuse-{i}"))
    wait_until(lambda: upstream_verbs(up).count("QUIT") == 2, 10, "both upstream sessions to end")
    assert up.connections == 2
    assert "RSET" not in upstream_verbs(up)


def test_idle_kept_session_is_ended_after_the_idle_time(tmp_path, start_warden, fake_upstream):
    """A kept session nobody takes is ended with QUIT after reuse_idle_seconds."""
    up = fake_upstream()
    w = start_warden(tmp_path, up.url, upstream={"reuse_idle_seconds": 1})
    send_one(w, token("idle"))
    started = time.monotonic()
    wait_until(lambda: "QUIT" in upstream_verbs(up), 10, "the idle upstream session to end")
    assert time.monotonic() - started < 5
    send_one(w, token("after-idle"))
    wait_until(lambda: len(up.messages) == 2, 10, "second message upstream")
    assert up.connections == 2


def test_xclient_sessions_are_never_reused(tmp_path, start_warden, postfix_upstream):
    """Postfix offers XCLIENT: each upstream session carries its client's address and HELO, so
    none is reused; every message still arrives."""
    pf = postfix_upstream
    w = start_warden(tmp_path, pf.url)
    toks = [token(f"xclient-reuse-{i}") for i in range(2)]
    for tok in toks:
        send_one(w, tok)
    for tok in toks:
        pf.wait_for_messages(tok)
    assert metric_value(metrics(w), "warden_upstream_reused_total") == 0
