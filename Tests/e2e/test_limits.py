"""Warden end to end: rate limits (`ratelimit`) and duplicate-bulk throttling (`bulk`).

The rules live in each test's own Rules/ (see Sources/WardenPolicy/RateLimit*.swift for the
syntax); counters are in memory, or in a private redis-server (conftest.redis_server) shared by
two Warden instances. Mail goes to the private Postfix (submission with STARTTLS + AUTH, the
SASL users alice and bob, the mailboxes cust001..cust200@example.test) or to a maildir.
Everything runs on 127.0.0.1, every wait is bounded, every process is stopped by its own pid.
Each docstring says what a user would notice if the test failed."""

from __future__ import annotations

import base64
import copy
import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from harness import (
    LOCALHOST,
    make_message,
    metric_lines,
    metric_value,
    metrics,
    PROXY_LISTENER,
    RawSMTP,
    Reply,
    run_warden_command,
    SMTPClosed,
    token,
    wait_until,
    warden_missing_reason,
    write_policy,
    write_warden_config,
)

if warden_missing_reason() and os.environ.get("WARDEN_E2E_REQUIRE_BIN") != "1":
    pytest.skip(warden_missing_reason(), allow_module_level=True)

pytestmark = pytest.mark.usefixtures("warden_binary")

SENDER = "sender@example.org"


# ------------------------------------------------------------------------------ helpers




def start_limited(start_warden, workdir: Path, rules: str, upstream: str | None = None,
                  lists: dict[str, str] | None = None, redis: str | None = None,
                  proxy: bool = False, **extra):
    """A Warden whose Rules/ holds `rules`; [store] redis when given; the smtp listener
    expects a PROXY header from 127.0.0.1 when `proxy`."""
    workdir.mkdir(parents=True, exist_ok=True)
    write_policy(workdir, rules, lists)
    overrides: dict = {"policy": {"rules": str(workdir / "Rules"), "blocklists": str(workdir / "Blocklists")}}
    if redis is not None:
        overrides["store"] = {"redis": redis}
    if proxy:
        overrides["listener"] = copy.deepcopy(PROXY_LISTENER)
    overrides.update(extra)
    return start_warden(workdir, upstream or f"maildir:{workdir / 'maildir'}", **overrides)


def proxy_header(addr: str) -> bytes:
    return f"PROXY TCP4 {addr} 127.0.0.1 40000 25\r\n".encode()


def transaction(c: RawSMTP, sender: str, rcpt: str, message: str) -> dict[str, Reply]:
    """MAIL, RCPT, DATA on an open session; every reply by step, stopping at the first one
    that is not the expected 250/354 (then RSET, so the session can go on)."""
    out: dict[str, Reply] = {}
    for step, line in (("mail", f"MAIL FROM:<{sender}>"), ("rcpt", f"RCPT TO:<{rcpt}>")):
        out[step] = c.cmd(line)
        if out[step].code != 250:
            if out[step].code != 421:
                c.cmd("RSET")
            return out
    r354, final = c.data(message)
    out["data"] = r354
    if final is not None:
        out["final"] = final
    return out


def send_plain(w, tok: str, rcpt: str = "carol@example.test", sender: str = SENDER,
               client: str | None = None, port: int | None = None) -> dict[str, Reply]:
    """One message in its own session on the smtp listener (as `client` through a PROXY
    header when given): greeting, EHLO, MAIL, RCPT, DATA; replies by step."""
    header = proxy_header(client) if client else None
    with RawSMTP(LOCALHOST, port or w.smtp_port, proxy_header=header) as c:
        out = {"greeting": c.greeting}
        if c.greeting.code == 220:
            out["ehlo"] = c.ehlo("mail.example.org")
            out.update(transaction(c, sender, rcpt, make_message(tok, sender=sender, rcpt=rcpt)))
        c.quit()
    return out


def accepted(r: dict[str, Reply]) -> bool:
    return "final" in r and r["final"].code == 250


def show(r: dict[str, Reply]) -> str:
    """The replies of a transaction, one line each (EHLO's first line only)."""
    return "; ".join(f"{k}: {v.code} {v.first if k == 'ehlo' else v.last}" for k, v in r.items())


def refused_at(r: dict[str, Reply], step: str, code: int = 451, enhanced: str = "4.7.1") -> bool:
    rep = r.get(step)
    return rep is not None and rep.is_(code, enhanced) and rep.ref is not None and step == list(r)[-1]


