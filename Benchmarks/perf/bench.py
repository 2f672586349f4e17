"""Warden performance benchmark (run through Benchmarks/run, as root).

Starts, on 127.0.0.1 and side by side, one smtp-sink (the upstream of everyone) and in front
of it: nothing (direct), Warden (release build, full policy), Postfix's smtpd as a before-queue
proxy (smtpd_proxy_filter, lockstep) with the same policy, and nginx's mail proxy (filters
nothing). Loads each with Postfix's smtp-source (one message per connection, and many per
connection) and with pipeclient.py (pipelining, RFC 2920), probes session latency sequentially, holds
10,000 idle sessions against Warden, prints plain-text tables, and stops everything it started
by its own pid. Files of the run live in /tmp/warden-perf-* (removed at the end unless --keep).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import os
import platform
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import procstat  # noqa: E402
import smtpclient  # noqa: E402
from peers import (AuthHttp, Nginx, Postfix, RblDnsd, Sink, Unbound, Warden, port53_free,  # noqa: E402
                   stop_popen, tail)

ZONE = "dnsbl.bench.test"
RECIPIENTS = 5
PROFILES = ("conn", "multi", "pipe")
T0 = time.monotonic()
# Benchmarks/run exports the time it started, so --budget also covers its build and packages
try:
    BUDGET_OFFSET = max(0.0, time.time() - float(os.environ.get("BENCH_START_EPOCH", "")))
except ValueError:
    BUDGET_OFFSET = 0.0


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# Generated inputs: the block list and the message
# ----------------------------------------------------------------------------------------------

EXCLUDED = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/3")]


def block_networks(count: int = 4000, seed: int = 20261122) -> list[ipaddress.IPv4Network]:
    """`count` distinct public IPv4 networks, /16 to /32, the same every run."""
    rng = random.Random(seed)
    lengths = [16] * 2 + [20] * 3 + [22] * 4 + [24] * 40 + [28] * 6 + [32] * 45
    out: list[ipaddress.IPv4Network] = []
    seen: set[ipaddress.IPv4Network] = set()
    for _ in range(count * 20):
        if len(out) >= count:
            break
        addr = ipaddress.IPv4Address(rng.randrange(1 << 24, 224 << 24))
        net = ipaddress.ip_network(f"{addr}/{rng.choice(lengths)}", strict=False)
        if net in seen or any(net.overlaps(x) for x in EXCLUDED):
            continue
        seen.add(net)
        out.append(net)
    return out


def content_rules(count: int = 200, seed: int = 400) -> tuple[str, str]:
    """`count` header_checks and `count` body_checks rules (Postfix regexp: tables) in the style
    of a site's spam rules: phrases and obfuscated words, none matching the benchmark message."""
    rng = random.Random(seed)
    stems = ["v[i1]agr[a@]", "c[i1]al[i1]s", "cas[i1]n[o0]", "l[o0]tter[yi]", "w[i1]nn[e3]r", "cr[y1]pt[o0]",
             "b[i1]tc[o0][i1]n", "r[e3]pl[i1]ca", "l[o0]an", "m[o0]rtg[a@]ge", "ph[a@]rm[a@]cy", "d[i1][e3]t",
             "[e3]nl[a@]rg[e3]", "inh[e3]rit[a@]nce", "b[e3]n[e3]f[i1]c[i1]ary", "w[i1]r[e3] tr[a@]nsf[e3]r"]
    tails = ["fr[e3][e3]", "n[o0]w", "t[o0]d[a@]y", "ch[e3][a@]p", "0nl[i1]ne", "b[o0]nus", "gu[a@]r[a@]nt[e3][e3]d",
             "r[i1]sk.fr[e3][e3]", "[a@]ppr[o0]v[e3]d", "[e3]xcl[u]s[i1]v[e3]"]
    heads = ["Subject", "From", "Reply-To", "X-Mailer", "Content-Type", "Received", "Message-ID", "To"]
    hdr, body = [], []
    for i in range(count):
        s, tl = rng.choice(stems), rng.choice(tails)
        h = rng.choice(heads)
        hdr.append(f"/^{h}:.*{s} *{tl}/ REJECT header rule {i + 1}\n")
        body.append(f"/{rng.choice(stems)} +{rng.choice(tails)}/ REJECT body rule {i + 1}\n")
    return "".join(hdr), "".join(body)


def warden_content_rules(count: int = 200, seed: int = 400) -> str:
    """The same rules as `content_rules` in SpamAssassin's syntax for Warden's Rules/: a header
    rule on the same field and a body rule with the same pattern, caseless as Postfix's regexp:
    tables are, scored to refuse if one ever hit."""
    hdr, body = content_rules(count, seed)
    out = []
    for i, line in enumerate(hdr.splitlines()):
        field, pattern = line.split(" REJECT")[0][2:-1].split(":.*", 1)
        out.append(f"header BENCH_H{i + 1} {field} =~ /{pattern}/i\nscore BENCH_H{i + 1} 20\n")
    for i, line in enumerate(body.splitlines()):
        out.append(f"body BENCH_B{i + 1} {line.split(' REJECT')[0]}i\nscore BENCH_B{i + 1} 20\n")
    return "".join(out)


WORDS = ("the meeting report budget quarter project schedule review customer team update office "
         "delivery invoice please attached find regards thanks question answer morning afternoon "
         "week month plan draft final version changes comments notes agenda minutes call "
         "support service account order shipment warehouse contract renewal proposal price").split()


