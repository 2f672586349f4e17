"""Warden end to end: SpamAssassin-style content rules at the end of DATA.

What a mail operator sees: a message whose content rules reach `threshold reject` is answered
`550 5.7.1 ... [ref=...]` after the message (MAIL and RCPT were accepted) and never reaches the
mail server; `threshold tempfail` gives `451 4.7.1`; a shadow rule only logs "would have
refused"; with `tag_headers on` a message that passes carries X-Spam-Score / X-Spam-Status /
X-Spam-Flag (forged ones from the client removed, the body untouched); a catastrophic regex
does not hang a session; only the first `scan_size` bytes are scanned; a meta rule may combine
a client rule with a content rule; `warden scan` and `warden check` report on content rules
(`check` also on a copy of Debian's stock SpamAssassin rules).

Mail goes through Warden to the private Postfix of the session (conftest.postfix_upstream);
every test writes its own Rules/ into tmp_path and starts its own Warden (client 127.0.0.1, no
PROXY header). Everything runs on 127.0.0.1, every wait is bounded, every process is stopped by
its own pid. Each docstring says what a user would notice if the test failed."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from harness import (
    LOCALHOST,
    metric_lines,
    metric_value,
    metrics,
    RawSMTP,
    Reply,
    run_warden_command,
    tail,
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
RCPT = "alice@example.test"
HELO = "mail.example.org"
STOCK_RULES = Path("/usr/share/spamassassin")


# ------------------------------------------------------------------------------ helpers


def start_content_warden(start_warden, workdir: Path, rules: str, upstream: str,
                         lists: dict[str, str] | None = None, **extra):
    """A Warden whose Rules/ holds `rules` (and Blocklists/ `lists`), relaying to `upstream`."""
    workdir.mkdir(parents=True, exist_ok=True)
    write_policy(workdir, rules, lists)
    overrides: dict = {"policy": {"rules": str(workdir / "Rules"), "blocklists": str(workdir / "Blocklists")}}
    overrides.update(extra)
    return start_warden(workdir, upstream, **overrides)


def message(tok: str, subject: str, body: str, extra_headers: str = "", rcpt: str = RCPT) -> bytes:
    """An RFC 5322 message (CRLF) carrying `tok` in its Message-ID and X-E2E-Token."""
    text = (f"From: <{SENDER}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{tok}@e2e.test>\r\nX-E2E-Token: {tok}\r\n{extra_headers}"
            f"\r\n{body}")
    return text.encode("utf-8")


def transaction(c: RawSMTP, msg: bytes, rcpt: str = RCPT, data_timeout: float = 30.0) -> dict[str, Reply]:
    """MAIL, RCPT, DATA on an open session; every reply by step, stopping at the first one
    that is not the expected 250/354 (then RSET, so the session can go on)."""
    out: dict[str, Reply] = {}
    for step, line in (("mail", f"MAIL FROM:<{SENDER}>"), ("rcpt", f"RCPT TO:<{rcpt}>")):
        out[step] = c.cmd(line)
        if out[step].code != 250:
            c.cmd("RSET")
            return out
    r354, final = c.data(msg, timeout=data_timeout)
    out["data"] = r354
    if final is not None:
        out["final"] = final
    return out


def show(r: dict[str, Reply]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in r.items())


def assert_refused_after_data(r: dict[str, Reply], code: int, enhanced: str) -> Reply:
    """MAIL and RCPT accepted, DATA answered 354, the end of data refused with a reference."""
    assert r["mail"].code == 250, f"MAIL should be accepted (the refusal comes after DATA): {show(r)}"
    assert r.get("rcpt") is not None and r["rcpt"].code == 250, f"RCPT should be accepted: {show(r)}"
    assert r.get("data") is not None and r["data"].code == 354, f"DATA should be answered 354: {show(r)}"
    final = r.get("final")
    assert final is not None and final.is_(code, enhanced), f"expected {code} {enhanced} after the message: {show(r)}"
    assert final.ref, f"refusal without [ref=...]: {final}"
    return final


def assert_relayed(r: dict[str, Reply]) -> Reply:
    """The end of data answered by Postfix itself (250 ... queued as ...)."""
    final = r.get("final")
    assert final is not None and final.code == 250, f"expected the message relayed (250): {show(r)}"
    assert "queued as" in final.text, f"the 250 should be Postfix's own (queued as ...): {final}"
    return final


def session(w, helo: str = HELO) -> RawSMTP:
    c = RawSMTP(LOCALHOST, w.smtp_port, timeout=30)
    assert c.greeting.code == 220, c.greeting
    assert c.ehlo(helo).code == 250
    return c


def log_with(w, msg: str, timeout: float = 5.0, **fields) -> dict:
    """The first JSON log line with this msg and these fields (waits up to `timeout`)."""
    def match(ln: dict) -> bool:
        return ln.get("msg") == msg and all(str(ln.get(k)) == str(v) for k, v in fields.items())

    return w.wait_for_log(match, timeout, f"a log line msg={msg!r} {fields}")


def lines_with(w, msg: str) -> list[dict]:
    return [ln for ln in w.log_lines() if ln.get("msg") == msg]


def split_message(raw: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """(header fields as (name, unfolded value), body) of a delivered message (LF or CRLF)."""
    raw = raw.replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    fields: list[tuple[str, str]] = []
    for line in head.decode("utf-8", "replace").split("\n"):
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + " " + line.strip())
        elif ":" in line:
            name, value = line.split(":", 1)
            fields.append((name, value.strip()))
    return fields, body


def values(fields: list[tuple[str, str]], name: str) -> list[str]:
    return [v for n, v in fields if n.lower() == name.lower()]


def delivered(pf, tok: str, timeout: float = 20.0) -> bytes:
    """The one message Postfix delivered with `tok` (waits for it)."""
    paths = pf.wait_for_messages(tok, count=1, timeout=timeout)
    assert len(paths) == 1, f"{len(paths)} delivered copies of {tok}: {paths}"
    return paths[0].read_bytes()


def assert_never_reached_postfix(pf, *toks: str) -> None:
    """No mailbox holds these messages and Postfix's log never saw their Message-ID (call it
    after a later message of the same session was delivered, so nothing is still on its way)."""
    wait_until(pf.queue_is_empty, 30, "Postfix's queue to be empty")
    log = pf.maillog_text()
    for tok in toks:
        assert not pf.messages_containing(tok), f"refused message {tok} was delivered: {pf.messages_containing(tok)}"
        assert tok not in log, f"Postfix's log mentions the refused message {tok}:\n" + "\n".join(
            ln for ln in log.splitlines() if tok in ln)


# ------------------------------------------------------------------------------ 1. reject after DATA

RULES_REJECT = r"""
body      SPAM_PHRASE   /\bcheap replica watches\b/i
score     SPAM_PHRASE   6
describe  SPAM_PHRASE   Offers replica watches
header    SUBJ_WON      Subject =~ /\byou have won\b/i
score     SUBJ_WON      2.5
body      FAKE_INVOICE  /\binvoice\b.{0,40}\.zip\b/i
action    FAKE_INVOICE  reject
describe  FAKE_INVOICE  Message looks like a fake invoice
threshold reject 5
"""


def test_spam_refused_after_data_and_session_goes_on(tmp_path, start_warden, postfix_upstream):
    """A message scoring 8.5 (threshold reject 5) is answered 550 5.7.1 after the message, with
    the score and the rules in the reply; a message hitting an `action reject` rule gets that
    rule's describe text. Both after MAIL and RCPT were accepted; the `refused` log line with
    the reply's ref lists the rules with their evidence; neither message reaches Postfix; a
    clean message in the same session is then relayed (Postfix's own 250)."""
    pf = postfix_upstream
    w = start_content_warden(start_warden, tmp_path, RULES_REJECT, pf.url)
    spam_tok, invoice_tok, clean_tok = token("spam"), token("invoice"), token("clean")
    spam = message(spam_tok, "You have WON a prize",
                   "Hello,\r\n\r\nWe sell cheap replica watches, best prices.\r\n")
    invoice = message(invoice_tok, "Your documents",
                      "Please open the attached invoice 2024-0042.zip today.\r\n")
    clean = message(clean_tok, "Minutes of the meeting", "Hi Alice,\r\n\r\nthe minutes are below.\r\n")

    with session(w) as c:
        r_spam = transaction(c, spam)
        r_invoice = transaction(c, invoice)
        r_clean = transaction(c, clean)
        c.quit()

    # 1. By score: the reply names the score and both rules.
    final = assert_refused_after_data(r_spam, 550, "5.7.1")
    assert "8.5" in final.text and "SPAM_PHRASE" in final.text and "SUBJ_WON" in final.text, final
    line = log_with(w, "refused", ref=final.ref)
    assert line.get("stage") == "data-end" and line.get("verdict") == "reject", line
    assert line.get("from") == SENDER, line
    rules = line.get("rules", "")
    assert "SPAM_PHRASE" in rules and "cheap replica watches" in rules, f"no body evidence in the log: {line}"
    assert "SUBJ_WON" in rules and "You have WON" in rules, f"no header evidence in the log: {line}"

    # 2. By action: the reply is the rule's describe text.
    final = assert_refused_after_data(r_invoice, 550, "5.7.1")
    assert "Message looks like a fake invoice" in final.text, final
    line = log_with(w, "refused", ref=final.ref)
    assert "FAKE_INVOICE" in line.get("rules", "") and "invoice 2024-0042.zip" in line.get("rules", ""), line

    # 3. The session is still usable: the clean message goes to Postfix.
    assert_relayed(r_clean)
    raw = delivered(pf, clean_tok)
    assert b"the minutes are below." in raw
    assert_never_reached_postfix(pf, spam_tok, invoice_tok)
    relayed = log_with(w, "message relayed")
    assert relayed.get("from") == SENDER, relayed


# ------------------------------------------------------------------------------ 2. tag headers

RULES_TAG = r"""
tag_headers   on
tag_threshold 3
header    URGENT_SUBJ   Subject =~ /\burgent\b/i
score     URGENT_SUBJ   1.5
body      LOTTERY       /\blottery winner\b/i
score     LOTTERY       2.0
threshold reject 10
"""

# A body that a careless rewriter would damage: dot lines, trailing white space, a tab, a
# line that looks like a header field, an empty last line, a long line.
TRICKY_BODY = ("Dear friend,\r\n\r\nYou are this week's lottery winner!\r\n"
               ".a line that starts with a dot\r\n..two dots\r\n"
               "trailing spaces   \r\n\tindented with a tab\r\n"
               "X-Spam-Flag: YES (a body line, not a header field)\r\n"
               + "long " * 150 + "\r\n"
               "-- \r\nsig\r\n\r\n")


def spam_header_block(fields: list[tuple[str, str]], names: tuple[str, ...]) -> list[tuple[str, str]]:
    """The fields right after Postfix's own trace fields (Return-Path, X-Original-To, Delivered-To, Received),
    as many as `names`."""
    i = 0
    while i < len(fields) and fields[i][0].lower() in ("return-path", "x-original-to", "delivered-to", "received"):
        i += 1
    return fields[i:i + len(names)]


def test_tag_headers_added_forged_ones_removed_body_untouched(tmp_path, start_warden, postfix_upstream):
    """tag_headers on, tag_threshold 3: a message scoring 3.5 (below reject 10) reaches the
    mailbox with `X-Spam-Score: 3.5`, `X-Spam-Status: Yes, score=3.5 required=3.0 tests=...` and
    `X-Spam-Flag: YES` at the top of its header; the X-Spam-* fields the sender forged (a
    folded X-Spam-Status, X-Spam-Flag: NO, a lower-case x-spam-score) are gone; the body is
    byte for byte what was sent. A clean message gets `X-Spam-Status: No, ...` and no flag,
    even when the sender forged `X-Spam-Flag: YES`."""
    pf = postfix_upstream
    w = start_content_warden(start_warden, tmp_path, RULES_TAG, pf.url)
    spam_tok, clean_tok = token("tagged"), token("tag-clean")
    forged = ("X-Spam-Status: No, score=-99.0 required=5.0\r\n\ttests=ALL_TRUSTED autolearn=ham\r\n"
              "X-Spam-Flag: NO\r\nx-spam-score: -99.0\r\nX-Mailer: e2e\r\n")
    spam = message(spam_tok, "URGENT: claim your prize", TRICKY_BODY, extra_headers=forged)
    clean_body = "Hi Alice,\r\n\r\nlunch on Friday?\r\n"
    clean = message(clean_tok, "Lunch", clean_body, extra_headers="X-Spam-Flag: YES\r\n")

    with session(w) as c:
        r_spam = transaction(c, spam)
        r_clean = transaction(c, clean)
        c.quit()
    assert_relayed(r_spam)
    assert_relayed(r_clean)

    fields, body = split_message(delivered(pf, spam_tok))
    top = spam_header_block(fields, ("X-Spam-Score", "X-Spam-Status", "X-Spam-Flag"))
    assert [n for n, _ in top] == ["X-Spam-Score", "X-Spam-Status", "X-Spam-Flag"], (
        f"the tag fields should open the header (after Postfix's trace fields): {fields[:8]}")
    assert values(fields, "X-Spam-Score") == ["3.5"], fields
    status = values(fields, "X-Spam-Status")
    assert len(status) == 1, f"forged X-Spam-Status kept: {status}"
    m = re.fullmatch(r"Yes, score=3\.5 required=3\.0 tests=(\S+)", status[0])
    assert m and set(m.group(1).split(",")) == {"URGENT_SUBJ", "LOTTERY"}, status
    assert values(fields, "X-Spam-Flag") == ["YES"], f"forged X-Spam-Flag: NO kept? {values(fields, 'X-Spam-Flag')}"
    assert "ALL_TRUSTED" not in json.dumps(fields), f"part of the forged, folded X-Spam-Status kept: {fields}"
    assert values(fields, "X-Mailer") == ["e2e"], "a field next to the forged ones was removed"
    sent_body = spam.split(b"\r\n\r\n", 1)[1].replace(b"\r\n", b"\n")
    assert body == sent_body, f"body changed:\nsent {sent_body[:300]!r}\ngot  {body[:300]!r}"

    fields, body = split_message(delivered(pf, clean_tok))
    assert values(fields, "X-Spam-Score") == ["0.0"], fields
    assert values(fields, "X-Spam-Status") == ["No, score=0.0 required=3.0 tests=none"], fields
    assert values(fields, "X-Spam-Flag") == [], f"a clean message carries X-Spam-Flag: {fields}"
    assert body == clean_body.replace("\r\n", "\n").encode()
    relayed = lines_with(w, "message relayed")
    assert any(ln.get("score") == "3.5" for ln in relayed), relayed


RULES_TAG_RENAMED = RULES_TAG + """
tag_header flag  X-Warden-Spam
tag_header score off
"""


def test_tag_header_renamed_and_turned_off(tmp_path, start_warden, postfix_upstream):
    """`tag_header flag X-Warden-Spam` and `tag_header score off`: the tagged message carries
    `X-Warden-Spam: YES` (a forged `X-Warden-Spam: NO` is removed), X-Spam-Status as before,
    and neither X-Spam-Score nor X-Spam-Flag."""
    pf = postfix_upstream
    w = start_content_warden(start_warden, tmp_path, RULES_TAG_RENAMED, pf.url)
    tok = token("renamed")
    msg = message(tok, "urgent", "You are the lottery winner.\r\n", extra_headers="X-Warden-Spam: NO\r\n")
    with session(w) as c:
        r = transaction(c, msg)
        c.quit()
    assert_relayed(r)
    fields, _ = split_message(delivered(pf, tok))
    top = spam_header_block(fields, ("X-Spam-Status", "X-Warden-Spam"))
    assert [n for n, _ in top] == ["X-Spam-Status", "X-Warden-Spam"], fields[:8]
    assert values(fields, "X-Warden-Spam") == ["YES"], fields
    assert values(fields, "X-Spam-Status")[0].startswith("Yes, score=3.5 required=3.0 tests="), fields
    assert values(fields, "X-Spam-Score") == [], f"tag_header score off, yet: {fields}"
    assert values(fields, "X-Spam-Flag") == [], f"the flag was renamed, yet: {fields}"


# ------------------------------------------------------------------------------ 3. tempfail, shadow

RULES_TEMPFAIL_SHADOW = r"""
body      PHARMA        /\bv[i1]agra\b/i
score     PHARMA        4
describe  PHARMA        Pharmacy spam
body      SHADOW_CASINO /\bonline casino\b/i
score     SHADOW_CASINO 9
tflags    SHADOW_CASINO shadow
threshold tempfail 4
threshold reject   8
"""


def test_tempfail_threshold_and_shadow_rule(tmp_path, start_warden, postfix_upstream):
    """A message scoring 4 (threshold tempfail 4, reject 8) gets 451 4.7.1 after DATA and is not
    delivered; a message hitting only a shadow rule scored 9 is relayed, the log says "would
    have refused" (verdict reject, the rule named), and /metrics counts it:
    warden_shadow_refusals_total{verdict="reject"}, warden_rule_shadow_hits_total for the
    shadow rule, warden_rule_hits_total for the rule that tempfailed."""
    pf = postfix_upstream
    w = start_content_warden(start_warden, tmp_path, RULES_TEMPFAIL_SHADOW, pf.url)
    pharma_tok, casino_tok = token("pharma"), token("casino")
    with session(w) as c:
        r_pharma = transaction(c, message(pharma_tok, "Offer", "Buy V1AGRA now, no prescription.\r\n"))
        r_casino = transaction(c, message(casino_tok, "Fun", "Play at our online casino tonight.\r\n"))
        c.quit()

    final = assert_refused_after_data(r_pharma, 451, "4.7.1")
    assert "4.0" in final.text and "PHARMA" in final.text, final
    line = log_with(w, "refused", ref=final.ref)
    assert line.get("verdict") == "tempfail" and "PHARMA" in line.get("rules", ""), line

    assert_relayed(r_casino)
    delivered(pf, casino_tok)
    assert_never_reached_postfix(pf, pharma_tok)
    would = log_with(w, "would have refused")
    assert would.get("verdict") == "reject" and "SHADOW_CASINO" in would.get("rules", ""), would
    assert "online casino" in would.get("rules", ""), would
    assert len(lines_with(w, "refused")) == 1, lines_with(w, "refused")

    text = metrics(w)
    shown = metric_lines(text, "rule") + "\n" + metric_lines(text, "shadow")
    assert metric_value(text, "warden_shadow_refusals_total", 'verdict="reject"') == 1, shown
    assert metric_value(text, "warden_rule_shadow_hits_total", 'rule="SHADOW_CASINO"') == 1, shown
    assert metric_value(text, "warden_rule_hits_total", 'rule="PHARMA"') == 1, shown
    assert metric_value(text, "warden_rule_hits_total", 'rule="SHADOW_CASINO"') is None, shown


# ------------------------------------------------------------------------------ 4. catastrophic regex

RULES_CATASTROPHIC = r"""
body      CATASTROPHIC  /(a+)+$/
score     CATASTROPHIC  10
body      HARMLESS      /\bharmless marker\b/
score     HARMLESS      0.5
tag_headers   on
threshold reject 5
"""


def test_catastrophic_regex_does_not_hang(tmp_path, start_warden, postfix_upstream):
    """`body CATASTROPHIC /(a+)+$/` against a line of 40 'a's and a 'b' (exponential
    backtracking) is stopped by the match limits: the message is relayed within a few seconds
    (the rule counts as not hit, so its score 10 does not refuse), the other rules still run,
    the log names the rule and warden_content_rule_errors_total{rule="CATASTROPHIC"} is 1."""
    pf = postfix_upstream
    w = start_content_warden(start_warden, tmp_path, RULES_CATASTROPHIC, pf.url)
    tok = token("redos")
    body = "Hello,\r\n\r\n" + "a" * 40 + "b\r\n\r\nharmless marker\r\n"
    with session(w) as c:
        started = time.monotonic()
        r = transaction(c, message(tok, "Report", body), data_timeout=20)
        elapsed = time.monotonic() - started
        c.quit()
    assert_relayed(r)
    assert elapsed < 5, f"the transaction took {elapsed:.1f} s"
    fields, _ = split_message(delivered(pf, tok))
    assert values(fields, "X-Spam-Status") and "tests=HARMLESS" in values(fields, "X-Spam-Status")[0], fields
    assert "CATASTROPHIC" not in values(fields, "X-Spam-Status")[0]
    log_with(w, "content rule stopped by the match limits", rule="CATASTROPHIC")
    text = metrics(w)
    assert metric_value(text, "warden_content_rule_errors_total", 'rule="CATASTROPHIC"') == 1, (
        metric_lines(text, "content_rule_errors"))


# ------------------------------------------------------------------------------ 5. scan_size

RULES_SCAN_SIZE = r"""
scan_size 64k
body      SPAM_PHRASE  /\bmiracle weight loss\b/i
score     SPAM_PHRASE  10
threshold reject 5
"""


def big_body(phrase_at: int, size: int = 300 * 1024) -> str:
    """About `size` bytes of text lines; the spam phrase starts on a line near byte `phrase_at`."""
    lines: list[str] = []
    total, n, placed = 0, 0, False
    while total < size:
        if not placed and total >= phrase_at:
            line = "Try our miracle weight loss pills today.\r\n"
            placed = True
        else:
            n += 1
            line = f"Line {n:06d} of an ordinary long report, nothing to see here at all.\r\n"
        lines.append(line)
        total += len(line)
    return "".join(lines)


def test_only_scan_size_is_scanned(tmp_path, start_warden, postfix_upstream):
    """scan_size 64k: a 300 KB message with the spam phrase only after 100 KB is relayed whole
    (the phrase is not scanned), while the same 300 KB message with the phrase in its first KB
    is refused 550 5.7.1."""
    pf = postfix_upstream
    w = start_content_warden(start_warden, tmp_path, RULES_SCAN_SIZE, pf.url)
    late_tok, early_tok = token("late"), token("early")
    late = message(late_tok, "Report", big_body(150 * 1024))
    early = message(early_tok, "Report", big_body(512))
    assert len(late) > 300 * 1024 and len(early) > 300 * 1024
    with session(w) as c:
        r_early = transaction(c, early)
        r_late = transaction(c, late)
        c.quit()
    assert_refused_after_data(r_early, 550, "5.7.1")
    assert_relayed(r_late)
    raw = delivered(pf, late_tok, timeout=30)
    assert b"miracle weight loss" in raw and len(raw) > 290 * 1024, len(raw)
    assert_never_reached_postfix(pf, early_tok)


# ------------------------------------------------------------------------------ 6. meta across stages

RULES_META = r"""
client_list LOCAL_CLIENT  local.txt
score       LOCAL_CLIENT  0
body        __SPAM_WORD   /\bunsubscribe-now\b/i
meta        BOTH          (LOCAL_CLIENT && __SPAM_WORD)
score       BOTH          7
describe    BOTH          Spam word from a local client
threshold   reject 5
"""


@pytest.mark.parametrize("listed", [True, False], ids=["client-listed", "client-not-listed"])
def test_meta_combines_client_rule_and_content_rule(tmp_path, start_warden, postfix_upstream, listed):
    """`meta BOTH (LOCAL_CLIENT && __SPAM_WORD)` scored 7 (reject 5), LOCAL_CLIENT a client_list
    rule scored 0: from 127.0.0.1 on the list, a message with the word is refused 550 naming
    BOTH, one without it is relayed; with the list not holding 127.0.0.1 the message with the
    word is relayed too. `warden scan --config ... --client-ip` agrees."""
    pf = postfix_upstream
    lists = {"local.txt": "127.0.0.1/32\n" if listed else "192.0.2.1/32\n"}
    w = start_content_warden(start_warden, tmp_path, RULES_META, pf.url, lists=lists)
    word_tok, plain_tok = token("word"), token("plain")
    word = message(word_tok, "News", "Click unsubscribe-now to stop these mails.\r\n")
    plain = message(plain_tok, "News", "Nothing special today.\r\n")
    with session(w) as c:
        r_word = transaction(c, word)
        r_plain = transaction(c, plain)
        c.quit()
    assert_relayed(r_plain)
    delivered(pf, plain_tok)
    if listed:
        final = assert_refused_after_data(r_word, 550, "5.7.1")
        assert "BOTH" in final.text and "7.0" in final.text, final
        line = log_with(w, "refused", ref=final.ref)
        assert "BOTH" in line.get("rules", ""), line
        assert_never_reached_postfix(pf, word_tok)
    else:
        assert_relayed(r_word)
        delivered(pf, word_tok)

    eml = tmp_path / "word.eml"
    eml.write_bytes(word)
    p = run_warden_command("scan", "--config", str(w.config_path), "--client-ip", "127.0.0.1",
                           "--helo", HELO, "--from", SENDER, "--to", RCPT, "--json", str(eml), timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    report = json.loads(p.stdout)
    rules = {h["rule"] for h in report["hits"]}
    assert report["verdict"] == ("reject" if listed else "pass"), report
    assert ("BOTH" in rules) == listed, report


# ------------------------------------------------------------------------------ 7. CLI

RULES_CLI = r"""
body      SPAM_PHRASE   /\bcheap replica watches\b/i
score     SPAM_PHRASE   6
describe  SPAM_PHRASE   Offers replica watches
body      CLICK_HERE    /\bclick here\b/i
score     CLICK_HERE    0.5
tflags    CLICK_HERE    multiple
header    SUBJ_WON      Subject =~ /\byou have won\b/i
score     SUBJ_WON      2.5
body      __NEVER       /\bnever present in the message\b/
threshold reject 5
"""


def test_warden_scan_text_and_json(tmp_path):
    """`warden scan --rules DIR FILE` prints each rule that hit with its points and
    `verdict: reject`; `--json` gives the hits with their counts (a `multiple` rule hit three
    times counts 3 and scores 1.5), the score and the verdict."""
    write_policy(tmp_path, RULES_CLI)
    eml = tmp_path / "spam.eml"
    eml.write_bytes(message("scan-cli", "You have won",
                            "cheap replica watches\r\nclick here\r\nor click here\r\nor CLICK HERE\r\n"))
    p = run_warden_command("scan", "--rules", str(tmp_path / "Rules"), str(eml), timeout=60)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out + p.stderr.decode(errors="replace")
    assert re.search(r"^\s*6\.0 SPAM_PHRASE\s+Offers replica watches", out, re.M), out
    assert re.search(r"^\s*2\.5 SUBJ_WON\b", out, re.M), out
    assert re.search(r"^\s*1\.5 CLICK_HERE\b.*\(3 times\)", out, re.M), out
    assert re.search(r"^verdict: reject \(550 5\.7\.1 .*\)", out, re.M), out
    assert "10.0 points" in out, out
    assert "__NEVER" not in out

    p = run_warden_command("scan", "--rules", str(tmp_path / "Rules"), "--json", str(eml), timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    report = json.loads(p.stdout)
    hits = {h["rule"]: h for h in report["hits"]}
    assert set(hits) == {"SPAM_PHRASE", "SUBJ_WON", "CLICK_HERE"}, report
    assert hits["CLICK_HERE"]["count"] == 3 and hits["CLICK_HERE"]["score"] == pytest.approx(1.5), hits
    assert hits["SPAM_PHRASE"]["count"] == 1 and hits["SPAM_PHRASE"]["score"] == pytest.approx(6), hits
    assert "cheap replica watches" in hits["SPAM_PHRASE"]["evidence"], hits
    assert report["verdict"] == "reject" and report["score"] == pytest.approx(10.0), report
    assert report["reply"].startswith("550 5.7.1"), report

    clean = tmp_path / "clean.eml"
    clean.write_bytes(message("scan-clean", "Minutes", "Nothing to see.\r\n"))
    p = run_warden_command("scan", "--rules", str(tmp_path / "Rules"), "--json", str(clean), timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    report = json.loads(p.stdout)
    assert report["verdict"] == "pass" and report["hits"] == [] and report["score"] == 0, report


def test_warden_check_on_debian_stock_rules(tmp_path):
    """`warden check` on a config whose Rules/ holds a copy of Debian's SpamAssassin rules
    (/usr/share/spamassassin/*.cf) exits 0, reports more than 1,500 content rules loaded and
    the rules it skipped, grouped by reason (eval: tests, the ReplaceTags plugin, ...)."""
    cfs = sorted(STOCK_RULES.glob("*.cf")) if STOCK_RULES.is_dir() else []
    if not cfs:
        pytest.skip(f"{STOCK_RULES} holds no *.cf (install Debian's spamassassin package)")
    rules_dir = tmp_path / "Rules"
    rules_dir.mkdir(parents=True)
    (tmp_path / "Blocklists").mkdir()
    for cf in cfs:
        shutil.copy(cf, rules_dir / cf.name)
    _, config = write_warden_config(tmp_path, f"maildir:{tmp_path / 'maildir'}",
                                    policy={"rules": str(rules_dir), "blocklists": str(tmp_path / "Blocklists")})
    started = time.monotonic()
    p = run_warden_command("check", "--config", str(config), timeout=120)
    elapsed = time.monotonic() - started
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 0, f"rc={p.returncode}\n{tail(out, 30)}\n{err}"
    m = re.search(r"^content rules: (\d+) loaded \(", out, re.M)
    assert m, tail(out, 40)
    assert int(m.group(1)) > 1500, m.group(0)
    m = re.search(r"^content rules skipped: (\d+)$((?:\n  \d+ .*)*)", out, re.M)
    assert m and int(m.group(1)) > 0, tail(out, 40)
    reasons = m.group(2)
    assert re.search(r"^  \d+ eval: ", reasons, re.M), reasons
    assert re.search(r"^  \d+ .*ReplaceTags", reasons, re.M), reasons
    assert sum(int(x) for x in re.findall(r"^  (\d+) ", reasons, re.M)) == int(m.group(1)), reasons
    assert re.search(r"^content rules failed: \d+$", out, re.M), tail(out, 40)
    assert elapsed < 60, f"warden check took {elapsed:.1f} s"