class Submission:
    """A submission session: EHLO, STARTTLS, EHLO, AUTH PLAIN (checked by Postfix behind
    Warden). `send()` runs one transaction and opens a new session when Warden has closed
    the old one (421 after too many refused commands), before MAIL only, so no message is
    ever sent twice."""

    def __init__(self, port: int, login: str, password: str):
        self.port, self.login, self.password = port, login, password
        self.c: RawSMTP | None = None
        self.sessions = 0
        self.closures: list[str] = []

    def open(self) -> None:
        c = RawSMTP(LOCALHOST, self.port)
        assert c.greeting.code == 220, str(c.greeting)
        assert c.ehlo("laptop.example.test").code == 250
        r = c.cmd("STARTTLS")
        assert r.code == 220, str(r)
        c.starttls()
        assert c.ehlo("laptop.example.test").code == 250
        plain = base64.b64encode(f"\0{self.login}\0{self.password}".encode()).decode()
        r = c.cmd(f"AUTH PLAIN {plain}")
        assert r.is_(235), f"AUTH as {self.login}: {r}"
        self.c = c
        self.sessions += 1

    def send(self, rcpt: str, message: str) -> dict[str, Reply]:
        for _ in range(2):
            if self.c is None:
                self.open()
            try:
                r = transaction(self.c, self.login, rcpt, message)
            except (SMTPClosed, ConnectionError) as e:
                # Closed before our MAIL was answered: nothing of this message was accepted.
                self.closures.append(f"closed before MAIL: {e}")
                self.c.close()
                self.c = None
                continue
            if r["mail"].code == 421:
                self.closures.append(str(r["mail"]))
                self.c.close()
                self.c = None
                continue
            final = r.get("final")
            if final is not None and final.code != 250:
                # A refused message counts as a failed command: Warden may close with 421
                # once too many failed (limits.errors); find out now, not at the next MAIL.
                pending = self.c.pending(0.05)
                if pending.startswith(b"421"):
                    self.closures.append(pending.decode(errors="replace").strip())
                    self.c.close()
                    self.c = None
            return r
        raise AssertionError(f"{self.login}: two sessions in a row closed before MAIL: {self.closures}")

    def close(self) -> None:
        if self.c is not None:
            self.c.quit()
            self.c = None


def lines_with(w, msg: str) -> list[dict]:
    return [ln for ln in w.log_lines() if ln.get("msg") == msg or str(ln.get("msg", "")).startswith(msg)]


def wait_log(w, msg: str, timeout: float = 5.0) -> dict:
    return w.wait_for_log(lambda ln: str(ln.get("msg", "")).startswith(msg), timeout, f"log line {msg!r}")


def maildir_tokens(maildir: Path, toks: list[str]) -> list[str]:
    """Which of `toks` are in some file under maildir/new."""
    new = maildir / "new"
    blobs = [p.read_bytes() for p in new.iterdir() if p.is_file()] if new.is_dir() else []
    return [t for t in toks if any(t.encode() in b for b in blobs)]


def lookup(config_path: Path, *args: str) -> str:
    p = run_warden_command("lookup", "--config", str(config_path), *args)
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 0, f"warden lookup exit {p.returncode}:\n{out}"
    return out


def counter_in(out: str, rule: str) -> float:
    """The count on `warden lookup`'s line `RULE: key=value messages N of L/P`."""
    m = re.search(rf"^\s*{rule}: \S+ \w+ ([0-9.]+) of ", out, re.MULTILINE)
    assert m, f"no rate counter line for {rule} in:\n{out}"
    return float(m.group(1))


# ------------------------------------------------------------------------------ 1. the ISP case

GREETINGS = ["Dear", "Hello", "Hi", "Good morning"]
NAMES = ["Anna Schmidt", "Ben", "Carla Rossi", "Dmitri", "Eve Martin", "Farid", "Grace O'Neil", "Hugo",
         "Ines Duarte", "Jonas", "Kemal Yilmaz", "Lea"]

CAMPAIGN_BODY = """\
{greeting} {name},

We tried to deliver your parcel today but nobody was at home, so it is now waiting at our
local depot. Before we can hand it over, a customs fee of {amount} EUR has to be paid.
Please pay the outstanding amount within two days using the secure link below, otherwise
the parcel will be returned to the sender and a storage charge will be added to your account.

Track and pay here: https://track.parcel-express-example.net/p/{code}?cust={n}

Thank you for choosing our delivery service, and we look forward to serving you again.
Kind regards,
Customer care team
"""


def campaign_message(campaign: str, n: int, rcpt: str) -> str:
    """The same body with the personal touches of a hijacked account's spam run: greeting,
    name, amount, tracking code and URL differ per recipient."""
    body = CAMPAIGN_BODY.format(greeting=GREETINGS[n % len(GREETINGS)], name=NAMES[n % len(NAMES)],
                                amount=f"{3 + (n * 7) % 40}.{(n * 13) % 100:02d}",
                                code=f"DX{n * 7919 % 1000003:07d}Q{n}", n=n)
    return (f"From: Parcel Service <alice@example.test>\r\nTo: <{rcpt}>\r\n"
            f"Subject: Your parcel DX{n:05d} is waiting\r\nMessage-ID: <{campaign}-{n}@example.test>\r\n"
            f"X-Campaign: {campaign}\r\n\r\n" + body.replace("\n", "\r\n"))


BOB_NOTES = [
    "the quarterly figures look fine, but the travel budget needs another look before Friday",
    "could you send me the slides from yesterday's workshop? I would like to reuse two charts",
    "our team lunch moved to Thursday at noon, the usual place near the station",
    "the printer on the second floor is fixed again, thanks to the facilities people",
    "please review the draft contract, especially the clauses about liability and renewal",
]