def make_message(size: int = 5120, seed: int = 7) -> bytes:
    """A plain-text message of about `size` bytes, CRLF line endings, no line starting with '.'."""
    rng = random.Random(seed)
    head = ("From: Sender <sender@bench.test>\r\nTo: Recipient <rcpt@example.test>\r\n"
            "Subject: Quarterly report and next steps\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID: <bench-0001@bench.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
            "Hello,\r\n\r\n")
    body, line = [], []
    length = len(head)
    for _ in range(100000):
        if length >= size - 40:
            break
        w = rng.choice(WORDS)
        if sum(len(x) + 1 for x in line) + len(w) > 72:
            text = " ".join(line).capitalize() + ("." if rng.random() < 0.3 else "")
            body.append(text)
            length += len(text) + 2
            line = []
            if rng.random() < 0.15:
                body.append("")
                length += 2
        line.append(w)
    body.append(" ".join(line) + ".")
    body += ["", "Best regards,", "The bench team", ""]
    return (head + "\r\n".join(body)).encode()


# ----------------------------------------------------------------------------------------------
# Measurement
# ----------------------------------------------------------------------------------------------


@dataclass
class Peer:
    name: str
    label: str
    port: int
    roots: list[int]            # the proxy's processes (CPU and memory); [] for direct
    aux: list[int]              # helpers on its path, reported apart (unbound, auth_http)
    obj: object | None = None
    queued: bool = False        # store-and-forward: done when the sink has every message


@dataclass
class Run:
    messages: int
    seconds: float
    delivered: int
    ok: bool
    proxy_cpu: float            # seconds
    sink_cpu: float
    aux_cpu: float
    source_cpu: float
    machine_busy: float         # seconds of CPU used on the whole machine meanwhile
    ours: float                 # of which by processes of this benchmark
    peak_rss_kb: int = 0
    peak_pss_kb: int = 0
    error: str = ""

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0


