"""pytest fixtures for Warden's end-to-end tests (Tests/e2e).

Run: `bash scripts/test` (builds, runs the Swift tests, then these), or directly
`WARDEN_BIN=.build/debug/warden python3 -m pytest -q Tests/e2e` as root with postfix,
swaks, sasl2-bin and libsasl2-modules installed (.ci/run installs them).

Fixtures
- postfix_upstream (session): a private Postfix instance on 127.0.0.1:<free port>
  (`url`), plus a STARTTLS smtpd (`tls_url`) and a PROXY-protocol smtpd (`haproxy_url`);
  see harness.PostfixUpstream for its layout and the non-obvious findings.
- start_warden (function; alias `warden`): factory
      start_warden(tmp_path, upstream_url, **overrides) -> harness.WardenProcess
  writes warden.toml, starts `WARDEN_BIN run --config FILE`, waits <= 20 s for every
  listener, and stops it (SIGTERM, then SIGKILL after 10 s) after the test.
  overrides deep-merge into the TOML, e.g.
      start_warden(tmp_path, url, limits={"bare_line_endings": "normalize"},
                   listener={"smtp": {"proxy_protocol": True, "proxy_trusted": ["127.0.0.1/32"]}})
- fake_upstream (function): factory for harness.FakeUpstream (recording SMTP server).
- rbldnsd (function): factory rbldnsd({zone: [(dataset type, file text), ...]}) ->
  harness.RblDnsd, a private rbldnsd on a free UDP port (`.server` is the [dns] servers
  entry), stopped by its pid after the test.
- redis_server (function): factory redis_server() -> harness.RedisServer, a private
  redis-server on a free port (`.address` is the [store] redis value), nothing saved to
  disk; the test may stop() and start() it again on the same port; stopped by its pid after
  the test.
- warden_binary: the binary path; skips the test when it does not exist (only then),
  unless WARDEN_E2E_REQUIRE_BIN=1 (scripts/test sets it), which turns that into a failure.

Environment
- WARDEN_BIN: path of the binary (default .build/debug/warden).
- WARDEN_E2E_KEEP=1: keep the Postfix temp directory (its path is printed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import (  # noqa: F401 - re-exported for test modules
    FakeUpstream,
    PostfixUpstream,
    RawSMTP,
    RblDnsd,
    RedisServer,
    Reply,
    WardenProcess,
    free_port,
    launch_warden,
    raise_fd_limit,
    run_swaks,
    smtp_send,
    tail,
    warden_bin,
    warden_missing_reason,
)

raise_fd_limit()


@pytest.fixture(scope="session")
def warden_binary() -> Path:
    reason = warden_missing_reason()
    if reason:
        if os.environ.get("WARDEN_E2E_REQUIRE_BIN") == "1":
            pytest.fail(reason + " (WARDEN_E2E_REQUIRE_BIN=1)", pytrace=False)
        pytest.skip(reason)
    path = warden_bin()
    if not os.access(path, os.X_OK):
        pytest.fail(f"WARDEN_BIN {path} exists but is not executable", pytrace=False)
    return path


@pytest.fixture(scope="session")
def postfix_upstream():
    """A private Postfix instance for the whole session (started once, ~2 s)."""
    keep = os.environ.get("WARDEN_E2E_KEEP") == "1"
    pf = PostfixUpstream(keep=keep)
    try:
        pf.start()
    except Exception as e:  # noqa: BLE001 - a broken fixture is a failure, with its reason
        pf.stop()
        pytest.fail(f"could not start the private Postfix upstream: {e}", pytrace=False)
    if keep:
        print(f"\n[e2e] Postfix upstream kept in {pf.base} (port {pf.port})")
    yield pf
    pf.stop()


@pytest.fixture
def start_warden(request, warden_binary):
    started: list[WardenProcess] = []

    def _start(workdir, upstream_url: str, **overrides) -> WardenProcess:
        w = launch_warden(Path(workdir), upstream_url, **overrides)
        started.append(w)
        return w

    _start.started = started  # read by pytest_runtest_makereport for failure reports
    yield _start
    for w in started:
        w.stop(timeout=10)


@pytest.fixture
def warden(start_warden):
    """Alias of start_warden."""
    return start_warden


@pytest.fixture
def fake_upstream():
    servers: list[FakeUpstream] = []

    def _make(mode: str = "accept") -> FakeUpstream:
        s = FakeUpstream(mode=mode).start()
        servers.append(s)
        return s

    yield _make
    for s in servers:
        s.close()


@pytest.fixture
def rbldnsd():
    servers: list[RblDnsd] = []

    def _make(zones: dict, ttl: int = 60) -> RblDnsd:
        s = RblDnsd(zones, ttl=ttl)
        servers.append(s)
        return s.start()

    _make.servers = servers  # read by pytest_runtest_makereport for failure reports
    yield _make
    for s in servers:
        s.stop()


@pytest.fixture
def redis_server():
    servers: list[RedisServer] = []

    def _make() -> RedisServer:
        s = RedisServer()
        servers.append(s)
        return s.start()

    _make.servers = servers  # read by pytest_runtest_makereport for failure reports
    yield _make
    for s in servers:
        s.stop(remove=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """On a failing test, attach the tail of each Warden's log and of Postfix's maillog."""
    rep = yield
    if rep.when == "call" and rep.failed:
        funcargs = getattr(item, "funcargs", {})
        for value in funcargs.values():
            for w in getattr(value, "started", []) or []:
                rep.sections.append((f"warden log {w.log_path} (tail)", tail(w.log_text(), 60)))
            for d in getattr(value, "servers", []) or []:
                if isinstance(d, RblDnsd):
                    rep.sections.append((f"rbldnsd on {d.server} log (tail)", tail(d.log_text(), 20)))
                if isinstance(d, RedisServer):
                    rep.sections.append((f"redis-server on {d.address} log (tail)", tail(d.log_text(), 20)))
        pf = funcargs.get("postfix_upstream")
        if isinstance(pf, PostfixUpstream):
            rep.sections.append((f"postfix maillog {pf.maillog} (tail)", tail(pf.maillog_text(), 30)))
    return rep