def bob_message(tok: str, n: int, rcpt: str) -> str:
    note = BOB_NOTES[n % len(BOB_NOTES)]
    return (f"From: Bob <bob@example.test>\r\nTo: <{rcpt}>\r\nSubject: note {n}\r\n"
            f"Message-ID: <{tok}-{n}@example.test>\r\nX-E2E-Token: {tok}\r\n\r\n"
            f"Hi,\r\n\r\n{note}. Message number {n} of today, sorry for the noise.\r\n\r\nBob\r\n")


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_isp_bulk_from_hijacked_account(tmp_path, start_warden, postfix_upstream, redis_server, store):
    """The ISP case. alice@example.test's password was stolen: through the submission port
    (STARTTLS + AUTH) the spammer sends one body, personalised per recipient (greeting, name,
    amount, tracking URL), to 200 customers, one per message. With `bulk BULK_USER key=user
    limit=50/1h` the first 50 are delivered and every later one gets 451 4.7.1 [ref=...];
    bob, sending his own different mail at the same time, is not slowed or refused, and alice
    can still send an ordinary message. Postfix's mailboxes hold exactly the 50 accepted
    copies, nothing else. The same with the counters in Redis (HyperLogLog sets), where
    `warden lookup --user` shows alice's 51 accepted messages (refused ones use up nothing)
    and every key expires."""
    pf = postfix_upstream
    redis = redis_server() if store == "redis" else None
    rules = """\
    bulk       BULK_USER  key=user limit=50/1h
    describe   BULK_USER  Same message to too many recipients
    ratelimit  MSG_USER   key=user count=messages limit=1000/1h
    """
    w = start_limited(start_warden, tmp_path, rules, upstream=pf.url, redis=redis.address if redis else None)
    campaign = token("campaign")
    bob_tok = token("bob")
    customers = [f"{u}@{pf.DOMAIN}" for u in pf.CUSTOMERS]
    assert len(customers) == 200

    bob_results: list[tuple[str, dict]] = []
    bob_errors: list[BaseException] = []
    campaign_done = threading.Event()

    def bob() -> None:
        s = Submission(w.submission_port, "bob@example.test", pf.SASL_USERS["bob@example.test"])
        try:
            rcpts = ["carol@example.test", "dave@example.test", "user@example.test", "alice@example.test"]
            for n in range(12):
                rcpt = rcpts[n % len(rcpts)]
                t0 = time.monotonic()
                r = s.send(rcpt, bob_message(bob_tok, n, rcpt))
                bob_results.append((rcpt, r, time.monotonic() - t0))
                if campaign_done.wait(0.4):
                    pass
            s.close()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            bob_errors.append(e)

    bob_thread = threading.Thread(target=bob, daemon=True)
    alice = Submission(w.submission_port, "alice@example.test", pf.SASL_USERS["alice@example.test"])
    results: list[dict] = []
    started = time.monotonic()
    bob_thread.start()
    try:
        for n, rcpt in enumerate(customers, 1):
            results.append(alice.send(rcpt, campaign_message(campaign, n, rcpt)))
    finally:
        campaign_done.set()
    campaign_seconds = time.monotonic() - started
    bob_thread.join(60)
    assert not bob_thread.is_alive(), "bob's sending thread did not finish within 60 s"
    assert not bob_errors, f"bob's session failed: {bob_errors!r}"

    delivered = [rcpt for rcpt, r in zip(customers, results) if accepted(r)]
    outcome = [("250" if accepted(r) else show(r)) for r in results]
    assert delivered == customers[:50], (
        f"expected exactly the first 50 recipients accepted, got {len(delivered)}: first refusal at "
        f"#{next((i for i, r in enumerate(results, 1) if not accepted(r)), None)}; outcomes: "
        f"{[(i, o) for i, o in enumerate(outcome, 1) if o != '250'][:5]} ... "
        f"late acceptances {[i for i, r in enumerate(results, 1) if accepted(r) and i > 50][:10]}")
    for n, r in enumerate(results[50:], 51):
        assert r["mail"].code == 250 and r["rcpt"].code == 250 and r["data"].code == 354, f"#{n}: {show(r)}"
        final = r.get("final")
        assert final is not None and final.is_(451, "4.7.1") and final.ref, f"#{n} {customers[n - 1]}: {show(r)}"
    assert not any(accepted(r) for r in results[50:])

    # alice's ordinary mail (a different body) still goes through.
    own_tok = token("alice-own")
    own = alice.send("carol@example.test", bob_message(own_tok, 99, "carol@example.test").replace("Bob", "Alice"))
    alice.close()
    assert accepted(own), f"alice's own, different message after the throttling: {show(own)}"

    # bob: every message accepted, none slowed down.
    assert len(bob_results) == 12, bob_results
    bad = [(rcpt, show(r)) for rcpt, r, _ in bob_results if not accepted(r)]
    assert not bad, f"bob's mail refused while alice was throttled: {bad}"
    slowest = max(d for _, _, d in bob_results)
    assert slowest < 5.0, f"bob's slowest message took {slowest:.1f} s"

    # Postfix: exactly the 50 accepted copies (one per accepted customer), bob's 12, alice's own.
    pf.wait_for_messages(campaign, count=50, timeout=30)
    pf.wait_for_messages(bob_tok, count=12, timeout=30)
    pf.wait_for_messages(own_tok, count=1, timeout=30)
    wait_until(pf.queue_is_empty, 30, "Postfix's queue to be empty")
    copies = pf.messages_containing(campaign)
    by_user: dict[str, int] = {}
    for p in copies:
        by_user[pf.user_of(p)] = by_user.get(pf.user_of(p), 0) + 1
    expected_users = {r.split("@")[0] for r in delivered}
    assert set(by_user) == expected_users and all(v == 1 for v in by_user.values()), (
        f"campaign copies in Postfix: {len(copies)} for {len(by_user)} users; extra "
        f"{sorted(set(by_user) - expected_users)[:10]}, missing {sorted(expected_users - set(by_user))[:10]}, "
        f"duplicates {[u for u, v in by_user.items() if v > 1][:10]}")
    for p in copies:
        user = pf.user_of(p)
        assert f"To: <{user}@{pf.DOMAIN}>".encode() in p.read_bytes(), f"{p} is not addressed to {user}"
    refused_users = {r.split("@")[0] for r in customers[50:]}
    stray = [p for p in pf.messages() if pf.user_of(p) in refused_users]
    assert not stray, f"refused customers have mail: {[str(p) for p in stray[:5]]}"
    assert len(pf.messages_containing(bob_tok)) == 12

    # The log names the rule for each refusal; /metrics counts them.
    refusals = [ln for ln in lines_with(w, "refused") if ln.get("msg") == "refused"]
    bulk_refusals = [ln for ln in refusals if "BULK_USER" in str(ln.get("rules", ""))]
    assert len(bulk_refusals) == 150, f"{len(bulk_refusals)} refusal lines naming BULK_USER: {refusals[:3]}"
    refs = {r["final"].ref for r in results[50:]}
    assert refs <= {str(ln.get("ref")) for ln in bulk_refusals}, "a reply's [ref=] has no log line"
    text = metrics(w)
    assert metric_value(text, "warden_rule_hits_total", 'rule="BULK_USER"') == 150, metric_lines(text, "rule_")
    assert not metric_value(text, "warden_rule_hits_total", 'rule="MSG_USER"'), metric_lines(text, "rule_")
    if redis is not None:
        assert metric_value(text, "warden_counter_store_shared") == 1, metric_lines(text, "counter_store")
        out = lookup(w.config_path, "--user", "alice@example.test", "127.0.0.1")
        assert abs(counter_in(out, "MSG_USER") - 51) < 0.05, f"50 campaign copies + 1 own message accepted:\n{out}"
        keys = redis.keys()
        assert any(":d:BULK_USER:alice@example.test:" in k for k in keys), keys[:10]
        no_ttl = {k: t for k in keys if not 0 < (t := redis.pttl(k)) <= (2 * 3600 + 1) * 1000}
        assert not no_ttl, f"keys without a TTL: {no_ttl}"
    print(f"\n[limits] ISP case ({store}): 200 campaign messages in {campaign_seconds:.1f} s "
          f"({alice.sessions} sessions: {len(alice.closures)} closed by Warden), bob's slowest {slowest:.2f} s")


