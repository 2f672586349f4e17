"""Differential tests: Warden's content rules against SpamAssassin itself.

For every message of Tests/e2e/content/messages, the rules of Tests/e2e/content/rules (every
supported rule type and modifier) run in Debian's SpamAssassin 4.0.1 (sa_reference.pl, which
loads only those rules) and in `warden scan --rules ... --json`; the rules each reports as hit,
sub-rules included, and the hit counts must be equal. The envelope sender of each message is
in content/envelopes.tsv (EnvelopeFrom rules read it).

Needs the `spamassassin` package (.ci/run installs it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

CONTENT = Path(__file__).parent / "content"
RULES = CONTENT / "rules"
MESSAGES = sorted((CONTENT / "messages").glob("*.eml"))


def envelopes() -> dict[str, str]:
    result = {}
    for line in (CONTENT / "envelopes.tsv").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, sender = line.split("\t", 1)
        result[name] = sender.strip()
    return result


def spamassassin(message: Path, sender: str | None) -> dict:
    if shutil.which("spamassassin") is None:
        pytest.fail("the spamassassin package is not installed (.ci/run installs it)")
    command = ["perl", str(CONTENT / "sa_reference.pl"), str(RULES), str(message)]
    if sender is not None:
        command.append(sender)
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def warden(warden_binary: str, message: Path, sender: str | None) -> dict:
    command = [warden_binary, "scan", "--rules", str(RULES), "--json", str(message)]
    if sender is not None:
        command[2:2] = ["--from", sender]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("message", MESSAGES, ids=[m.stem for m in MESSAGES])
def test_same_rules_hit_as_spamassassin(warden_binary, message):
    sender = envelopes().get(message.name)
    reference = spamassassin(message, sender)
    ours = warden(warden_binary, message, sender)
    hits = {hit["rule"]: hit["count"] for hit in ours["hits"]}
    assert sorted(r for r in hits if not r.startswith("__")) == reference["hits"]
    assert sorted(r for r in hits if r.startswith("__")) == reference["subrules"]
    assert hits == reference["counts"]
    assert ours["score"] == pytest.approx(reference["score"], abs=0.001)


def test_every_rule_both_hits_and_misses(warden_binary):
    """The corpus can fail: each rule hits some message and misses another."""
    seen: dict[str, int] = {}
    for message in MESSAGES:
        for hit in warden(warden_binary, message, envelopes().get(message.name))["hits"]:
            seen[hit["rule"]] = seen.get(hit["rule"], 0) + 1
    defined = [line.split()[1] for line in (RULES / "70-differential.cf").read_text().splitlines()
               if line.split()[:1] and line.split()[0] in ("header", "body", "rawbody", "full", "uri", "meta")]
    never = [rule for rule in defined if rule not in seen and rule != "Z_ZERO_SCORE"]
    always = [rule for rule, count in seen.items() if count == len(MESSAGES)]
    assert never == []
    assert always == []
    assert "Z_ZERO_SCORE" not in seen
