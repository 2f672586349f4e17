"""The processes of the benchmark, each started in its own directory under the work directory,
on 127.0.0.1 only, and stopped by its own pid (SIGTERM, SIGKILL after a bound)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"

_ports: set[int] = set()
_port_lock = threading.Lock()


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free on 127.0.0.1 a moment ago, never the same one twice in a run."""
    with _port_lock:
        for _ in range(200):
            with socket.socket(socket.AF_INET, kind) as s:
                s.bind((HOST, 0))
                port = s.getsockname()[1]
            if port not in _ports:
                _ports.add(port)
                return port
    raise RuntimeError("no free port in 200 tries")


def port_accepts(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port (TCP), from /proc/net/tcp: no connection made."""
    want = f"0100007F:{port:04X}"
    try:
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            f = line.split()
            if len(f) > 3 and f[1] == want and f[3] == "0A":
                return True
    except OSError:
        pass
    return False


def wait_until(pred, timeout: float, what: str, interval: float = 0.05):
    end = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 2):
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            break
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def render(template: str, **values) -> str:
    text = (TEMPLATES / template).read_text()
    for k, v in values.items():
        text = text.replace(f"@@{k}@@", str(v))
    left = re.findall(r"@@[A-Z_]+@@", text)
    if left:
        raise RuntimeError(f"{template}: unreplaced {sorted(set(left))}")
    return text


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def stop_popen(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Our own child, by its pid: sig, then SIGKILL after timeout."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
    except ProcessLookupError:
        pass


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def dns_query_a(port: int, name: str, timeout: float = 1.0) -> tuple[str, list[str]] | None:
    """One A query over UDP to 127.0.0.1:port: (rcode, addresses) or None on timeout."""
    import random
    qid = random.randrange(65536)
    q = qid.to_bytes(2, "big") + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00\x00\x01\x00\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(q, (HOST, port))
            data, _ = s.recvfrom(4096)
        except (socket.timeout, ConnectionRefusedError, OSError):
            return None
    if len(data) < 12 or int.from_bytes(data[:2], "big") != qid:
        return None
    rcode = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}.get(data[3] & 15, str(data[3] & 15))
    qd, an = int.from_bytes(data[4:6], "big"), int.from_bytes(data[6:8], "big")

    def skip(i: int) -> int:
        for _ in range(128):
            n = data[i]
            if n & 0xC0 == 0xC0:
                return i + 2
            if n == 0:
                return i + 1
            i += 1 + n
        raise ValueError("name too long")

    i = 12
    for _ in range(qd):
        i = skip(i) + 4
    addrs = []
    for _ in range(an):
        i = skip(i)
        rtype = int.from_bytes(data[i:i + 2], "big")
        rdlen = int.from_bytes(data[i + 8:i + 10], "big")
        if rtype == 1 and rdlen == 4:
            addrs.append(".".join(str(b) for b in data[i + 10:i + 14]))
        i += 10 + rdlen
    return rcode, addrs


# ----------------------------------------------------------------------------------------------


class Sink:
    """smtp-sink: accepts everything, counts (-c) sessions, QUITs and messages. -C -F: it offers
    neither XCLIENT nor XFORWARD, so no proxy passes the client's identity (smtp-sink answers
    XCLIENT with 250 where Postfix's smtpd, and Warden, expect 220: Warden then logs "upstream
    refused XCLIENT" for every upstream connection)."""

    def __init__(self, workdir: Path):
        self.dir = workdir / "sink"
        self.dir.mkdir()
        self.port = free_port()
        self.out = self.dir / "sink.out"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Sink":
        with open(self.out, "wb") as out, open(self.dir / "sink.err", "wb") as err:
            self.proc = subprocess.Popen(
                ["/usr/sbin/smtp-sink", "-c", "-C", "-F", "-u", "postfix", "-m", "5000", f"{HOST}:{self.port}", "1024"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=self.dir, start_new_session=True)
        wait_until(lambda: port_accepts(self.port), 10, "smtp-sink to listen")
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def count(self) -> int:
        """Messages received so far (the last `mesg=N` of the -c counter line)."""
        try:
            with open(self.out, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 400))
                data = f.read()
        except OSError:
            return -1
        found = re.findall(rb"mesg=(\d+)", data)
        return int(found[-1]) if found else 0

    def stop(self) -> None:
        stop_popen(self.proc)


class RblDnsd:
    """rbldnsd serving one ip4set zone on 127.0.0.1:<free UDP port> (it runs as its own user,
    so its directory is 0755 under the 0755 work directory)."""

    def __init__(self, workdir: Path, zone: str, listed: list[str]):
        self.dir = workdir / "rbldnsd"
        self.dir.mkdir()
        os.chmod(self.dir, 0o755)
        self.zone = zone
        self.listed = listed
        self.port = free_port(socket.SOCK_DGRAM)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "RblDnsd":
        data = self.dir / "zone.ip4set"
        data.write_text(
            f"$SOA 300 ns.{self.zone} hostmaster.{self.zone} 0 600 300 86400 300\n"
            f"$NS 300 ns.{self.zone}\n"
            ":127.0.0.2:Listed in the benchmark DNS list\n"
            "127.0.0.2\n" + "".join(f"{n}\n" for n in self.listed))
        os.chmod(data, 0o644)
        with open(self.dir / "rbldnsd.log", "wb") as log:
            self.proc = subprocess.Popen(
                ["/usr/sbin/rbldnsd", "-n", "-b", f"{HOST}/{self.port}", "-w", str(self.dir),
                 "-t", "300", f"{self.zone}:ip4set:zone.ip4set"],
                cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"rbldnsd exited: {tail(self.dir / 'rbldnsd.log')}")
            a = dns_query_a(self.port, f"2.0.0.127.{self.zone}", 0.2)
            return a is not None and a[1] == ["127.0.0.2"]

        wait_until(ready, 10, "rbldnsd to answer")
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop_popen(self.proc)


def port53_free() -> str | None:
    """None when 127.0.0.1:53 (UDP and TCP) can be bound, else the reason."""
    for kind, name in ((socket.SOCK_DGRAM, "udp"), (socket.SOCK_STREAM, "tcp")):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((HOST, 53))
            except OSError as e:
                return f"127.0.0.1:53/{name} is taken ({e.strerror})"
    return None


class Unbound:
    """unbound on 127.0.0.1:53 forwarding only the benchmark zone to rbldnsd."""

    def __init__(self, workdir: Path, zone: str, rbl_port: int):
        self.dir = workdir / "unbound"
        self.dir.mkdir()
        os.chmod(self.dir, 0o755)
        self.zone, self.rbl_port = zone, rbl_port
        self.conf = self.dir / "unbound.conf"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Unbound":
        self.conf.write_text(render("unbound.conf.in", DIR=self.dir, ZONE=self.zone, RBL_PORT=self.rbl_port))
        os.chmod(self.conf, 0o644)
        chk = subprocess.run(["/usr/sbin/unbound-checkconf", str(self.conf)], capture_output=True, timeout=30)
        if chk.returncode != 0:
            raise RuntimeError(f"unbound-checkconf: {chk.stdout.decode()}{chk.stderr.decode()}")
        with open(self.dir / "unbound.log", "wb") as log:
            self.proc = subprocess.Popen(["/usr/sbin/unbound", "-d", "-c", str(self.conf)],
                                         cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"unbound exited: {tail(self.dir / 'unbound.log')}")
            a = dns_query_a(53, f"2.0.0.127.{self.zone}", 0.3)
            return a is not None and a[1] == ["127.0.0.2"]

        wait_until(ready, 15, "unbound to answer for the zone on 127.0.0.1:53")
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop_popen(self.proc)


class AuthHttp:
    """auth_http.py: nginx's auth_http responder naming the sink."""

    def __init__(self, workdir: Path, sink_port: int):
        self.dir = workdir / "auth_http"
        self.dir.mkdir()
        self.port = free_port()
        self.sink_port = sink_port
        self.proc: subprocess.Popen | None = None

    def start(self) -> "AuthHttp":
        with open(self.dir / "auth_http.log", "wb") as log:
            self.proc = subprocess.Popen(
                ["python3", str(HERE / "auth_http.py"), str(self.port), str(self.sink_port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                start_new_session=True)
        wait_until(lambda: port_accepts(self.port), 10, "auth_http.py to listen")
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop_popen(self.proc)


class Nginx:
    """nginx -p DIR -c DIR/nginx.conf in the foreground (daemon off): the master is our child."""

    name = "nginx"

    def __init__(self, workdir: Path, auth_port: int):
        self.dir = workdir / "nginx"
        self.dir.mkdir()
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.auth_port = auth_port
        self.conf = self.dir / "nginx.conf"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Nginx":
        self.conf.write_text(render("nginx.conf.in", DIR=self.dir, AUTH_PORT=self.auth_port, PORT=self.port))
        base = ["/usr/sbin/nginx", "-p", str(self.dir), "-c", str(self.conf), "-e", str(self.dir / "error.log")]
        t = subprocess.run(base + ["-t", "-q"], capture_output=True, timeout=30)
        if t.returncode != 0:
            raise RuntimeError(f"nginx -t: {t.stderr.decode(errors='replace')}")
        with open(self.dir / "nginx.stderr", "wb") as log:
            self.proc = subprocess.Popen(base, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.dir, start_new_session=True)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {tail(self.dir / 'error.log')}")
            return port_accepts(self.port)

        wait_until(ready, 15, "nginx to listen")
        return self

    @property
    def roots(self) -> list[int]:
        return [self.proc.pid] if self.proc else []

    def stop(self) -> None:
        stop_popen(self.proc, signal.SIGTERM, 15)


class Postfix:
    """A private Postfix (postfix -c BASE/etc start as root): smtpd, chrooted into the queue
    directory, with smtpd_proxy_filter pointing at the sink (see templates/postfix-main.cf.in).
    Found while writing it (Debian 12, Postfix 3.7): the chrooted smtpd resolves names through
    BASE/queue/etc/resolv.conf, which is how it reaches unbound on 127.0.0.1:53 without touching
    the system's /etc/resolv.conf; smtpd opens its cidr: table before entering the chroot."""

    name = "postfix"

    def __init__(self, workdir: Path, sink_port: int, zone: str | None, cidr_text: str,
                 label: str = "postfix", main_template: str = "postfix-main.cf.in",
                 extra_files: dict[str, str] | None = None):
        self.base = workdir / label
        self.main_template = main_template
        self.extra_files = extra_files or {}
        self.base.mkdir()
        os.chmod(self.base, 0o755)
        self.etc = self.base / "etc"
        self.queue = self.base / "queue"
        self.port = free_port()
        self.sink_port = sink_port
        self.zone = zone
        self.cidr_text = cidr_text
        self.master_pid: int | None = None

    def _postfix(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(["/usr/sbin/postfix", "-c", str(self.etc), *args], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout)

    def start(self) -> "Postfix":
        import pwd
        pw = pwd.getpwnam("postfix")
        for d in (self.etc, self.queue, self.base / "data", self.queue / "etc"):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)
        os.chown(self.base / "data", pw.pw_uid, pw.pw_gid)
        rbl = f", reject_rbl_client {self.zone}=127.0.0.[2..11]" if self.zone else ""
        (self.etc / "main.cf").write_text(render(self.main_template, BASE=self.base, SINK_PORT=self.sink_port,
                                                 RBL_RESTRICTION=rbl))
        for fname, text in self.extra_files.items():
            (self.etc / fname).write_text(text)
        (self.etc / "master.cf").write_text(render("postfix-master.cf.in", PORT=self.port))
        (self.etc / "bench-drop.cidr").write_text(self.cidr_text)
        # the chroot's view of the resolver and of the local files
        (self.queue / "etc" / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:2 attempts:2\n")
        (self.queue / "etc" / "hosts").write_text("127.0.0.1 localhost\n")
        (self.queue / "etc" / "nsswitch.conf").write_text("hosts: files dns\nservices: files\n")
        for f in ("services", "localtime", "host.conf"):
            src = Path("/etc") / f
            if src.exists():
                shutil.copyfile(src, self.queue / "etc" / f)
        p = self._postfix("start")
        if p.returncode != 0:
            raise RuntimeError(f"postfix start failed: {p.stdout.decode()}{p.stderr.decode()}\n"
                               f"{tail(self.base / 'maillog')}")
        wait_until(lambda: port_accepts(self.port), 30, "Postfix to listen")
        self.master_pid = wait_until(self._read_master_pid, 10, "master.pid")
        return self

    def _read_master_pid(self) -> int | None:
        try:
            return int((self.queue / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    @property
    def roots(self) -> list[int]:
        return [self.master_pid] if self.master_pid else []

    def maillog(self) -> str:
        try:
            return (self.base / "maillog").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        pid = self._read_master_pid() or self.master_pid
        try:
            self._postfix("stop", timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            wait_until(lambda: pid is None or not pid_alive(pid), 20, "Postfix to stop")
        except TimeoutError:
            try:
                self._postfix("abort", timeout=10)
            except subprocess.TimeoutExpired:
                pass
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


class Warden:
    """`warden run --config DIR/warden.toml` with the benchmark's Rules/ and Blocklists/."""

    name = "warden"

    def __init__(self, workdir: Path, label: str, binary: str, sink_port: int, rbl_port: int, zone: str,
                 drop_text: str, max_sessions: int = 2000, max_per_client: int = 1000,
                 greeting_seconds: int = 30, part: str = "", content: str = "", reuse_idle: int = 5):
        self.dir = workdir / label
        self.dir.mkdir()
        self.binary = binary
        self.port = free_port()
        self.metrics_port = free_port()
        self.zone = zone
        self.config = self.dir / "warden.toml"
        self.config.write_text(render("warden.toml.in", PART=part, MAX_SESSIONS=max_sessions,
                                      MAX_PER_CLIENT=max_per_client, PORT=self.port, SINK_PORT=sink_port,
                                      GREETING_SECONDS=greeting_seconds, METRICS_PORT=self.metrics_port,
                                      RBL_PORT=rbl_port, REUSE_IDLE=reuse_idle))
        (self.dir / "Rules").mkdir()
        (self.dir / "Blocklists").mkdir()
        for f in sorted((TEMPLATES / "rules").glob("*.cf")):
            (self.dir / "Rules" / f.name).write_text(f.read_text().replace("@@ZONE@@", zone))
        if content:
            (self.dir / "Rules" / "60-content.cf").write_text(content)
        (self.dir / "Blocklists" / "allow.txt").write_text("# empty: nobody is allow-listed in the benchmark\n")
        (self.dir / "Blocklists" / "bench-drop.txt").write_text(drop_text)
        self.log = self.dir / "warden.log"
        self.proc: subprocess.Popen | None = None

    def check(self) -> str:
        p = subprocess.run([self.binary, "check", "--config", str(self.config)], capture_output=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"warden check failed:\n{p.stdout.decode()}{p.stderr.decode()}")
        return p.stdout.decode() + p.stderr.decode()

    def lookup(self, ip: str) -> str:
        p = subprocess.run([self.binary, "lookup", "--config", str(self.config), ip], capture_output=True,
                           timeout=60)
        return p.stdout.decode() + p.stderr.decode()

    def start(self) -> "Warden":
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([self.binary, "run", "--config", str(self.config)], cwd=self.dir,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

        # Ready when the kernel shows its listening socket and /metrics answers. Not by connecting to the SMTP
        # port and closing: that session's DNS list lookup is cancelled, and Warden caches the
        # cancellation as a list failure for 10 s (every session from 127.0.0.1 would then log
        # "dns list error ... cancelled" and skip the DNS list).
        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"warden exited ({self.proc.returncode}): {tail(self.log)}")
            return port_listening(self.port) and self.metrics_text() != ""

        wait_until(ready, 30, "Warden to listen")
        # the DNS list must be healthy (health check: 127.0.0.2 listed, 127.0.0.1 not)
        wait_until(lambda: self.metric(f'warden_dnsbl_zone_healthy{{zone="{self.zone}"}}') == 1.0, 15,
                   "Warden's DNS list to be healthy")
        return self

    def metrics_text(self) -> str:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.metrics_port}/metrics", timeout=3) as r:
                return r.read().decode(errors="replace")
        except OSError:
            return ""

    def metric(self, series: str) -> float | None:
        m = re.search(rf"^{re.escape(series)}\s+(\S+)\s*$", self.metrics_text(), re.MULTILINE)
        return float(m.group(1)) if m else None

    def metric_sum(self, name: str) -> float:
        total = 0.0
        for m in re.finditer(rf"^{re.escape(name)}(?:{{[^}}]*}})?\s+(\S+)\s*$", self.metrics_text(), re.MULTILINE):
            total += float(m.group(1))
        return total

    @property
    def roots(self) -> list[int]:
        return [self.proc.pid] if self.proc else []

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop_popen(self.proc, signal.SIGTERM, 15)