# ------------------------------------------------------------------------------ 2. two instances, one Redis

MSG_IP_10 = """\
ratelimit  MSG_IP  key=client_ip count=messages limit=10/1h
describe   MSG_IP  Too many messages from this address
"""


def test_two_instances_share_one_limit_in_redis(tmp_path, start_warden, redis_server):
    """Two Wardens behind one load balancer share their counters in Redis: with
    `ratelimit MSG_IP key=client_ip count=messages limit=10/1h` a client alternating between
    them gets 10 messages through in total, the 11th and 12th are refused 451 4.7.1 at MAIL.
    `warden lookup` shows the shared count, and every key in Redis expires (no key without
    a TTL that would grow Redis forever)."""
    redis = redis_server()
    a = start_limited(start_warden, tmp_path / "a", MSG_IP_10, redis=redis.address)
    b = start_limited(start_warden, tmp_path / "b", MSG_IP_10, redis=redis.address)
    sent: list[tuple[str, str, dict]] = []
    for n in range(12):
        w, name = (a, "A") if n % 2 == 0 else (b, "B")
        tok = token(f"shared-{name}{n}")
        sent.append((name, tok, send_plain(w, tok)))
    outcome = [(i, name, "250" if accepted(r) else show(r)) for i, (name, _, r) in enumerate(sent, 1)]
    assert all(accepted(r) for _, _, r in sent[:10]), outcome
    for i, (name, _, r) in enumerate(sent[10:], 11):
        assert refused_at(r, "mail"), f"message {i} (instance {name}) should be refused 451 4.7.1 at MAIL: {outcome}"
    assert sorted(maildir_tokens(tmp_path / "a" / "maildir", [t for _, t, _ in sent])) == sorted(
        t for (name, t, _) in sent[:10] if name == "A")
    assert sorted(maildir_tokens(tmp_path / "b" / "maildir", [t for _, t, _ in sent])) == sorted(
        t for (name, t, _) in sent[:10] if name == "B")
    refusals = lines_with(b, "refused")
    assert any("MSG_IP" in str(ln.get("rules", "")) for ln in refusals), refusals

    out = lookup(a.config_path, "--sender", SENDER, "127.0.0.1")
    assert "rate counters" in out, out
    assert abs(counter_in(out, "MSG_IP") - 10) < 0.05, out
    assert "own (empty)" not in out, out

    keys = redis.keys()
    assert any("MSG_IP" in k and "127.0.0.1" in k for k in keys), f"no MSG_IP key in Redis: {keys}"
    ttls = {k: redis.pttl(k) for k in keys}
    no_ttl = {k: t for k, t in ttls.items() if not 0 < t <= (2 * 3600 + 1) * 1000}
    assert not no_ttl, f"keys without a TTL (or with one past two windows): {no_ttl}"
    counted = sum(int(redis.command("GET", k)) for k in keys if ":c:MSG_IP:127.0.0.1:" in k)
    assert counted == 10, {k: redis.command("TYPE", k) for k in keys}


