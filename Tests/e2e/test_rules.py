"""Warden end to end: the connection-stage defences of the rule language (docs/rules.md).

DNS lists (a private rbldnsd per test, see harness.RblDnsd), address lists, GeoIP and ASN
(the fixture databases of Tests/MaxMindDBTests/Fixtures), HELO checks, reject_at greeting,
early talkers, shadow mode, live reload of Rules/ and Blocklists/, `warden check` and
`warden lookup` on rule files, the per-client connection rate and DNS list health checks.

Every test writes its own Rules/ and Blocklists/ into tmp_path and starts its own Warden
with a PROXY-protocol smtp listener trusting 127.0.0.1, so a test can be any client address
(`PROXY TCP4 192.0.2.10 ...` first). Everything runs on 127.0.0.1, every wait is bounded,
every process is stopped by its own pid. Each docstring says what a user would notice if
the test failed."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from harness import (
    free_udp_port,
    LOCALHOST,
    make_message,
    merge_config,
    metric_lines,
    metric_value,
    metrics,
    PROXY_LISTENER,
    RawSMTP,
    Reply,
    REPO_ROOT,
    run_warden_command,
    SilentDNSServer,
    tail,
    token,
    wait_until,
    warden_bin,
    warden_missing_reason,
    write_policy,
    write_warden_config,
)

if warden_missing_reason() and os.environ.get("WARDEN_E2E_REQUIRE_BIN") != "1":
    pytest.skip(warden_missing_reason(), allow_module_level=True)

pytestmark = pytest.mark.usefixtures("warden_binary")

SENDER = "sender@example.org"
RCPT = "alice@example.test"
GOOD_HELO = "mail.example.org"

ZONE = "bl.test"
# rbldnsd datasets of bl.test: 127.0.0.2 (RFC 5782 test entry, so the zone passes Warden's
# health check), 192.0.2.0/24 answered 127.0.0.4 (an "XBL" listing), 203.0.113.7 answered
# 127.255.255.254 (Spamhaus's "public resolver" error code), 2001:db8::/32 listed too.
BL_ZONE = [
    ("ip4set", "127.0.0.2\n192.0.2.0/24 :127.0.0.4:\n203.0.113.7 :127.255.255.254:\n"),
    ("ip6trie", ":127.0.0.4:listed\n2001:db8::/32\n"),
]
RULES_XBL = """\
dnsbl        BL_XBL   bl.test 127.0.0.4
score        BL_XBL   6
describe     BL_XBL   Client is listed in the test XBL
threshold    reject   5
"""

FIXTURES = REPO_ROOT / "Tests" / "MaxMindDBTests" / "Fixtures"
GEOIP_DATABASES = [str(FIXTURES / "country.mmdb"), str(FIXTURES / "asn.mmdb")]



# ------------------------------------------------------------------------------ helpers




def policy_overrides(workdir: Path, dns: str | None = None, geoip: list[str] | None = None,
                     **extra) -> dict:
    """warden.toml overrides: PROXY smtp listener, [policy] at WORKDIR's Rules/ and
    Blocklists/, [dns] servers, [geoip] databases, then `extra` deep-merged."""
    o: dict = {
        "listener": copy.deepcopy(PROXY_LISTENER),
        "policy": {"rules": str(workdir / "Rules"), "blocklists": str(workdir / "Blocklists")},
    }
    if dns is not None:
        o["dns"] = {"servers": [dns]}
    if geoip is not None:
        o["geoip"] = {"databases": geoip}
    return merge_config(o, extra)


def start_policy_warden(start_warden, workdir: Path, rules: str, lists: dict[str, str] | None = None,
                        upstream: str | None = None, dns: str | None = None,
                        geoip: list[str] | None = None, **extra):
    workdir.mkdir(parents=True, exist_ok=True)
    write_policy(workdir, rules, lists)
    return start_warden(workdir, upstream or f"maildir:{workdir / 'maildir'}",
                        **policy_overrides(workdir, dns=dns, geoip=geoip, **extra))


def proxy_header(addr: str) -> bytes:
    if ":" in addr:
        return f"PROXY TCP6 {addr} ::1 40000 25\r\n".encode()
    return f"PROXY TCP4 {addr} 127.0.0.1 40000 25\r\n".encode()


def connect_as(w, addr: str, **kw) -> RawSMTP:
    """A session whose client address (PROXY header) is `addr`; the greeting is read."""
    return RawSMTP(LOCALHOST, w.smtp_port, proxy_header=proxy_header(addr), **kw)


def envelope_as(w, addr: str, helo: str = GOOD_HELO, rcpt: str = RCPT) -> dict[str, Reply]:
    """greeting, EHLO, MAIL, RCPT as `addr` (stops at the first non-2xx), then QUIT."""
    out: dict[str, Reply] = {}
    with connect_as(w, addr) as c:
        out["greeting"] = c.greeting
        if c.greeting.code != 220:
            c.quit()
            return out
        for step, line in (("ehlo", f"EHLO {helo}"), ("mail", f"MAIL FROM:<{SENDER}>"),
                           ("rcpt", f"RCPT TO:<{rcpt}>")):
            out[step] = c.cmd(line)
            if out[step].code != 250:
                break
        c.quit()
    return out


def send_as(w, addr: str, tok: str, helo: str = GOOD_HELO, rcpt: str = RCPT) -> dict[str, Reply]:
    """A whole transaction as `addr`: greeting, EHLO, MAIL, RCPT, DATA; every reply by step
    (stops at the first one that is not the expected 2xx/354)."""
    out: dict[str, Reply] = {}
    with connect_as(w, addr) as c:
        out["greeting"] = c.greeting
        if c.greeting.code == 220:
            for step, line in (("ehlo", f"EHLO {helo}"), ("mail", f"MAIL FROM:<{SENDER}>"),
                               ("rcpt", f"RCPT TO:<{rcpt}>")):
                out[step] = c.cmd(line)
                if out[step].code != 250:
                    break
            else:
                r354, final = c.data(make_message(tok, rcpt=rcpt))
                out["data"] = r354
                if final is not None:
                    out["final"] = final
        c.quit()
    return out


def show(replies: dict[str, Reply]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in replies.items())


def stored_in_maildir(maildir: Path, tok: str, timeout: float = 10.0) -> list[Path]:
    def found():
        new = maildir / "new"
        if not new.is_dir():
            return None
        return [p for p in new.iterdir() if p.is_file() and tok.encode() in p.read_bytes()] or None

    try:
        return wait_until(found, timeout, f"a message with {tok} in {maildir}/new")
    except TimeoutError:
        files = [str(p) for p in maildir.rglob("*") if p.is_file()] if maildir.exists() else []
        raise AssertionError(f"message {tok} not stored in {maildir}/new; files: {files}") from None


def log_with(w, msg: str, timeout: float = 5.0, **fields) -> dict:
    """The first JSON log line with this msg (or starting with it) and these fields."""
    def match(ln: dict) -> bool:
        m = ln.get("msg", "")
        return (m == msg or m.startswith(msg + ":")) and all(str(ln.get(k)) == str(v) for k, v in fields.items())

    return w.wait_for_log(match, timeout, f"a log line msg={msg!r} {fields}")


def lines_with(w, msg: str) -> list[dict]:
    return [ln for ln in w.log_lines() if ln.get("msg") == msg or ln.get("msg", "").startswith(msg + ":")]


def assert_refused_at_rcpt(r: dict[str, Reply], code: int = 550, enhanced: str = "5.7.1") -> Reply:
    assert r["greeting"].code == 220, show(r)
    assert r["ehlo"].code == 250, show(r)
    assert r["mail"].code == 250, f"MAIL should be accepted, the refusal comes at RCPT: {show(r)}"
    rcpt = r.get("rcpt")
    assert rcpt is not None and rcpt.is_(code, enhanced), f"expected {code} {enhanced} at RCPT: {show(r)}"
    assert rcpt.ref, f"refusal without [ref=...]: {rcpt}"
    return rcpt


def assert_accepted(r: dict[str, Reply]) -> None:
    assert r["greeting"].code == 220, show(r)
    assert r["ehlo"].code == 250 and r["mail"].code == 250, show(r)
    assert r.get("rcpt") is not None and r["rcpt"].code == 250, show(r)
    if "data" in r:
        assert r["data"].code == 354 and r.get("final") is not None and r["final"].code == 250, show(r)


# ------------------------------------------------------------------------------ 1. DNSBL at RCPT


def test_dnsbl_listed_client_refused_at_rcpt_upstream_untouched(tmp_path, start_warden, rbldnsd, fake_upstream):
    """A client listed in a DNS list gets through EHLO and MAIL but is told 550 5.7.1 at
    RCPT with a [ref=...] the operator finds in the log next to the list's answer; the mail
    server behind Warden never even sees a connection for it. A client that is not listed
    delivers its message."""
    dns = rbldnsd({ZONE: BL_ZONE})
    up = fake_upstream()
    w = start_policy_warden(start_warden, tmp_path, RULES_XBL, upstream=up.url, dns=dns.server)

    r = envelope_as(w, "192.0.2.10")
    rcpt = assert_refused_at_rcpt(r)
    time.sleep(0.3)
    assert up.connections == 0, (
        f"the upstream got {up.connections} connection(s) for a refused client: {up.commands_snapshot()}")
    line = log_with(w, "refused", ref=rcpt.ref)
    assert line.get("stage") == "connect", line
    assert "BL_XBL" in line.get("rules", ""), line
    assert "bl.test answered 127.0.0.4" in line.get("rules", ""), line

    tok = token("unlisted")
    ok = send_as(w, "198.51.100.20", tok)
    assert_accepted(ok)
    wait_until(lambda: any(tok.encode() in m for m in up.messages), 10, f"the upstream to receive {tok}")


def test_dnsbl_refusal_holds_for_the_whole_session(tmp_path, start_warden, rbldnsd, fake_upstream):
    """A listed client cannot slip past the RCPT refusal: pipelining the whole envelope,
    a second recipient, DATA, RSET and a new transaction, or STARTTLS first all end in
    550 5.7.1 (DATA in a 5xx), and the mail server behind Warden never sees a connection."""
    dns = rbldnsd({ZONE: BL_ZONE})
    up = fake_upstream()
    w = start_policy_warden(start_warden, tmp_path, RULES_XBL, upstream=up.url, dns=dns.server)

    with connect_as(w, "192.0.2.10") as c:
        assert c.greeting.code == 220, str(c.greeting)
        c.send(f"EHLO {GOOD_HELO}\r\nMAIL FROM:<{SENDER}>\r\nRCPT TO:<{RCPT}>\r\n"
               f"RCPT TO:<bob@example.test>\r\nDATA\r\n")
        ehlo, mail, rcpt1, rcpt2, data = c.read_replies(5, timeout=10)
        assert ehlo.code == 250 and mail.code == 250, f"{ehlo}\n{mail}"
        assert rcpt1.is_(550, "5.7.1") and rcpt1.ref, str(rcpt1)
        assert rcpt2.is_(550, "5.7.1"), str(rcpt2)
        assert 500 <= data.code < 600, f"DATA with no accepted recipient: {data}"
        assert c.cmd("RSET").code == 250
        assert c.cmd(f"MAIL FROM:<{SENDER}>").code == 250
        again = c.cmd(f"RCPT TO:<{RCPT}>")
        assert again.is_(550, "5.7.1"), f"RCPT in a second transaction: {again}"
        c.quit()

    with connect_as(w, "192.0.2.10") as c:
        assert c.ehlo(GOOD_HELO).code == 250
        assert c.cmd("STARTTLS").code == 220
        c.starttls()
        assert c.ehlo(GOOD_HELO).code == 250
        assert c.cmd(f"MAIL FROM:<{SENDER}>").code == 250
        tls_rcpt = c.cmd(f"RCPT TO:<{RCPT}>")
        assert tls_rcpt.is_(550, "5.7.1"), f"RCPT after STARTTLS: {tls_rcpt}"
        c.quit()
    time.sleep(0.3)
    assert up.connections == 0, f"the upstream saw the refused client: {up.commands_snapshot()}"


# ------------------------------------------------------------------------------ 2. allow beats block


def test_allow_list_beats_drop_list_and_dnsbl(tmp_path, start_warden, rbldnsd):
    """A partner's server on the local allow list gets its mail in even though it is also
    on the drop list and listed in a DNS list; its neighbour on the drop list does not."""
    dns = rbldnsd({ZONE: BL_ZONE})
    rules = """\
    client_list  LOCAL_ALLOW  allow.txt
    action       LOCAL_ALLOW  accept
    client_list  LOCAL_DROP   drop.txt
    action       LOCAL_DROP   reject
    """ + RULES_XBL
    w = start_policy_warden(start_warden, tmp_path, rules, dns=dns.server,
                            lists={"allow.txt": "# partners\n192.0.2.10\n", "drop.txt": "192.0.2.0/24\n"})
    tok = token("allowed")
    r = send_as(w, "192.0.2.10", tok)
    assert_accepted(r)
    stored_in_maildir(tmp_path / "maildir", tok)
    assert not lines_with(w, "refused"), lines_with(w, "refused")

    neighbour = envelope_as(w, "192.0.2.11")
    rcpt = assert_refused_at_rcpt(neighbour)
    line = log_with(w, "refused", ref=rcpt.ref)
    assert "LOCAL_DROP" in line.get("rules", ""), line


# ------------------------------------------------------------------------------ 3. error codes


def test_dnsbl_error_code_is_not_a_listing(tmp_path, start_warden, rbldnsd):
    """A DNS list answering its 'public resolver' error code (127.255.255.254) does not get
    the client refused: the log says "dns list error" for the zone and /metrics counts it
    in warden_dnsbl_errors_total{zone="bl.test"}."""
    dns = rbldnsd({ZONE: BL_ZONE})
    w = start_policy_warden(start_warden, tmp_path, RULES_XBL, dns=dns.server)
    tok = token("list-error")
    r = send_as(w, "203.0.113.7", tok)
    assert_accepted(r)
    stored_in_maildir(tmp_path / "maildir", tok)
    line = log_with(w, "dns list error", zone=ZONE)
    assert "127.255.255.254" in str(line.get("answer", "")), line
    text = metrics(w)
    errors = metric_value(text, "warden_dnsbl_errors_total", f'zone="{ZONE}"')
    assert errors is not None and errors >= 1, metric_lines(text, "dnsbl")
    assert not lines_with(w, "refused"), lines_with(w, "refused")


def test_dnsbl_error_code_with_on_error_tempfail(tmp_path, start_warden, rbldnsd):
    """With `dns_zone bl.test on_error=tempfail`, a list error makes the client retry
    later: 451 4.7.1 at RCPT, never a 5xx."""
    dns = rbldnsd({ZONE: BL_ZONE})
    w = start_policy_warden(start_warden, tmp_path, RULES_XBL + "dns_zone bl.test on_error=tempfail\n",
                            dns=dns.server)
    r = envelope_as(w, "203.0.113.7")
    rcpt = assert_refused_at_rcpt(r, 451, "4.7.1")
    log_with(w, "refused", ref=rcpt.ref)


# ------------------------------------------------------------------------------ 4. timeouts


@pytest.mark.parametrize("server", ["silent", "closed-port", "refused"])
def test_dnsbl_timeout_does_not_refuse_or_stall(tmp_path, start_warden, rbldnsd, server):
    """A DNS list that never answers (silent: the server drops every query; closed-port:
    nothing listens there; refused: the server does not serve the zone and answers
    REFUSED) costs a client at most the zone's `timeout=1`: RCPT is answered within 3 s of
    connecting, the mail is accepted (on_error ignore), and the log says "dns list error"
    for the zone."""
    silent = None
    if server == "silent":
        silent = SilentDNSServer()
        dns_server = silent.server
    elif server == "closed-port":
        dns_server = f"{LOCALHOST}:{free_udp_port()}"
    else:
        dns = rbldnsd({ZONE: BL_ZONE})
        assert dns.query("10.2.0.192.x.test").rcode == "REFUSED", "fixture: rbldnsd serves x.test"
        dns_server = dns.server
    try:
        rules = """\
        dns_zone     x.test   timeout=1
        dnsbl        X_LIST   x.test
        score        X_LIST   6
        threshold    reject   5
        """
        w = start_policy_warden(start_warden, tmp_path, rules, dns=dns_server)
        t0 = time.monotonic()
        r = envelope_as(w, "192.0.2.10")
        elapsed = time.monotonic() - t0
        assert_accepted(r)
        assert elapsed < 3.0, f"RCPT answered {elapsed:.1f} s after connecting (zone timeout=1): {show(r)}"
        log_with(w, "dns list error", zone="x.test")
        assert not lines_with(w, "refused"), lines_with(w, "refused")
        if silent is not None:
            assert silent.received >= 1, "Warden never asked the DNS server"
    finally:
        if silent is not None:
            silent.close()


# ------------------------------------------------------------------------------ 5. IPv6


def test_dnsbl_ipv6_client_refused(tmp_path, start_warden, rbldnsd):
    """An IPv6 client listed in a DNS list (2001:db8::/32 in rbldnsd's ip6trie, asked by
    nibbles) is refused at RCPT like an IPv4 one; an unlisted IPv6 client is not."""
    dns = rbldnsd({ZONE: BL_ZONE})
    nibbles = ".".join(reversed("20010db8000000000000000000000025")) + "." + ZONE
    assert dns.query(nibbles).addresses == ["127.0.0.4"], "fixture: rbldnsd does not list 2001:db8::25"
    w = start_policy_warden(start_warden, tmp_path, RULES_XBL, dns=dns.server)
    rcpt = assert_refused_at_rcpt(envelope_as(w, "2001:db8::25"))
    line = log_with(w, "refused", ref=rcpt.ref)
    assert "bl.test answered 127.0.0.4" in line.get("rules", ""), line
    assert_accepted(envelope_as(w, "3fff::25"))


# ------------------------------------------------------------------------------ 6. shadow


@pytest.mark.parametrize("mode", ["tflags", "global"])
def test_shadow_mode_logs_but_accepts(tmp_path, start_warden, rbldnsd, mode):
    """A rule rolled out in shadow mode (`tflags BL_XBL shadow`, or `shadow on` for all)
    refuses nobody: the listed client's mail is stored, the log says "would have refused"
    with the rule, and /metrics counts the would-be refusal (and, for tflags, the rule's
    shadow hit)."""
    dns = rbldnsd({ZONE: BL_ZONE})
    extra = "tflags BL_XBL shadow\n" if mode == "tflags" else "shadow on\n"
    w = start_policy_warden(start_warden, tmp_path, RULES_XBL + extra, dns=dns.server)
    tok = token(f"shadow-{mode}")
    r = send_as(w, "192.0.2.10", tok)
    assert_accepted(r)
    stored_in_maildir(tmp_path / "maildir", tok)
    line = log_with(w, "would have refused")
    assert "BL_XBL" in line.get("rules", ""), line
    assert not lines_with(w, "refused"), lines_with(w, "refused")
    text = metrics(w)
    shadow_refusals = metric_value(text, "warden_shadow_refusals_total", 'verdict="reject"')
    assert shadow_refusals == 1, metric_lines(text, "shadow")
    if mode == "tflags":
        hits = metric_value(text, "warden_rule_shadow_hits_total", 'rule="BL_XBL"')
        assert hits == 1, metric_lines(text, "shadow")


# ------------------------------------------------------------------------------ 7. GeoIP


def test_geoip_country_and_asn_rules(tmp_path, start_warden):
    """Country and network rules work from the GeoIP databases: a client in DE (action
    reject) and one in AS64502 (score 6, threshold 5) are refused with the country or AS
    in the log; a US client outside AS64502 is not."""
    rules = """\
    country      FROM_DE        DE
    action       FROM_DE        reject
    asn          FROM_AS64502   64502
    score        FROM_AS64502   6
    threshold    reject         5
    """
    w = start_policy_warden(start_warden, tmp_path, rules, geoip=GEOIP_DATABASES)
    rcpt = assert_refused_at_rcpt(envelope_as(w, "192.0.2.10"))
    line = log_with(w, "refused", ref=rcpt.ref)
    assert "FROM_DE" in line.get("rules", "") and "country DE" in line.get("rules", ""), line

    rcpt = assert_refused_at_rcpt(envelope_as(w, "198.51.100.20"))
    line = log_with(w, "refused", ref=rcpt.ref)
    assert "FROM_AS64502" in line.get("rules", ""), line
    assert "64502" in line["rules"].split("FROM_AS64502", 1)[1], line

    assert_accepted(envelope_as(w, "198.51.100.200"))


def test_geoip_missing_database_is_a_startup_error(tmp_path, warden_binary):
    """A [geoip] database path that does not exist stops `warden run` at once (non-zero
    exit, the path in the message) and fails `warden check`, instead of running without
    the country rules."""
    missing = tmp_path / "GeoLite2-Missing.mmdb"
    write_policy(tmp_path, "country FROM_DE DE\naction FROM_DE reject\n")
    _, path = write_warden_config(tmp_path, f"maildir:{tmp_path / 'maildir'}",
                                  **policy_overrides(tmp_path, geoip=[GEOIP_DATABASES[0], str(missing)]))
    try:
        run = subprocess.run([str(warden_bin()), "run", "--config", str(path)], cwd=tmp_path,
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=15)
    except subprocess.TimeoutExpired as e:
        out = ((e.stdout or b"") + (e.stderr or b"")).decode(errors="replace")
        pytest.fail(f"`warden run` with a missing GeoIP database kept running for 15 s:\n{tail(out)}")
    out = (run.stdout + run.stderr).decode(errors="replace")
    assert run.returncode != 0, f"`warden run` exited 0:\n{out}"
    assert str(missing) in out or missing.name in out, f"the message does not name {missing}:\n{out}"

    check = run_warden_command("check", "--config", str(path))
    out = (check.stdout + check.stderr).decode(errors="replace")
    assert check.returncode != 0, f"`warden check` exited 0 with a missing database:\n{out}"
    assert missing.name in out, f"`warden check` does not name {missing}:\n{out}"


# ------------------------------------------------------------------------------ 8. HELO


def test_helo_ip_literal_scores_to_refusal(tmp_path, start_warden):
    """A bot greeting with an address literal (EHLO [192.0.2.1]) is refused at RCPT by a
    score-6 helo rule; a client greeting with its name is not."""
    rules = """\
    helo         HELO_IP   ip-literal
    score        HELO_IP   6
    threshold    reject    5
    """
    w = start_policy_warden(start_warden, tmp_path, rules)
    rcpt = assert_refused_at_rcpt(envelope_as(w, "198.51.100.20", helo="[192.0.2.1]"))
    line = log_with(w, "refused", ref=rcpt.ref)
    assert "HELO_IP" in line.get("rules", ""), line
    assert_accepted(envelope_as(w, "198.51.100.20", helo="mail.example.org"))


# ------------------------------------------------------------------------------ 9. reject_at greeting


def test_reject_at_greeting(tmp_path, start_warden):
    """With `reject_at greeting`, a drop-listed client gets 554 5.7.1 ... [ref=...]
    instead of the 220; whatever it says next but QUIT gets 503 5.5.1, QUIT gets 221.
    Other clients get the normal greeting."""
    rules = """\
    client_list  LOCAL_DROP  drop.txt
    action       LOCAL_DROP  reject
    reject_at    greeting
    """
    w = start_policy_warden(start_warden, tmp_path, rules, lists={"drop.txt": "192.0.2.10\n"})
    with connect_as(w, "192.0.2.10") as c:
        g = c.greeting
        assert g.is_(554, "5.7.1"), f"greeting to a drop-listed client: {g}"
        assert g.ref, f"greeting refusal without [ref=...]: {g}"
        ehlo = c.cmd(f"EHLO {GOOD_HELO}")
        assert ehlo.is_(503, "5.5.1"), f"EHLO after the 554 greeting: {ehlo}"
        bye = c.cmd("QUIT")
        assert bye.code == 221, f"QUIT after the 554 greeting: {bye}"
    line = log_with(w, "refused", ref=g.ref)
    assert "LOCAL_DROP" in line.get("rules", ""), line
    with connect_as(w, "198.51.100.20") as c:
        assert c.greeting.code == 220, str(c.greeting)
        c.quit()


# ------------------------------------------------------------------------------ 10. early talker


@pytest.mark.parametrize("arrival", ["after-header", "with-header"])
def test_early_talker_refused_patient_client_accepted(tmp_path, start_warden, arrival):
    """With `greeting_delay 2`, a bot that sends EHLO before the 220 gets no answer to it
    before the greeting and is refused at RCPT; a client that waits for the (delayed)
    greeting is not. Behind a load balancer the bot's EHLO may arrive in the same TCP
    segment as the PROXY header (with-header): it is just as early."""
    rules = """\
    greeting_delay 2
    early_talker EARLY_TALKER
    action       EARLY_TALKER  reject
    """
    w = start_policy_warden(start_warden, tmp_path, rules)
    ehlo = f"EHLO {GOOD_HELO}\r\n".encode()
    if arrival == "with-header":
        early = RawSMTP(LOCALHOST, w.smtp_port, proxy_header=proxy_header("192.0.2.10") + ehlo,
                        read_greeting=False)
    else:
        early = RawSMTP(LOCALHOST, w.smtp_port, proxy_header=proxy_header("192.0.2.10"), read_greeting=False)
    try:
        if arrival == "after-header":
            time.sleep(0.2)
            early.send(ehlo)
        t0 = time.monotonic()
        patient = connect_as(w, "198.51.100.20")
        with patient:
            waited = time.monotonic() - t0
            assert patient.greeting.code == 220, str(patient.greeting)
            assert waited >= 1.5, f"greeting after {waited:.1f} s with greeting_delay 2"
            assert patient.cmd(f"EHLO {GOOD_HELO}").code == 250
            assert patient.cmd(f"MAIL FROM:<{SENDER}>").code == 250
            ok = patient.cmd(f"RCPT TO:<{RCPT}>")
            assert ok.code == 250, f"patient client at RCPT: {ok}"
            patient.quit()

        g = early.read_reply(timeout=5)
        assert g.code == 220, (
            f"the early talker's first reply should be the delayed greeting, got {g} "
            f"(its EHLO was answered before the 220)")
        e = early.cmd(f"EHLO {GOOD_HELO}")
        assert e.code == 250, f"EHLO after the greeting: {e}"
        m = early.cmd(f"MAIL FROM:<{SENDER}>")
        assert m.code == 250, f"MAIL from the early talker: {m}"
        r = early.cmd(f"RCPT TO:<{RCPT}>")
        assert r.is_(550, "5.7.1") and r.ref, f"early talker at RCPT: {r}"
        early.quit()
    finally:
        early.close()
    line = log_with(w, "refused", ref=r.ref)
    assert "EARLY_TALKER" in line.get("rules", ""), line


# ------------------------------------------------------------------------------ 11. reload


def test_rules_reload_on_file_change(tmp_path, start_warden, rbldnsd):
    """Editing Rules/ or Blocklists/ while Warden runs needs no SIGHUP: a broken rule file
    is reported as "reload failed, previous settings kept" with FILE:LINE within ~5 s and
    the old policy keeps refusing; once the file is fixed, Warden reloads, and a client
    added to the drop list is refused in its next session."""
    dns = rbldnsd({ZONE: BL_ZONE})
    rules = """\
    client_list  LOCAL_DROP  drop.txt
    action       LOCAL_DROP  reject
    """ + RULES_XBL
    w = start_policy_warden(start_warden, tmp_path, rules, dns=dns.server, lists={"drop.txt": "# drop\n192.0.2.99\n"})
    assert_refused_at_rcpt(envelope_as(w, "192.0.2.10"))
    assert_accepted(envelope_as(w, "198.51.100.20"))

    broken = tmp_path / "Rules" / "50-broken.cf"
    broken.write_text("# a typo on line 2\nfoo BAR baz\n")
    fail = log_with(w, "reload failed, previous settings kept", timeout=6)
    assert re.search(r"50-broken\.cf:2\b", str(fail)), f"no FILE:LINE of the bad line in {fail}"
    assert w.alive()
    assert_refused_at_rcpt(envelope_as(w, "192.0.2.10"))

    reloads_before = len(lines_with(w, "reloaded"))
    broken.write_text("# fixed\n")
    with open(tmp_path / "Blocklists" / "drop.txt", "a") as f:
        f.write("198.51.100.20\n")
    wait_until(lambda: len(lines_with(w, "reloaded")) > reloads_before, 6,
               'a log line msg="reloaded" after fixing the file')
    rcpt = assert_refused_at_rcpt(envelope_as(w, "198.51.100.20"))
    line = log_with(w, "refused", ref=rcpt.ref)
    assert "LOCAL_DROP" in line.get("rules", ""), line
    assert_refused_at_rcpt(envelope_as(w, "192.0.2.10"))


# ------------------------------------------------------------------------------ 12. warden check


def _check(tmp_path: Path, rules: str, lists: dict[str, str], rules_file: str) -> tuple[int, str]:
    write_policy(tmp_path, rules, lists, rules_file=rules_file)
    _, path = write_warden_config(tmp_path, f"maildir:{tmp_path / 'maildir'}", **policy_overrides(tmp_path))
    p = run_warden_command("check", "--config", str(path))
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def test_check_reports_rule_and_list_errors_with_file_line(tmp_path, warden_binary):
    """`warden check` on a Rules/ file with an unknown directive and a list with a bad
    line exits 1 and names both as FILE:LINE: reason, so the operator can fix them before
    a reload."""
    rules = "# line 1\nclient_list LOCAL_DROP drop.txt\nfoo bar\n"
    rc, out = _check(tmp_path, rules, {"drop.txt": "192.0.2.1\nnot-an-address\n"}, "x.cf")
    assert rc == 1, f"exit {rc}:\n{out}"
    assert re.search(r"(^|[\s/])Rules/x\.cf:3: unknown directive foo\b", out, re.MULTILINE), out
    assert re.search(r"(^|[\s/])Blocklists/drop\.txt:2: \S", out, re.MULTILINE), out


def test_check_warns_about_spamassassin_eval(tmp_path, warden_binary):
    """A SpamAssassin rule Warden cannot run (`header X eval:check_foo()`) is a warning
    that names check_foo, not an error: `warden check` exits 0."""
    rc, out = _check(tmp_path, "header X eval:check_foo()\n", {}, "sa.cf")
    assert rc == 0, f"exit {rc}:\n{out}"
    assert "check_foo" in out, out
    assert re.search(r"sa\.cf:1\b", out), out


# ------------------------------------------------------------------------------ 13. warden lookup


def test_lookup_explains_a_listed_client(tmp_path, warden_binary, rbldnsd):
    """`warden lookup 192.0.2.10` shows the operator why that client is refused: the
    drop-list file and line, the DNS list's answer, the GeoIP country and network, and
    the verdict."""
    dns = rbldnsd({ZONE: BL_ZONE})
    rules = """\
    client_list  LOCAL_DROP  drop.txt
    action       LOCAL_DROP  reject
    """ + RULES_XBL
    write_policy(tmp_path, rules, {"drop.txt": "# drop\n192.0.2.0/28\n"})
    _, path = write_warden_config(tmp_path, f"maildir:{tmp_path / 'maildir'}",
                                  **policy_overrides(tmp_path, dns=dns.server, geoip=GEOIP_DATABASES))
    p = run_warden_command("lookup", "--config", str(path), "192.0.2.10")
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 0, f"exit {p.returncode}:\n{out}"
    assert "drop.txt:2" in out, out
    assert "bl.test" in out and "127.0.0.4" in out, out
    assert "DE" in out and "AS64500" in out, out
    m = re.search(r"verdict:\s*\n\s*(\S.*)", out)
    assert m and m.group(1).startswith("reject"), f"no verdict line starting with reject:\n{out}"


# ------------------------------------------------------------------------------ 14. connection rate


def test_connection_rate_per_client(tmp_path, start_warden):
    """With connection_rate_per_client = 3, the 4th connection within a minute from one
    address gets 421 4.7.0; another address is still served."""
    w = start_policy_warden(start_warden, tmp_path, "# no rules\n",
                            server={"connection_rate_per_client": 3})
    greetings = []
    for _ in range(4):
        with connect_as(w, "192.0.2.77") as c:
            greetings.append(c.greeting)
            c.quit()
    assert [g.code for g in greetings[:3]] == [220] * 3, [str(g) for g in greetings]
    assert greetings[3].is_(421, "4.7.0"), f"4th connection in a minute: {greetings[3]}"
    with connect_as(w, "192.0.2.78") as c:
        assert c.greeting.code == 220, str(c.greeting)
        c.quit()


# ------------------------------------------------------------------------------ 15. zone health


def test_unhealthy_zone_disabled(tmp_path, start_warden, rbldnsd):
    """A DNS list that does not list 127.0.0.2 (RFC 5782's test entry; an expired or broken
    list) is disabled at start: the log says "dns list disabled", /metrics shows
    warden_dnsbl_zone_healthy 0 for it (1 for a healthy zone), and it refuses nobody."""
    dns = rbldnsd({ZONE: BL_ZONE, "sick.test": [("ip4set", "192.0.2.0/24 :127.0.0.4:\n")]})
    assert dns.query("10.2.0.192.sick.test").addresses == ["127.0.0.4"]
    rules = """\
    dnsbl        SICK      sick.test
    score        SICK      6
    dnsbl        OTHER     bl.test 127.0.0.9
    threshold    reject    5
    """
    w = start_policy_warden(start_warden, tmp_path, rules, dns=dns.server)
    log_with(w, "dns list disabled", zone="sick.test", timeout=8)

    def gauges():
        text = metrics(w)
        return (metric_value(text, "warden_dnsbl_zone_healthy", 'zone="sick.test"'),
                metric_value(text, "warden_dnsbl_zone_healthy", f'zone="{ZONE}"'))

    sick, healthy = wait_until(lambda: (lambda g: g if None not in g else None)(gauges()), 8,
                               "warden_dnsbl_zone_healthy for both zones")
    assert (sick, healthy) == (0, 1), metric_lines(metrics(w), "zone_healthy")
    assert_accepted(envelope_as(w, "192.0.2.10"))