@dataclass
class PeerProfile:
    n: int = 0
    hwm: int = 0
    warm: Run | None = None
    runs: list[Run] = field(default_factory=list)


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="warden-perf-", dir="/tmp"))
        os.chmod(self.workdir, 0o755)
        self.cleanups: list = []
        self.notes: list[str] = []
        self.skipped: list[str] = []
        self.sink: Sink | None = None
        self.rbl: RblDnsd | None = None
        self.peers: list[Peer] = []
        self.results: dict[str, dict[str, PeerProfile]] = {}
        self.probes: dict[str, smtpclient.ProbeResult] = {}
        self.idle: dict[str, tuple[smtpclient.IdleResult, dict]] = {}
        self.sent: dict[str, int] = {}
        self.delivered: dict[str, int] = {}
        self.perf_report = ""
        self.warden_content_loaded = ""   # `warden check`'s "content rules: N loaded ..." line
        self.header: list[str] = []
        self.msgfile = self.workdir / "message.txt"
        self.message = make_message()
        # smtp-source -F appends CRLF to every line itself: the file has LF line endings
        self.msgfile.write_bytes(self.message.replace(b"\r\n", b"\n"))
        os.chmod(self.msgfile, 0o644)

    # -- life cycle ---------------------------------------------------------------------------
    def add_cleanup(self, what: str, fn) -> None:
        self.cleanups.append((what, fn))

    def cleanup(self) -> None:
        for what, fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - keep stopping the others
                log(f"cleanup {what}: {e!r}")
        self.cleanups.clear()
        if self.args.keep:
            log(f"work directory kept: {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def elapsed(self) -> float:
        """Seconds since Benchmarks/run started (build and package steps included)."""
        return time.monotonic() - T0 + BUDGET_OFFSET

    # -- set-up ---------------------------------------------------------------------------------
    def machine_header(self) -> None:
        model = "?"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next((ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                    if ln.startswith("MemTotal")), "0")

        def out(cmd: list[str]) -> str:
            try:
                p = subprocess.run(cmd, capture_output=True, timeout=20)
                return (p.stdout.decode() + p.stderr.decode()).strip().splitlines()[0]
            except (OSError, subprocess.TimeoutExpired, IndexError):
                return "?"

        repo = Path(__file__).resolve().parents[2]
        commit = out(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"])
        dirty = out(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no", "Sources"])
        now = dt.datetime.now(dt.timezone.utc)
        self.header = [
            f"date        {now:%Y-%m-%d %H:%M:%S} UTC",
            f"machine     nproc={os.cpu_count()}  model name: {model}  memory {int(mem) // 1024} MiB  "
            f"kernel {platform.release()}",
            f"load avg    {' '.join(Path('/proc/loadavg').read_text().split()[:3])} at start (the machine is shared: "
            f"see 'background CPU' below)",
            f"warden      {out([self.args.warden_bin, '--version'])} (release build, {self.args.warden_bin}), "
            f"commit {commit}{' + uncommitted changes in Sources' if dirty not in ('', '?') else ''}",
            f"postfix     {out(['/usr/sbin/postconf', '-d', '-h', 'mail_version'])} (smtpd, smtp-sink, smtp-source)",
            f"nginx       {out(['/usr/sbin/nginx', '-v']).replace('nginx version: ', '')} + libnginx-mod-mail",
            f"unbound     {out(['/usr/sbin/unbound', '-V']).replace('Version ', '')}, rbldnsd (Debian)",
        ]

    def start_common(self) -> tuple[str, str]:
        nets = block_networks()
        drop_text = "# 4,000 generated networks (Benchmarks/perf/bench.py, seed 20261122)\n" + \
            "".join(f"{n}\n" for n in nets)
        cidr_text = "".join(f"{n} REJECT Client is on the benchmark block list\n" for n in nets)
        self.listed_sample = str(nets[0].network_address + (1 if nets[0].num_addresses > 2 else 0))
        self.sink = Sink(self.workdir)
        self.add_cleanup("smtp-sink", self.sink.stop)
        self.sink.start()
        log(f"smtp-sink on 127.0.0.1:{self.sink.port} (pid {self.sink.pid})")
        # The DNS list: 127.0.0.2 (the RFC 5782 test entry) and 500 networks of TEST-NET-1/2/3
        # and other ranges the clients never come from; 127.0.0.1 is not listed.
        self.rbl_listed = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/25"] + \
            [f"10.{i // 256}.{i % 256}.0/24" for i in range(500)]
        self.rbl = RblDnsd(self.workdir, ZONE, self.rbl_listed)
        self.add_cleanup("rbldnsd", self.rbl.stop)
        self.rbl.start()
        log(f"rbldnsd zone {ZONE} on 127.0.0.1:{self.rbl.port}/udp (pid {self.rbl.pid})")
        return drop_text, cidr_text

    def start_peers(self, drop_text: str, cidr_text: str) -> None:
        wanted = self.args.peers
        if "direct" in wanted:
            self.peers.append(Peer("direct", "direct (smtp-sink, no proxy)", self.sink.port, [], []))
        if "warden" in wanted:
            w = Warden(self.workdir, "warden", self.args.warden_bin, self.sink.port, self.rbl.port, ZONE,
                       drop_text, max_sessions=2000, max_per_client=1000, part="load part",
                       content=warden_content_rules(), reuse_idle=self.args.warden_reuse_idle)
            checked = w.check()
            log("warden check: " + " | ".join(checked.strip().splitlines()[:3]))
            self.warden_content_loaded = next((ln.strip() for ln in checked.splitlines()
                                               if ln.strip().startswith("content rules:")), "")
            self.add_cleanup("warden", w.stop)
            w.start()
            self.peers.append(Peer("warden", "Warden (full policy)", w.port, w.roots, [], w))
            log(f"Warden on 127.0.0.1:{w.port} (pid {w.pid})")
        self.unbound_ok, self.unbound_pid = False, 0
        if "postfix" in wanted or "pfqueue" in wanted:
            unbound = None
            why = port53_free()
            if why is None:
                unbound = Unbound(self.workdir, ZONE, self.rbl.port)
                self.add_cleanup("unbound", unbound.stop)
                try:
                    unbound.start()
                    log(f"unbound on 127.0.0.1:53 (pid {unbound.pid}) forwarding {ZONE} to rbldnsd")
                except (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as e:
                    why = f"unbound did not start: {e}"
                    unbound.stop()
                    unbound = None
            self.unbound_ok = unbound is not None
            self.unbound_pid = unbound.pid if unbound else 0
            if unbound is None:
                self.skipped.append(f"Postfix's reject_rbl_client: {why}; Postfix ran without the DNS list")
        if "postfix" in wanted:
            p = Postfix(self.workdir, self.sink.port, ZONE if self.unbound_ok else None, cidr_text)
            self.add_cleanup("postfix", p.stop)
            p.start()
            self.peers.append(Peer("postfix", "Postfix smtpd_proxy_filter", p.port, p.roots,
                                   [self.unbound_pid] if self.unbound_ok else [], p))
            log(f"Postfix on 127.0.0.1:{p.port} (master pid {p.master_pid})")
        if "pfqueue" in wanted:
            hdr, body = content_rules()
            pq = Postfix(self.workdir, self.sink.port, ZONE if self.unbound_ok else None, cidr_text,
                         label="postfix-queue", main_template="postfix-queue-main.cf.in",
                         extra_files={"header_checks": hdr, "body_checks": body})
            pq.name = "pfqueue"
            self.add_cleanup("postfix-queue", pq.stop)
            pq.start()
            self.peers.append(Peer("pfqueue", "Postfix store-and-forward", pq.port, pq.roots,
                                   [self.unbound_pid] if self.unbound_ok else [], pq, queued=True))
            log(f"Postfix store-and-forward on 127.0.0.1:{pq.port} (master pid {pq.master_pid})")
        if "nginx" in wanted:
            auth = AuthHttp(self.workdir, self.sink.port)
            self.add_cleanup("auth_http", auth.stop)
            auth.start()
            n = Nginx(self.workdir, auth.port)
            self.add_cleanup("nginx", n.stop)
            n.start()
            self.peers.append(Peer("nginx", "nginx mail proxy", n.port, n.roots, [auth.pid], n))
            log(f"nginx on 127.0.0.1:{n.port} (master pid {n.proc.pid}), auth_http on {auth.port}")

    def sanity(self) -> None:
        """One session through every peer must reach the sink; the policies must refuse a
        listed client (Warden: `warden lookup`; Postfix: XCLIENT with a listed address)."""
        for p in self.peers:
            before = self.sink.count()
            smtpclient.one_session(p.port, self.message)
            ok = self._wait_sink(before + 1, 5)
            if not ok:
                raise RuntimeError(f"{p.name}: a test message did not reach the sink")
        checks = []
        for p in self.peers:
            if p.name == "warden":
                w: Warden = p.obj  # type: ignore[assignment]
                if self.warden_content_loaded:
                    checks.append(f"Warden  warden check -> {self.warden_content_loaded}")
                for ip, what in ((self.listed_sample, "in the block list"), ("192.0.2.99", "in the DNS list"),
                                 ("127.0.0.1", "the load's client")):
                    checks.append(f"Warden  {ip:<15} ({what}): warden lookup -> {_verdict(w.lookup(ip))}")
            if p.name in ("postfix", "pfqueue"):
                checks.append(f"{p.name:<7} {self.listed_sample:<15} (in the block list): RCPT -> "
                              f"{_clean(_xclient_rcpt(p.port, self.listed_sample))}")
                if p.obj.zone:
                    checks.append(f"{p.name:<7} {'192.0.2.99':<15} (in the DNS list): RCPT -> "
                                  f"{_clean(_xclient_rcpt(p.port, '192.0.2.99'))}")
        self.policy_checks = checks
        for c in checks:
            log("policy check: " + c)

    def _wait_sink(self, target: int, timeout: float) -> bool:
        end = time.monotonic() + timeout
        for _ in range(int(timeout / 0.02) + 2):
            if self.sink.count() >= target:
                return True
            if time.monotonic() > end:
                return False
            time.sleep(0.02)
        return False

    # -- load -----------------------------------------------------------------------------------
    def source_cmd(self, peer: Peer, profile: str, n: int) -> list[str]:
        if profile == "pipe":
            # its own process too, so measure() takes its CPU from the child's rusage as for smtp-source
            return [sys.executable, str(HERE / "pipeclient.py"), "--sessions", str(self.args.sessions),
                    "--messages", str(n), "--recipients", str(RECIPIENTS), "--message-file", str(self.msgfile),
                    str(peer.port)]
        cmd = ["/usr/sbin/smtp-source", "-s", str(self.args.sessions), "-m", str(n), "-r", str(RECIPIENTS),
               "-F", str(self.msgfile), "-f", "sender@bench.test", "-t", "rcpt@example.test",
               "-M", "client.bench.test"]
        if profile == "multi":
            cmd.append("-d")
        return cmd + [f"127.0.0.1:{peer.port}"]

    def measure(self, peer: Peer, profile: str, n: int, timeout: float) -> Run:
        sink_before = self.sink.count()
        cpu0 = procstat.tree_cpu_seconds(peer.roots) if peer.roots else 0.0
        sink0 = procstat.tree_cpu_seconds([self.sink.pid])
        aux_roots = peer.aux + [self.rbl.pid]
        aux0 = procstat.tree_cpu_seconds(aux_roots)
        busy0, _ = procstat.machine_busy_seconds()
        self0 = sum(os.times()[:2])
        sampler = procstat.MemorySampler(peer.roots, 1.0).start() if peer.roots else None
        err_path = self.workdir / "smtp-source.err"
        with open(err_path, "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(self.source_cmd(peer, profile, n), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
            status, ru = None, None
            deadline = time.monotonic() + timeout
            for _ in range(int(timeout / 0.005) + 100):
                pid, st, r = os.wait4(proc.pid, os.WNOHANG)
                if pid == proc.pid:
                    status, ru = st, r
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)
            seconds = time.perf_counter() - t0
        error = ""
        if status is None:
            error = f"smtp-source did not finish within {timeout:.0f}s (stopped)"
            proc.kill()
            _, status, ru = os.wait4(proc.pid, 0)
        if peer.queued and not error:
            # store-and-forward: the run ends when the sink has every message
            if not self._wait_sink(sink_before + n, max(60.0, timeout)):
                error = "not every queued message reached the sink in time"
            seconds = time.perf_counter() - t0
        # lockstep proxies answer the client only after the sink answered: the work is done
        cpu1 = procstat.tree_cpu_seconds(peer.roots) if peer.roots else 0.0
        sink1 = procstat.tree_cpu_seconds([self.sink.pid])
        aux1 = procstat.tree_cpu_seconds(aux_roots)
        busy1, _ = procstat.machine_busy_seconds()
        self1 = sum(os.times()[:2])
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0 and not error:
            error = f"smtp-source exit {proc.returncode}: {tail(err_path, 3)}"
        self._wait_sink(sink_before + n, 5 if not error else 1)
        delivered = self.sink.count() - sink_before
        peak_rss = peak_pss = 0
        if sampler:
            peak_rss, peak_pss = sampler.stop()
        source_cpu = ru.ru_utime + ru.ru_stime if ru else 0.0
        ours = (cpu1 - cpu0) + (sink1 - sink0) + (aux1 - aux0) + source_cpu + (self1 - self0)
        self.sent[peer.name] = self.sent.get(peer.name, 0) + n
        self.delivered[peer.name] = self.delivered.get(peer.name, 0) + delivered
        return Run(n, seconds, delivered, not error and delivered == n, cpu1 - cpu0, sink1 - sink0,
                   aux1 - aux0, source_cpu, busy1 - busy0, ours, peak_rss, peak_pss, error)

    def load_profile(self, profile: str) -> None:
        a = self.args
        res = {p.name: PeerProfile() for p in self.peers}
        self.results[profile] = res
        # conn: one message per connection; multi and pipe: many messages per connection
        warm_n = max(500, 10 * a.sessions) if profile == "conn" else max(1000, 40 * a.sessions)
        for p in self.peers:
            r = self.measure(p, profile, warm_n, 120)
            res[p.name].warm = r
            n = int(r.rate * a.seconds) if r.ok else warm_n
            n = max(a.sessions * 10, min(400_000, n))
            res[p.name].n = n - n % a.sessions
            log(f"{profile} warm-up {p.name}: {r.rate:,.0f} msg/s ({warm_n} in {r.seconds:.2f}s)"
                f"{'' if r.ok else ' FAILED ' + r.error} -> {res[p.name].n} messages per run")
        for i in range(a.runs):
            est = sum(res[p.name].n / max(1.0, res[p.name].warm.rate) for p in self.peers) + 2 * len(self.peers)
            if self.elapsed() + est + self.reserve() > a.budget:
                self.skipped.append(f"profile {profile}: runs {i + 1}..{a.runs} not started (the run would pass "
                                    f"--budget {a.budget:.0f}s); medians are over {i} run(s)")
                log(self.skipped[-1])
                break
            order = self.peers[i % len(self.peers):] + self.peers[:i % len(self.peers)]
            for p in order:
                r = self.measure(p, profile, res[p.name].n, max(60.0, 4 * a.seconds + 30))
                res[p.name].runs.append(r)
                log(f"{profile} run {i + 1} {p.name}: {r.rate:,.0f} msg/s, {r.messages} in {r.seconds:.2f}s, "
                    f"proxy CPU {1000 * r.proxy_cpu / max(1, r.messages):.3f} ms/msg, delivered "
                    f"{r.delivered}/{r.messages}{'' if r.ok else ' ERROR ' + r.error}")

    def reserve(self) -> float:
        """Seconds still needed after the load runs (probes, idle sessions, stop)."""
        probe = len(self.peers) * self.args.probe * 0.01 + 5
        idle = 0 if self.args.idle == 0 else 40 + self.args.idle / 300 * (2 if self.args.idle_nginx else 1)
        return probe + idle + (60 if self.args.perf else 0) + 20

    def run_probes(self) -> None:
        for p in self.peers:
            r = smtpclient.latency_probe(p.port, self.message, self.args.probe)
            self.probes[p.name] = r
            log(f"probe {p.name}: p50 {r.pct(50):.2f} ms, p99 {r.pct(99):.2f} ms, "
                f"{len(r.latencies_ms)}/{self.args.probe} ok" + (f", first error {r.errors[0]}" if r.errors else ""))
            self.sent[p.name] = self.sent.get(p.name, 0)

    # -- idle sessions -------------------------------------------------------------------------
    def idle_part(self, drop_text: str) -> None:
        n = self.args.idle
        w = Warden(self.workdir, "warden-idle", self.args.warden_bin, self.sink.port, self.rbl.port, ZONE,
                   drop_text, max_sessions=n + 2000, max_per_client=n + 2000, greeting_seconds=300,
                   part=f"idle part: max_sessions and max_sessions_per_client raised to {n + 2000}")
        self.add_cleanup("warden-idle", w.stop)
        w.start()
        self._idle_one("warden", w.port, w.roots, n)
        w.stop()
        if self.args.idle_nginx:
            ng = next((p for p in self.peers if p.name == "nginx"), None)
            if ng is not None:
                self._idle_one("nginx", ng.port, ng.roots, n)

    def _idle_one(self, name: str, port: int, roots: list[int], n: int) -> None:
        for _ in range(20):  # warm the process up: allocator arenas, threads
            smtpclient.one_session(port, self.message)
        time.sleep(0.5)
        rss_before, pss_before = procstat.tree_rss_pss_kb(roots)
        mem: dict = {"rss_before": rss_before, "pss_before": pss_before}

        def on_held() -> None:
            time.sleep(1.0)
            mem["rss_after"], mem["pss_after"] = procstat.tree_rss_pss_kb(roots)
            mem["hwm"] = procstat.tree_hwm_kb(roots)
            mem["cpu"] = procstat.tree_cpu_seconds(roots)

        cpu0 = procstat.tree_cpu_seconds(roots)
        log(f"idle: opening {n} sessions against {name} (127.0.0.1:{port})")
        res = asyncio.run(smtpclient.hold_idle_sessions(port, n, on_held, concurrency=200,
                                                        open_deadline=max(60.0, n / 50)))
        mem["cpu_open"] = mem.get("cpu", cpu0) - cpu0
        self.idle[name] = (res, mem)
        per = (mem.get("rss_after", 0) - rss_before) / max(1, res.opened)
        log(f"idle {name}: {res.opened} open ({res.failed} failed) in {res.open_seconds:.1f}s, "
            f"{per:.1f} kB RSS per session" + (f", first error {res.first_error}" if res.first_error else ""))

    # -- perf -----------------------------------------------------------------------------------
    def perf_profile(self) -> None:
        peer = next((p for p in self.peers if p.name == "warden"), None)
        if peer is None or not shutil.which("perf"):
            self.skipped.append("--perf: no Warden peer or no perf binary")
            return
        data = self.workdir / "perf.data"
        n = self.results.get("conn", {}).get("warden", PeerProfile()).n or 5000
        rec = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "499", "-g", "-p", str(peer.roots[0]),
                                "-o", str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
        time.sleep(0.5)
        self.measure(peer, "conn", n, max(60.0, 4 * self.args.seconds + 30))
        stop_popen(rec, signal.SIGINT, 30)
        rep = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "-g", "none",
                              "--percent-limit", "1", "--sort", "dso,symbol"], capture_output=True, timeout=300)
        text = rep.stdout.decode(errors="replace")
        dem = shutil.which("swift-demangle")
        if dem:
            d = subprocess.run([dem, "--simplified"], input=text.encode(), capture_output=True, timeout=120)
            text = d.stdout.decode(errors="replace") or text
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        self.perf_report = "\n".join(ln[:160] for ln in lines[:40])

    # -- report ---------------------------------------------------------------------------------
    def report(self) -> str:
        out: list[str] = []
        w = out.append
        w("WARDEN PERFORMANCE BENCHMARK (Benchmarks/run)")
        w("=" * 100)
        out.extend(self.header)
        s, size = self.args.sessions, len(self.message)
        loads = {
            "conn": f"smtp-source -s {s} -r {RECIPIENTS} -F <{size}-byte text message>: one message per connection, "
                    f"HELO, one command at a time (no pipelining)",
            "multi": f"the same with -d: the {s} sessions share the N messages, many per connection, HELO, "
                     f"one command at a time (no pipelining)",
            "pipe": f"pipeclient.py (Python, one thread): {s} sessions share the N messages, many per connection, "
                    f"EHLO, then per message MAIL + {RECIPIENTS} RCPT + DATA in one write (RFC 2920 pipelining), "
                    f"then the message and its dot in one write",
        }
        first = True
        for profile in self.args.profiles:
            w(f"{'load' if first else '':<12}{profile + ':':<7}{loads[profile]}")
            first = False
        w(f"{'load' if first else '':<12}{self.args.runs} measured run(s) after one warm-up per peer and profile, "
          f"runs interleaved across peers; N per run picked from the warm-up rate for ~{self.args.seconds:.0f}s")
        w("all on 127.0.0.1; every peer relays to the same smtp-sink (smtp-sink -c -u postfix)")
        w("")
        w("Peers")
        w("  direct   load client -> smtp-sink (the ceiling of this machine: no proxy)")
        w("  warden   Warden release build: block list of 4,000 generated networks (client_list, prefix trie),")
        w("           one DNS list on rbldnsd ([dns] servers; answer cached by Warden after the first query),")
        w("           HELO checks, 5 ratelimit rules and 1 bulk rule (body fingerprint) set too high to fire,")
        w("           200 header + 200 body content rules (SpamAssassin syntax, caseless: the same patterns as")
        w("           pfqueue's header_checks/body_checks, none matching); log level info (3 lines per session)")
        w("           to a file; /metrics on; limits.commands raised to 10,000,000 (the shipped 10,000 per session")
        w("           would close a -d or pipelining session after about 1,200 messages)")
        if self.args.warden_reuse_idle > 0:
            w(f"           upstream sessions kept for the next client session (reuse_idle_seconds = {self.args.warden_reuse_idle}:")
            w("           the sink offers no XCLIENT, so they may be; behind Postfix with XCLIENT each has its own)")
        else:
            w("           a new upstream connection per client session (reuse_idle_seconds = 0)")
        w("  postfix  Postfix smtpd, chrooted, smtpd_proxy_filter -> sink (before-queue, lockstep),")
        w("           check_client_access cidr: with the same 4,000 networks, reject_rbl_client on the same zone")
        w("           (through unbound on 127.0.0.1:53, which caches it), HELO restrictions, anvil limits set high;")
        w("           no content rules on this path (the message goes from smtpd straight to the sink)")
        w("  pfqueue  Postfix store-and-forward: smtpd (same restrictions) -> cleanup with header_checks and")
        w("           body_checks (400 regexp: rules, none matching) -> queue on disk -> smtp client -> sink; a run")
        w("           ends when the sink has every message (not when the client is done)")
        w("  nginx    nginx mail proxy, smtp_auth none, auth_http -> auth_http.py naming the sink,")
        w("           smtp_client_buffer 64k, smtp_capabilities PIPELINING: filters nothing")
        w("  The sink offers neither XCLIENT nor XFORWARD (smtp-sink -C -F), so no proxy passes the client's")
        w("  identity upstream (smtp-sink answers XCLIENT with 250, Postfix's smtpd with 220: see notes).")
        if self.policy_checks:
            w("Policy self-check before the runs (the policies are really in force):")
            for c in self.policy_checks:
                w("  " + c)
        w("Content rules: Warden gets the same 200 header and 200 body patterns as pfqueue's header_checks and")
        w("  body_checks (bench.py warden_content_rules(): SpamAssassin header/body rules, caseless, scored to refuse")
        w("  on a hit), none matching the message, so it scans every message against 400 regexes; Postfix lockstep")
        w("  (postfix), nginx and direct apply none.")
        w("")

        names = [p.name for p in self.peers]
        titles = {
            "conn": ("one message per connection", ""),
            "multi": ("many messages per connection (-d)",
                      f"  (smtp-source -d: {self.args.sessions} sessions share the N messages)"),
            "pipe": ("pipelined (RFC 2920), many messages per connection",
                     f"  (pipeclient.py: {self.args.sessions} sessions share the N messages; MAIL, {RECIPIENTS} RCPT, "
                     f"DATA in one write)"),
        }
        for profile in PROFILES:
            res = self.results.get(profile)
            if not res:
                continue
            title, sub = titles[profile]
            w(f"Throughput: {title}{sub}")
            hdr = (f"  {'peer':<8} {'N/run':>7} {'msg/s median':>12} {'runs msg/s':<24} {'CPU ms/msg':>10} "
                   f"{'VmHWM MB':>9} {'peak PSS':>9} {'delivered':>17} {'msg/s vs':>9} {'CPU vs':>7}")
            w(hdr)
            w(f"  {'':<8} {'':>7} {'':>12} {'':<24} {'(proxy)':>10} {'(sum)':>9} {'MB (sum)':>9} {'(sink count)':>17} "
              f"{'Warden':>9} {'Warden':>7}")
            wref = _summary(res.get("warden"))
            for name in names:
                pp = res[name]
                s = _summary(pp)
                if s is None:
                    w(f"  {name:<8} no completed run")
                    continue
                rates = " ".join(f"{r.rate:,.0f}" for r in pp.runs)
                cpu = "-" if name == "direct" else f"{s['cpu']:.3f}"
                hwm = "-" if name == "direct" else f"{s['hwm'] / 1024:.1f}"
                pss = "-" if name == "direct" else f"{s['pss'] / 1024:.1f}"
                tot = sum(r.messages for r in pp.runs) + (pp.warm.messages if pp.warm else 0)
                dl = sum(r.delivered for r in pp.runs) + (pp.warm.delivered if pp.warm else 0)
                deliv = f"{dl}/{tot} {'ok' if dl == tot else 'LOST'}"
                rr = f"{s['rate'] / wref['rate']:.2f}x" if wref and wref["rate"] else "-"
                cr = f"{s['cpu'] / wref['cpu']:.2f}x" if wref and wref["cpu"] and name != "direct" else "-"
                w(f"  {name:<8} {pp.n:>7} {s['rate']:>12,.0f} {rates:<24} {cpu:>10} {hwm:>9} {pss:>9} {deliv:>17} "
                  f"{rr:>9} {cr:>7}")
            w("")

        if self.probes:
            w(f"Session latency: {self.args.probe} sequential sessions per peer, each connect -> 220 -> EHLO -> MAIL ->")
            w(f"  RCPT -> DATA -> {len(self.message)}-byte message -> 250 -> QUIT -> 221, one Python client, "
              f"no other load")
            w(f"  {'peer':<8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'ok':>9} {'p50 vs Warden':>14} {'p99 vs Warden':>14}")
            ref = self.probes.get("warden")
            for name in names:
                r = self.probes.get(name)
                if r is None:
                    continue
                ok = f"{len(r.latencies_ms)}/{self.args.probe}"
                mx = max(r.latencies_ms) if r.latencies_ms else float("nan")
                r50 = f"{r.pct(50) / ref.pct(50):.2f}x" if ref and ref.latencies_ms else "-"
                r99 = f"{r.pct(99) / ref.pct(99):.2f}x" if ref and ref.latencies_ms else "-"
                w(f"  {name:<8} {r.pct(50):>8.2f} {r.pct(99):>8.2f} {mx:>8.2f} {ok:>9} {r50:>14} {r99:>14}")
                if r.errors:
                    w(f"           errors: {len(r.errors)}, first: {r.errors[0][:100]}")
            w("")

        if self.idle:
            w(f"Idle sessions: {self.args.idle} concurrent sessions (connect, 220, EHLO, 250, then nothing) held by one")
            w("  asyncio client, at most 200 opening at once; a fresh client times its greeting (connect -> 220)")
            w("  every 0.05 s during the ramp and 50 times in a row while all are held")
            w(f"  {'peer':<8} {'open':>7} {'failed':>6} {'ramp s':>7} {'RSS before':>10} {'RSS held':>9} "
              f"{'kB/session':>10} {'PSS kB/sess':>11} {'CPU ms/open':>11} "
              f"{'greeting ms (ramp) p50/p99/max':>31} {'(held) p50/p99/max':>19}")
            for name, (r, m) in self.idle.items():
                per = (m.get("rss_after", 0) - m["rss_before"]) / max(1, r.opened)
                pper = (m.get("pss_after", 0) - m["pss_before"]) / max(1, r.opened)
                cpu = 1000 * m.get("cpu_open", 0) / max(1, r.opened)
                ramp = _pcts(r.greet_during_ramp_ms)
                held = _pcts(r.greet_while_held_ms)
                w(f"  {name:<8} {r.opened:>7} {r.failed:>6} {r.open_seconds:>7.1f} {m['rss_before'] / 1024:>8.1f}MB "
                  f"{m.get('rss_after', 0) / 1024:>7.1f}MB {per:>10.1f} {pper:>11.1f} {cpu:>11.3f} {ramp:>31} {held:>19}")
                if r.first_error:
                    w(f"           first error: {r.first_error[:120]}")
            w("  (RSS of nginx is the sum over master and workers; Warden is one process)")
            w("")

        w("Side figures (medians over the measured runs; CPU in ms per message)")
        w(f"  {'profile':<7} {'peer':<8} {'sink':>7} {'helpers':>8} {'client':>11} {'machine busy':>12} "
          f"{'background':>10}   helpers = unbound (postfix, pfqueue), auth_http.py (nginx), rbldnsd (all)")
        for profile in PROFILES:
            res = self.results.get(profile)
            if not res:
                continue
            for name in names:
                pp = res[name]
                if not pp.runs:
                    continue

                def med(f):
                    return statistics.median(f(r) for r in pp.runs)
                sink = med(lambda r: 1000 * r.sink_cpu / r.messages)
                aux = med(lambda r: 1000 * r.aux_cpu / r.messages)
                src = med(lambda r: 1000 * r.source_cpu / r.messages)
                busy = med(lambda r: r.machine_busy / r.seconds)
                bg = med(lambda r: max(0.0, r.machine_busy - r.ours) / r.seconds)
                w(f"  {profile:<7} {name:<8} {sink:>7.3f} {aux:>8.3f} {src:>11.3f} {busy:>9.2f} cores "
                  f"{bg:>5.2f} cores")
        w("  client = the load generator itself: smtp-source (conn, multi, in C) or pipeclient.py (pipe, Python)")
        w("  pfqueue's helpers: unbound; its own smtp client, cleanup and qmgr are in its proxy CPU (master's tree)")
        w("  machine busy = all CPU used on the machine during the run; background = what of it was not this")
        w("  benchmark's processes (other jobs on the shared machine): it steals from every peer alike, runs are")
        w("  interleaved across peers to spread it.")
        w("")
        if self.warden_metrics:
            w("Warden's own counters after the load (/metrics): " + self.warden_metrics)
            w("")
        if self.perf_report:
            w("Where Warden's CPU goes (perf record -e cpu-clock -g, one extra one-message-per-connection run;")
            w("perf report --no-children --sort dso,symbol, entries above 1 %):")
            for ln in self.perf_report.splitlines():
                w("  " + ln)
            w("")
        w("Notes")
        w("  - VmHWM (sum) adds up each live process's own peak: Postfix's smtpd processes (one per session) share")
        w("    their libraries, so the sum counts them many times; peak PSS (sampled each second) shares them out.")
        w("    Warden is one process: its VmHWM is its peak over all runs, from its start.")
        w("  - smtp-sink answers XCLIENT with 250 where Postfix's smtpd answers 220 (a new greeting); Warden then logs")
        w("    'upstream refused XCLIENT' for every upstream connection and carries on. The sink therefore offers")
        w("    neither XCLIENT nor XFORWARD here (-C -F), for every peer alike.")
        w("  - Warden is checked for readiness through /proc/net/tcp and /metrics, never by connecting and closing:")
        w("    a session that ends while its DNS list lookup is in flight cancels it, and Warden caches the")
        w("    cancellation as a list failure for 10 s (failureTTL): every session from that address then logs")
        w("    'dns list error ... cancelled' and its DNS list rules do not hit. Seen while writing this benchmark.")
        w("")
        w("Not measured")
        w("  - A content rule that hits: Warden's 400 content rules (the same patterns as pfqueue's header_checks and")
        w("    body_checks) are scanned on every message but none matches, so no refusal by content is timed.")
        w("  - pfqueue writes and fsyncs every message to its queue (the disk is part of what it measures); Warden")
        w("    and the lockstep Postfix have no queue: they relay each message while the client waits.")
        w("  - TLS (STARTTLS) on any leg; AUTH; IPv6 clients; a DNS list that is slow or times out.")
        w("  - Idle sessions against Postfix: one smtpd process per session (10,000 processes) was not attempted.")
        for s in self.skipped:
            w("  - " + s)
        w("")
        w(f"Total time: {self.elapsed():.0f} s since Benchmarks/run started ({BUDGET_OFFSET:.0f} s of it building and "
          f"checking packages), --budget {self.args.budget:.0f} s")
        return "\n".join(out)


def _clean(text: str) -> str:
    """A reply or verdict without its decision reference, on one line, at most 100 characters."""
    import re
    text = re.sub(r"\s*\[ref=[^\]]*\]", "", text.replace("\r", " ").replace("\n", " ")).strip()
    return text.split("; Listed in")[0][:110]


def _verdict(lookup_text: str) -> str:
    for line in lookup_text.splitlines():
        s = line.strip()
        if s.startswith(("reject", "accept", "tempfail", "disconnect", "allow", "pass", "none")) and "score" in s:
            return _clean(s)
    lines = [ln.strip() for ln in lookup_text.splitlines() if ln.strip()]
    try:
        i = next(i for i, ln in enumerate(lines) if ln.startswith("verdict"))
        return _clean(lines[i + 1] if i + 1 < len(lines) else lines[i])
    except StopIteration:
        return _clean(lines[-1] if lines else "?")


def _xclient_rcpt(port: int, addr: str) -> str:
    """RCPT reply of Postfix for a client that XCLIENT says is `addr`."""
    c = smtpclient.Conn(port, 10)
    try:
        c.reply()
        c.cmd(b"EHLO probe.bench.test", 250)
        c.sock.sendall(f"XCLIENT ADDR={addr} NAME=[UNAVAILABLE]\r\n".encode())
        code, text = c.reply()
        if code != 220:
            return f"XCLIENT refused: {text[:80]!r}"
        c.cmd(b"EHLO probe.bench.test", 250)
        c.cmd(b"MAIL FROM:<probe@bench.test>", 250)
        c.sock.sendall(b"RCPT TO:<probe@example.test>\r\n")
        code, text = c.reply()
        return text.decode(errors="replace").strip()[:100]
    except (OSError, smtpclient.SMTPError) as e:
        return f"error {e}"
    finally:
        c.close()


def _summary(pp: PeerProfile | None) -> dict | None:
    if pp is None or not pp.runs:
        return None
    good = [r for r in pp.runs if r.ok] or pp.runs
    return {
        "rate": statistics.median(r.rate for r in good),
        "cpu": statistics.median(1000 * r.proxy_cpu / r.messages for r in good),
        "hwm": pp.hwm,
        "pss": max(r.peak_pss_kb for r in pp.runs),
    }


def _pcts(xs: list[float]) -> str:
    if not xs:
        return "-"
    s = sorted(xs)

    def p(q):
        return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]
    return f"{p(50):.1f}/{p(99):.1f}/{s[-1]:.1f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--probe", type=int, default=200)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--no-idle-nginx", dest="idle_nginx", action="store_false")
    ap.add_argument("--peers", default="direct,warden,postfix,nginx,pfqueue")
    ap.add_argument("--profiles", default="conn,multi,pipe")
    ap.add_argument("--budget", type=float, default=1080.0)
    ap.add_argument("--warden-reuse-idle", type=int, default=5)
    ap.add_argument("--perf", action="store_true")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.peers = [p for p in args.peers.split(",") if p]
    unknown = [p for p in args.profiles.split(",") if p and p not in PROFILES]
    if unknown:
        print(f"unknown profile(s) {','.join(unknown)}: choose from {','.join(PROFILES)}", file=sys.stderr)
        return 2
    args.profiles = [p for p in args.profiles.split(",") if p in PROFILES]
    args.warden_bin = os.environ.get("WARDEN_BIN", "")
    if os.geteuid() != 0:
        print("run as root (see Benchmarks/run)", file=sys.stderr)
        return 1
    if not args.warden_bin or not os.access(args.warden_bin, os.X_OK):
        print("WARDEN_BIN must name the release binary (Benchmarks/run sets it)", file=sys.stderr)
        return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if args.idle and soft < args.idle + 1000:
        want = min(hard, args.idle + 5000) if hard != resource.RLIM_INFINITY else args.idle + 5000
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            pass
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft < args.idle + 1000:
            print(f"open file limit {soft} is too low for --idle {args.idle} (ulimit -n)", file=sys.stderr)
            return 1

    def on_signal(sig, _frame):
        raise SystemExit(128 + sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    b = Bench(args)
    b.policy_checks = []
    b.warden_metrics = ""
    rc = 0
    try:
        b.machine_header()
        drop_text, cidr_text = b.start_common()
        b.start_peers(drop_text, cidr_text)
        b.sanity()
        for profile in args.profiles:
            b.load_profile(profile)
        # peak memory of the load part: VmHWM summed over each proxy's live processes
        for p in b.peers:
            for res in b.results.values():
                if p.name in res:
                    res[p.name].hwm = procstat.tree_hwm_kb(p.roots) if p.roots else 0
        b.run_probes()
        if args.perf:
            b.perf_profile()
        wp = next((p for p in b.peers if p.name == "warden"), None)
        if wp is not None:
            wo: Warden = wp.obj  # type: ignore[assignment]
            b.warden_metrics = (
                f"messages relayed {wo.metric_sum('warden_messages_relayed_total'):.0f}, "
                f"refusals {wo.metric_sum('warden_refusals_total'):.0f}, "
                f"rule hits {wo.metric_sum('warden_rule_hits_total'):.0f}, "
                f"DNS list errors {wo.metric_sum('warden_dnsbl_errors_total'):.0f}, "
                f"upstream connect failures {wo.metric_sum('warden_upstream_connect_failures_total'):.0f}")
        if args.idle:
            b.idle_part(drop_text)
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        rc = 130
    except SystemExit as e:
        log(f"signal: stopping everything ({e.code})")
        rc = int(e.code or 1)
    except Exception as e:  # noqa: BLE001 - report, clean up, fail
        import traceback
        traceback.print_exc()
        log(f"failed: {e}")
        rc = 1
    finally:
        try:
            text = b.report()
        except Exception as e:  # noqa: BLE001
            text = f"(report failed: {e!r})"
        b.cleanup()
    print(text, flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