# ------------------------------------------------------------------------------ 3. Redis goes away and comes back


def test_redis_outage_falls_back_to_memory_and_recovers(tmp_path, start_warden, redis_server):
    """Redis dies in the middle of the day: valid mail keeps flowing through both Wardens
    (no wrong refusal, no stall; each counts on its own from zero), the log says "Redis
    unreachable" once per instance and /metrics shows warden_counter_store_shared 0. When
    Redis is back on the same port the log says "rate counters shared again", the gauge is 1,
    and the limit is shared again: what goes through A counts against B."""
    redis = redis_server()
    a = start_limited(start_warden, tmp_path / "a", MSG_IP_10, redis=redis.address)
    b = start_limited(start_warden, tmp_path / "b", MSG_IP_10, redis=redis.address)
    for w in (a, b):
        assert metric_value(metrics(w), "warden_counter_store_shared") == 1
        for n in range(2):
            r = send_plain(w, token("before"))
            assert accepted(r), show(r)
    wait_until(lambda: sum(int(redis.command("GET", k)) for k in redis.keys("*:c:MSG_IP:*")) == 4, 5,
               "Redis to count the 4 messages")

    redis.stop()
    t0 = time.monotonic()
    during: list[tuple[str, float, dict]] = []
    for n in range(16):  # 8 each: 4 + 16 > 10 shared, but each instance counts 8 on its own
        w, name = (a, "A") if n % 2 == 0 else (b, "B")
        t = time.monotonic()
        r = send_plain(w, token(f"outage-{name}"))
        during.append((name, time.monotonic() - t, r))
    outage_seconds = time.monotonic() - t0
    bad = [(name, show(r)) for name, _, r in during if not accepted(r)]
    assert not bad, f"valid mail refused while Redis was down: {bad}"
    slowest = max(d for _, d, _ in during)
    assert slowest < 3.0, f"a message took {slowest:.1f} s while Redis was down"
    for name, w in (("A", a), ("B", b)):
        down = lines_with(w, "Redis unreachable")
        assert len(down) == 1, f"instance {name}: {len(down)} 'Redis unreachable' lines: {down}"
        assert metric_value(metrics(w), "warden_counter_store_shared") == 0, metric_lines(metrics(w), "counter_store")

    redis.start()
    restarted = time.monotonic()

    def shared_again(w) -> bool:
        if lines_with(w, "rate counters shared again"):
            return True
        # The probe runs only when a check needs the store (at most every 5 s): MAIL asks.
        with RawSMTP(LOCALHOST, w.smtp_port) as c:
            c.ehlo()
            c.cmd(f"MAIL FROM:<{SENDER}>")
            c.quit()
        time.sleep(0.5)
        return bool(lines_with(w, "rate counters shared again"))

    for name, w in (("A", a), ("B", b)):
        wait_until(lambda: shared_again(w), 20, f"instance {name} to log 'rate counters shared again'", interval=0.2)
        assert metric_value(metrics(w), "warden_counter_store_shared") == 1, metric_lines(metrics(w), "counter_store")
        assert len(lines_with(w, "Redis unreachable")) == 1, f"instance {name} flapped: {lines_with(w, 'Redis unreachable')}"
    recovery_seconds = time.monotonic() - restarted

    # Redis came back empty (nothing saved): 10 through A, then B refuses at MAIL.
    after = [send_plain(a, token("after-A")) for _ in range(10)]
    assert all(accepted(r) for r in after), [show(r) for r in after if not accepted(r)]
    r = send_plain(b, token("after-B"))
    assert refused_at(r, "mail"), f"B after A's 10 messages in the shared window: {show(r)}"
    r = send_plain(a, token("after-A11"))
    assert refused_at(r, "mail"), f"A's 11th: {show(r)}"
    assert sum(int(redis.command("GET", k)) for k in redis.keys("*:c:MSG_IP:*")) == 10
    print(f"\n[limits] outage: 16 messages in {outage_seconds:.2f} s (slowest {slowest:.2f} s); "
          f"shared again {recovery_seconds:.1f} s after Redis restarted")


# ------------------------------------------------------------------------------ 4. shadow


@pytest.mark.parametrize("mode", ["tflags", "global"])
def test_shadow_rate_limit_refuses_nobody(tmp_path, start_warden, mode):
    """A limit rolled out in shadow mode (`tflags MSG_IP shadow`, or the global switch
    `shadow on`, "every refusal is logged and counted, none applied") lets every message
    through; the log says "would have refused" for each one past the limit, and /metrics
    counts them (warden_shadow_refusals_total, and for tflags
    warden_rule_shadow_hits_total{rule="MSG_IP"})."""
    rules = "ratelimit  MSG_IP  key=client_ip count=messages limit=2/1h\n"
    rules += "tflags     MSG_IP  shadow\n" if mode == "tflags" else "shadow on\n"
    w = start_limited(start_warden, tmp_path, rules)
    toks = [token("shadow") for _ in range(5)]
    results = [send_plain(w, t) for t in toks]
    assert all(accepted(r) for r in results), [(i, show(r)) for i, r in enumerate(results, 1) if not accepted(r)]
    wait_until(lambda: len(maildir_tokens(tmp_path / "maildir", toks)) == 5, 10, "5 messages in the maildir")
    would = lines_with(w, "would have refused")
    assert len(would) == 3, f"{len(would)} 'would have refused' lines for 3 messages past the limit: {would}"
    assert all("MSG_IP" in str(ln.get("rules", "")) for ln in would), would
    assert not [ln for ln in w.log_lines() if ln.get("msg") == "refused"], "a shadow rule refused something"
    text = metrics(w)
    assert metric_value(text, "warden_shadow_refusals_total", 'verdict="tempfail"') == 3, metric_lines(text, "shadow")
    if mode == "tflags":
        assert metric_value(text, "warden_rule_shadow_hits_total", 'rule="MSG_IP"') == 3, metric_lines(text, "shadow")
        assert not metric_value(text, "warden_rule_hits_total", 'rule="MSG_IP"'), metric_lines(text, "rule_")


# ------------------------------------------------------------------------------ 5. scope and exemptions


def test_listener_scope_and_exempt_user(tmp_path, start_warden, postfix_upstream):
    """`listener=submission` limits only the submission port: the smtp listener (the MX)
    stays unlimited for the same address; `exempt_user=bob@example.test` lets bob send as
    much as he likes, without using up the address's allowance, while alice from the same
    address gets 451 4.7.1 at her 3rd message."""
    pf = postfix_upstream
    rules = """\
    ratelimit  SUB_MSG  key=client_ip count=messages limit=2/1h listener=submission exempt_user=bob@example.test
    """
    w = start_limited(start_warden, tmp_path, rules, upstream=pf.url)
    tok = token("scope")
    bob = Submission(w.submission_port, "bob@example.test", pf.SASL_USERS["bob@example.test"])
    bob_results = [bob.send("carol@example.test", bob_message(tok, n, "carol@example.test")) for n in range(4)]
    bob.close()
    assert all(accepted(r) for r in bob_results), [show(r) for r in bob_results]
    alice = Submission(w.submission_port, "alice@example.test", pf.SASL_USERS["alice@example.test"])
    alice_results = [alice.send("dave@example.test", bob_message(tok, 10 + n, "dave@example.test")) for n in range(3)]
    alice.close()
    assert [accepted(r) for r in alice_results] == [True, True, False], [show(r) for r in alice_results]
    assert refused_at(alice_results[2], "mail"), show(alice_results[2])
    smtp_results = [send_plain(w, tok, rcpt="user@example.test") for _ in range(4)]
    assert all(accepted(r) for r in smtp_results), [show(r) for r in smtp_results]
    pf.wait_for_messages(tok, count=4 + 2 + 4, timeout=20)


def test_exempt_address_list(tmp_path, start_warden):
    """`exempt=trusted.txt` (an address list of Blocklists/) exempts the listed hosts and
    networks (a mailing-list server) from the limit; an unlisted client is refused at its
    3rd message."""
    rules = "ratelimit  NET_MSG  key=client_ip count=messages limit=2/1h exempt=trusted.txt\n"
    lists = {"trusted.txt": "# mailing-list hosts\n192.0.2.50\n198.51.100.0/24\n"}
    w = start_limited(start_warden, tmp_path, rules, lists=lists, proxy=True)
    for client in ("192.0.2.50", "198.51.100.7"):
        results = [send_plain(w, token("exempt"), client=client) for _ in range(4)]
        assert all(accepted(r) for r in results), f"{client}: {[show(r) for r in results]}"
    results = [send_plain(w, token("limited"), client="192.0.2.51") for _ in range(3)]
    assert [accepted(r) for r in results] == [True, True, False], [show(r) for r in results]
    assert refused_at(results[2], "mail"), show(results[2])


def test_exempt_user_is_the_login_not_the_envelope_sender(tmp_path, start_warden, postfix_upstream):
    """`exempt_user=bob@example.test` exempts bob's login. alice, logged in as herself, does
    not escape her limit by writing MAIL FROM:<bob@example.test> (the mail server behind
    does not stop her): her 3rd message is refused 451 4.7.1 like any other."""
    pf = postfix_upstream
    rules = "ratelimit  USER_MSG  key=user count=messages limit=2/1h exempt_user=bob@example.test\n"
    w = start_limited(start_warden, tmp_path, rules, upstream=pf.url)
    tok = token("forged-sender")
    alice = Submission(w.submission_port, "alice@example.test", pf.SASL_USERS["alice@example.test"])
    alice.open()
    results = [transaction(alice.c, "bob@example.test", "carol@example.test", bob_message(tok, n, "carol@example.test"))
               for n in range(3)]
    alice.close()
    assert [accepted(r) for r in results[:2]] == [True, True], [show(r) for r in results]
    assert refused_at(results[2], "mail"), (
        f"alice (logged in) with MAIL FROM:<bob@example.test>, 3rd message over her limit of 2: {show(results[2])}")


def test_distinct_recipients_counts_a_known_recipient_once(tmp_path, start_warden):
    """`count=distinct_recipients limit=3/1h`: after mail to a, b and c the client may still
    write to a again (still 3 different recipients); only a 4th different one, d, is
    refused 451 4.7.1 at RCPT."""
    w = start_limited(start_warden, tmp_path,
                      "ratelimit  DR  key=client_ip count=distinct_recipients limit=3/1h\n", proxy=True)
    got = {}
    for n, rcpt in enumerate(["a@example.test", "b@example.test", "c@example.test", "a@example.test",
                              "d@example.test"]):
        got[f"{n + 1}:{rcpt}"] = send_plain(w, token("distinct"), rcpt=rcpt, client="192.0.2.90")
    outcome = {k: ("250" if accepted(r) else show(r)) for k, r in got.items()}
    assert all(accepted(got[k]) for k in list(got)[:3]), outcome
    assert accepted(got["4:a@example.test"]), f"a known recipient again (still 3 distinct): {outcome}"
    assert refused_at(got["5:d@example.test"], "rcpt"), f"a 4th distinct recipient: {outcome}"


def test_scored_limit_counts_towards_the_threshold(tmp_path, start_warden):
    """A limit given a score instead of an action (`score MSG_IP 10` with `threshold tempfail
    5`, as docs/rules.md describes scores and thresholds) still takes effect: past the limit
    the rule's 10 points reach the threshold and the 3rd message gets 451 4.7.1. (A score
    must not silently turn the limit off.)"""
    rules = """\
    ratelimit  MSG_IP  key=client_ip count=messages limit=2/1h
    score      MSG_IP  10
    threshold  tempfail 5
    """
    w = start_limited(start_warden, tmp_path, rules, proxy=True)
    results = [send_plain(w, token("scored"), client="192.0.2.91") for _ in range(3)]
    assert [accepted(r) for r in results[:2]] == [True, True], [show(r) for r in results]
    r = results[2]
    rejected = not accepted(r) and any(rep.code == 451 and rep.enhanced == "4.7.1" for rep in r.values())
    assert rejected, f"3rd message, MSG_IP hit with score 10 >= threshold tempfail 5: {show(r)}"


def test_parallel_sessions_cannot_multiply_a_message_limit(tmp_path, start_warden):
    """`count=messages limit=5/1h` holds for a client that opens 10 sessions at once (a
    spammer with a stolen password does): at most 5 of its 10 messages are accepted."""
    w = start_limited(start_warden, tmp_path,
                      "ratelimit  MSG_IP  key=client_ip count=messages limit=5/1h\n", proxy=True)
    conns = [RawSMTP(LOCALHOST, w.smtp_port, proxy_header=proxy_header("192.0.2.92")) for _ in range(10)]
    finals = []
    try:
        for c in conns:
            assert c.greeting.code == 220 and c.ehlo("mail.example.org").code == 250
        mails = [c.cmd(f"MAIL FROM:<{SENDER}>") for c in conns]
        for c, m in zip(conns, mails):
            if m.code == 250:
                assert c.cmd("RCPT TO:<carol@example.test>").code == 250
        for c, m in zip(conns, mails):
            if m.code == 250:
                finals.append(c.data(make_message(token("parallel")))[1])
    finally:
        for c in conns:
            c.quit()
    accepted_count = sum(1 for f in finals if f is not None and f.code == 250)
    assert accepted_count <= 5, (
        f"{accepted_count} of 10 messages accepted with limit 5: MAIL replies {[m.code for m in mails]}, "
        f"after DATA {[f.code if f else None for f in finals]}")


# ------------------------------------------------------------------------------ 6. connections


def test_connection_rate_limit_421(tmp_path, start_warden):
    """`ratelimit CONN key=client_ip count=connections limit=3/1m`: the 4th connection from
    one address within the minute is answered `421 4.7.0 ... [ref=...]` instead of the
    greeting and closed, and the log line with that ref names CONN; another address is
    still served."""
    w = start_limited(start_warden, tmp_path, "ratelimit  CONN  key=client_ip count=connections limit=3/1m\n",
                      proxy=True)
    greetings = []
    closed_after = None
    for n in range(4):
        with RawSMTP(LOCALHOST, w.smtp_port, proxy_header=proxy_header("192.0.2.77")) as c:
            greetings.append(c.greeting)
            if n == 3:
                try:
                    closed_after = c.read_line(timeout=3)
                except (SMTPClosed, ConnectionError):
                    closed_after = b""
                except socket.timeout:
                    closed_after = b"(still open after 3 s)"
            else:
                c.quit()
    assert [g.code for g in greetings[:3]] == [220] * 3, [str(g) for g in greetings]
    g = greetings[3]
    assert g.is_(421, "4.7.0") and g.ref, f"4th connection in a minute: {g}"
    assert closed_after == b"", f"the connection stayed open after 421: {closed_after!r}"
    line = w.wait_for_log(lambda ln: ln.get("msg") == "refused" and ln.get("ref") == g.ref, 5, f"refused ref={g.ref}")
    assert "CONN" in str(line.get("rules", "")), line
    with RawSMTP(LOCALHOST, w.smtp_port, proxy_header=proxy_header("192.0.2.78")) as c:
        assert c.greeting.code == 220, str(c.greeting)
        c.quit()


# ------------------------------------------------------------------------------ 7. warden check


@pytest.mark.parametrize("line, reason", [
    ("ratelimit  MSG_BAD  key=client_ip count=messages limit=ten/1h", r"limit must be N/PERIOD"),
    ("ratelimit  MSG_BAD  key=client_ip count=messages limit=10/2w", r"period of 10/2w"),
    ("ratelimit  MSG_BAD  key=client_ip count=mesages limit=10/1h", r"count must be one of"),
    ("ratelimit  MSG_BAD  key=client_addr count=messages limit=10/1h", r"unknown key client_addr"),
    ("bulk       MSG_BAD  key=user", r"limit=N/PERIOD is missing"),
    ("ratelimit  MSG_BAD  key=sender count=connections limit=3/1m", r"connections .*client_ip"),
    ("ratelimit  MSG_BAD  key=user count=messages limit=10/1h exempt=missing.txt", r"missing\.txt"),
])
def test_check_reports_bad_limit_line(tmp_path, warden_binary, line, reason):
    """`warden check` reports a malformed ratelimit/bulk line as Rules/FILE:LINE: reason
    (here line 3, after a valid limit) and exits 1, so the operator fixes it before a reload;
    the valid line is not reported."""
    rules = f"# limits\nratelimit  MSG_OK  key=client_ip count=messages limit=10/1h\n{line}\n"
    write_policy(tmp_path, rules, rules_file="limits.cf")
    _, path = write_warden_config(tmp_path, f"maildir:{tmp_path / 'maildir'}",
                                  policy={"rules": str(tmp_path / "Rules"), "blocklists": str(tmp_path / "Blocklists")})
    p = run_warden_command("check", "--config", str(path))
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 1, f"exit {p.returncode}:\n{out}"
    m = re.search(r"(?:^|[\s/])Rules/limits\.cf:3: (.*)$", out, re.MULTILINE)
    assert m, f"no Rules/limits.cf:3: in:\n{out}"
    assert re.search(reason, m.group(1)), f"reason {m.group(1)!r} does not say {reason!r}"
    assert "limits.cf:2" not in out, out


def test_check_reports_limit_scoped_to_unknown_listener(tmp_path, warden_binary):
    """A typo in `listener=` (submision) would make the limit silently never apply: `warden
    check` names the unknown listener (an error or a warning with Rules/FILE:LINE)."""
    write_policy(tmp_path, "# limits\nratelimit  SUB  key=client_ip count=messages limit=2/1h listener=submision\n",
                 rules_file="limits.cf")
    _, path = write_warden_config(tmp_path, f"maildir:{tmp_path / 'maildir'}",
                                  policy={"rules": str(tmp_path / "Rules"), "blocklists": str(tmp_path / "Blocklists")})
    p = run_warden_command("check", "--config", str(path))
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert re.search(r"limits\.cf:2\b.*submision", out), f"exit {p.returncode}, nothing about listener submision:\n{out}"


def test_check_accepts_tab_separated_limit_options(tmp_path, warden_binary):
    """Rule files are often aligned with tabs (SpamAssassin's are, and every other directive
    takes tabs between its arguments): `ratelimit<TAB>MSG_IP<TAB>key=client_ip<TAB>count=...`
    loads like the same line with spaces."""
    write_policy(tmp_path, "ratelimit\tMSG_IP\tkey=client_ip\tcount=messages\tlimit=10/1h\n"
                           "bulk\tBULK_USER\tkey=user\tlimit=50/1h\n", rules_file="limits.cf")
    _, path = write_warden_config(tmp_path, f"maildir:{tmp_path / 'maildir'}",
                                  policy={"rules": str(tmp_path / "Rules"), "blocklists": str(tmp_path / "Blocklists")})
    p = run_warden_command("check", "--config", str(path))
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 0, f"exit {p.returncode}:\n{out}"
    assert re.search(r"rules: 2 loaded", out), out
