"""Building blocks of Warden's end-to-end tests.

Everything here talks to real processes on 127.0.0.1 only: a private Postfix instance
(the reference upstream), the Warden binary under test, swaks, Python's smtplib, raw
sockets and a tiny scripted SMTP server (FakeUpstream).  Every wait is bounded both in
time (a deadline) and in iterations; every process is stopped by its own pid.

conftest.py turns these into pytest fixtures; test modules may import this module
directly (`from harness import RawSMTP, ...`).
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import shutil
import signal
import smtplib
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import textwrap
import time
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WARDEN_BIN = REPO_ROOT / ".build" / "debug" / "warden"
LOCALHOST = "127.0.0.1"

# One step of a polling loop, and the cap on the number of steps any loop may take.
POLL_INTERVAL = 0.05
MAX_POLLS = 4000


# --------------------------------------------------------------------------------------
# Small utilities
# --------------------------------------------------------------------------------------


def raise_fd_limit(target: int = 8192) -> None:
    """The concurrency test holds hundreds of sockets; make sure the soft limit allows it.

    Child processes (Warden) inherit the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = target if hard == resource.RLIM_INFINITY else min(target, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


_handed_out_ports: set[int] = set()
_port_lock = threading.Lock()


def free_port(host: str = LOCALHOST, kind: int = socket.SOCK_STREAM) -> int:
    """A port that was free a moment ago: bind host:0, read the port, close (TCP by default).

    Never returns the same port twice in one test run (consecutive binds can be handed
    the same ephemeral port), so two listeners of one config never collide."""
    with _port_lock:
        for _ in range(100):
            with socket.socket(socket.AF_INET, kind) as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
            if port not in _handed_out_ports:
                _handed_out_ports.add(port)
                return port
    raise RuntimeError("could not find a fresh free port in 100 tries")


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], Any], timeout: float, what: str,
               interval: float = POLL_INTERVAL) -> Any:
    """Poll predicate until it returns something truthy; bounded in time and count."""
    deadline = time.monotonic() + timeout
    polls = 0
    while True:
        value = predicate()
        if value:
            return value
        polls += 1
        if time.monotonic() >= deadline or polls >= MAX_POLLS:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def token(prefix: str = "e2e") -> str:
    """A unique marker to find one test's message among all delivered messages."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def make_message(tok: str, sender: str = "sender@example.org",
                 rcpt: str = "alice@example.test", subject: str | None = None,
                 body: str | None = None) -> str:
    """A small RFC 5322 message with CRLF line endings that carries `tok`."""
    subject = subject or f"warden e2e {tok}"
    body = body if body is not None else f"This is an end-to-end test message.\r\nToken: {tok}\r\n"
    return (f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{tok}@e2e.test>\r\nX-E2E-Token: {tok}\r\n\r\n{body}")


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _pid_alive(pid: int) -> bool:
    """True while pid exists and is not a zombie (a daemon reparented to a PID 1 that
    does not reap would otherwise look alive forever)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        state = stat.rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


# --------------------------------------------------------------------------------------
# SMTP replies and a raw-socket client
# --------------------------------------------------------------------------------------

ENHANCED_RE = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")
REF_RE = re.compile(r"\[ref=([^\]\s]+)\]\s*$")


@dataclass
class Reply:
    code: int
    lines: list[str]  # the text of each line, without "NNN-" / "NNN "

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def first(self) -> str:
        return self.lines[0] if self.lines else ""

    @property
    def last(self) -> str:
        return self.lines[-1] if self.lines else ""

    @property
    def enhanced(self) -> str | None:
        m = ENHANCED_RE.match(self.first)
        return ".".join(m.groups()) if m else None

    @property
    def ref(self) -> str | None:
        m = REF_RE.search(self.last)
        return m.group(1) if m else None

    def is_(self, code: int, enhanced: str | None = None) -> bool:
        return self.code == code and (enhanced is None or self.enhanced == enhanced)

    def __str__(self) -> str:
        if not self.lines:
            return f"{self.code}"
        out = [f"{self.code}-{line}" for line in self.lines[:-1]]
        out.append(f"{self.code} {self.lines[-1]}")
        return "\n".join(out)


class SMTPClosed(EOFError):
    """The server closed the connection (before or in the middle of a reply)."""


class RawSMTP:
    """An SMTP client on a raw socket, for what smtplib will not do: pipelining,
    hostile input, PROXY headers, commands after STARTTLS, exact replies.

    Every read has a timeout (socket timeout) and every reply is bounded in size."""

    MAX_LINE = 1 << 20
    MAX_REPLY_LINES = 1000

    def __init__(self, host: str, port: int, timeout: float = 15.0,
                 proxy_header: bytes | str | None = None, read_greeting: bool = True,
                 implicit_tls: bool = False):
        self.host, self.port, self.timeout = host, port, timeout
        self.buf = bytearray()
        self.sock: socket.socket = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.greeting: Reply | None = None
        self.tls = False
        if proxy_header is not None:
            self.send(proxy_header)
        if implicit_tls:  # smtps: the TLS handshake comes before the greeting
            self.starttls()
        if read_greeting:
            self.greeting = self.read_reply()

    # -- low level
    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def _fill(self, timeout: float | None) -> None:
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SMTPClosed("connection closed by server")
        self.buf += chunk

    def read_line(self, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        for _ in range(100000):
            idx = self.buf.find(b"\n")
            if idx >= 0:
                line = bytes(self.buf[: idx + 1])
                del self.buf[: idx + 1]
                return line
            if len(self.buf) > self.MAX_LINE:
                raise ValueError("reply line longer than 1 MiB")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("timed out reading a reply line")
            self._fill(remaining)
        raise RuntimeError("read_line: too many reads")

    def read_reply(self, timeout: float | None = None) -> Reply:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        lines: list[str] = []
        code = None
        for _ in range(self.MAX_REPLY_LINES):
            raw = self.read_line(max(0.01, deadline - time.monotonic()))
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if len(text) < 3 or not text[:3].isdigit():
                raise ValueError(f"malformed reply line: {text!r}")
            code = int(text[:3])
            sep = text[3:4]
            lines.append(text[4:])
            if sep != "-":
                return Reply(code, lines)
        raise ValueError("reply with more than 1000 lines")

    def read_replies(self, n: int, timeout: float | None = None) -> list[Reply]:
        return [self.read_reply(timeout) for _ in range(n)]

    def cmd(self, line: str | bytes, timeout: float | None = None) -> Reply:
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")
        return self.read_reply(timeout)

    def pending(self, wait: float = 0.3) -> bytes:
        """Whatever the server sent without being asked (within `wait` seconds)."""
        data = bytes(self.buf)
        self.buf.clear()
        self.sock.settimeout(wait)
        try:
            data += self.sock.recv(65536)
        except (socket.timeout, BlockingIOError, ssl.SSLWantReadError):
            pass
        finally:
            self.sock.settimeout(self.timeout)
        return data

    # -- SMTP steps
    def ehlo(self, name: str = "client.test") -> Reply:
        return self.cmd(f"EHLO {name}")

    def starttls(self, server_hostname: str = "localhost") -> None:
        """Wrap the socket in TLS (no certificate verification: test certificates are
        self-signed). Call after the server's 220 to STARTTLS."""
        if self.buf:
            raise AssertionError(f"server sent data after its STARTTLS reply: {bytes(self.buf)!r}")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock.settimeout(self.timeout)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=server_hostname)
        self.tls = True

    def data(self, message: str | bytes, timeout: float | None = None) -> tuple[Reply, Reply | None]:
        """DATA, then the message (CRLF-normalised and dot-stuffed here), then CRLF.CRLF."""
        r = self.cmd("DATA")
        if r.code != 354:
            return r, None
        if isinstance(message, str):
            message = message.encode("utf-8")
        lines = message.replace(b"\r\n", b"\n").split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        payload = b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n" for ln in lines)
        self.send(payload + b".\r\n")
        return r, self.read_reply(timeout)

    def quit(self, timeout: float = 5.0) -> Reply | None:
        """QUIT, tolerating a server that already closed. Returns the reply or None."""
        try:
            return self.cmd("QUIT", timeout=timeout)
        except (OSError, EOFError, ValueError):
            return None
        finally:
            self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RawSMTP":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def send_in_background(sock_send: Callable[[bytes], None], data: bytes) -> tuple[threading.Thread, list]:
    """sendall in a thread, so a test can read replies while a large write is in flight
    (avoids a deadlock when both sides' buffers fill). Returns (thread, errors)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            sock_send(data)
        except BaseException as e:  # noqa: BLE001 - reported to the test
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, errors


# --------------------------------------------------------------------------------------
# smtplib and swaks helpers
# --------------------------------------------------------------------------------------


@dataclass
class SendResult:
    ok: bool
    code: int | None = None        # the failing reply code, or the final 250
    text: str = ""
    refused: dict = field(default_factory=dict)
    error: str = ""


def smtp_send(host: str, port: int, sender: str, recipients: list[str] | str, message: str | bytes,
              *, starttls: bool = False, login: tuple[str, str] | None = None,
              timeout: float = 20.0, ehlo_name: str = "client.test",
              implicit_tls: bool = False, mail_options: Iterable[str] = ()) -> SendResult:
    """Send one message with smtplib; never raises for SMTP-level failures.

    implicit_tls: smtps (TLS from the first byte, no verification); mail_options: MAIL
    parameters such as "BODY=8BITMIME". A str message must be ASCII-safe for smtplib's
    line-ending fix; pass bytes with CRLF line endings for 8-bit content."""
    if isinstance(recipients, str):
        recipients = [recipients]
    if isinstance(message, str):
        message = message.encode("utf-8")
    try:
        if implicit_tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            client = smtplib.SMTP_SSL(host, port, local_hostname=ehlo_name, timeout=timeout, context=ctx)
        else:
            client = smtplib.SMTP(host, port, local_hostname=ehlo_name, timeout=timeout)
        with client as s:
            s.ehlo()
            if starttls:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                s.starttls(context=ctx)
                s.ehlo()
            if login:
                s.login(*login)
            s.mail(sender, list(mail_options))
            refused = {}
            for r in recipients:
                code, text = s.rcpt(r)
                if code // 100 != 2:
                    refused[r] = (code, text.decode("utf-8", "replace"))
            if len(refused) == len(recipients):
                try:
                    s.rset()
                except (smtplib.SMTPException, OSError):
                    pass
                first = next(iter(refused.values()))
                return SendResult(False, first[0], first[1], refused)
            code, text = s.data(message)
            return SendResult(code == 250, code, text.decode("utf-8", "replace"), refused)
    except smtplib.SMTPResponseException as e:
        msg = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        return SendResult(False, e.smtp_code, msg, error=type(e).__name__)
    except (smtplib.SMTPException, OSError) as e:
        return SendResult(False, None, "", error=f"{type(e).__name__}: {e}")


SWAKS_REPLY_RE = re.compile(r"^<[-~*]+\s+(\d{3})([ -])(.*)$")


@dataclass
class SwaksResult:
    args: list[str]
    returncode: int
    output: str

    def replies(self) -> list[Reply]:
        """Server replies in the transcript, in order (multi-line replies joined)."""
        out: list[Reply] = []
        cur: list[str] = []
        for line in self.output.splitlines():
            m = SWAKS_REPLY_RE.match(line)
            if not m:
                continue
            cur.append(m.group(3))
            if m.group(2) == " ":
                out.append(Reply(int(m.group(1)), cur))
                cur = []
        return out

    def codes(self) -> list[int]:
        return [r.code for r in self.replies()]

    def find(self, code: int) -> Reply | None:
        return next((r for r in self.replies() if r.code == code), None)

    def __str__(self) -> str:
        return f"swaks {' '.join(self.args)} -> rc={self.returncode}\n{self.output}"


def swaks_path() -> str:
    path = shutil.which("swaks")
    if not path:
        raise RuntimeError("swaks is not installed (apt-get install swaks; .ci/run does it)")
    return path


def run_swaks(*args: str, timeout: float = 60.0) -> SwaksResult:
    """Run swaks with a timeout; the transcript (stdout+stderr) is returned, never raised."""
    argv = [swaks_path(), "--timeout", "20", *args]
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        return SwaksResult(list(args), p.returncode, p.stdout.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        return SwaksResult(list(args), -1, out + f"\n*** swaks timed out after {timeout}s")


def swaks_message_args(tok: str) -> list[str]:
    return ["--header", f"X-E2E-Token: {tok}", "--header", f"Subject: warden e2e {tok}",
            "--body", f"This is an end-to-end test message.\nToken: {tok}\n"]


# --------------------------------------------------------------------------------------
# A private Postfix instance: the reference upstream
# --------------------------------------------------------------------------------------


class PostfixUpstream:
    """A private Postfix on 127.0.0.1:<free port>, fully contained in one temp directory.

    Layout (BASE = /tmp/warden-e2e-postfix-XXXX, mode 0755 so the postfix user can reach
    it; pytest's own tmp dirs are 0700 and would not do):
        BASE/etc/main.cf, master.cf     config_directory (passed as `postfix -c BASE/etc`)
        BASE/etc/vmailbox               virtual_mailbox_maps (texthash: no postmap needed)
        BASE/etc/sasl/smtpd.conf        Cyrus SASL application config
        BASE/sasldb/sasldb2             the SASL user database (owned by postfix; kept out of
                                        config_directory, where postfix check wants root files)
        BASE/queue                      queue_directory (post-install creates the tree)
        BASE/data                       data_directory
        BASE/maildir/example.test/USER/{new,cur,tmp}   delivered mail (virtual(8))
        BASE/maillog                    Postfix's log, written by postlogd
        BASE/etc/tls/cert.pem, key.pem  self-signed pair (openssl) of the TLS service

    Services (all smtpd, all on 127.0.0.1, each on its own free port):
        port           plain SMTP, XCLIENT authorised for 127.0.0.0/8 (the default upstream)
        tls_port       the same plus STARTTLS offered (smtpd_tls_security_level=may, the
                       self-signed pair, smtpd_tls_loglevel=1, TLS noted in Received:);
                       logs as postfix-e2e/tls/smtpd
        haproxy_port   expects a PROXY v1 or v2 header first
                       (smtpd_upstream_proxy_protocol=haproxy); logs as postfix-e2e/haproxy/smtpd
    (tls_port and haproxy_port exist only with extra_services=True, the default.)

    Findings (Debian 12, Postfix 3.7):
    * `postfix -c DIR start` as root needs NO alternate_config_directories entry and no
      /etc/postfix/main.cf at all (Debian's "No configuration" install has none): postfix(1)
      passes MAIL_CONFIG=DIR to everything it starts.  The alternate_config_directories
      list is only enforced for non-root users of the set-gid commands (sendmail,
      postqueue, postdrop); as root even `postqueue -c DIR -p` works.  The tests inject
      mail over SMTP only.
    * Debian's Postfix looks for the Cyrus config in $config_directory/sasl/smtpd.conf
      (Debian policy: "SASL configuration goes in /etc/postfix/sasl"), NOT in
      cyrus_sasl_config_path; with the file elsewhere smtpd silently falls back to
      /etc/sasldb2 and offers every installed mechanism.  We put it there and also set
      cyrus_sasl_config_path to the same directory for non-Debian builds.
    * smtpd runs as the postfix user: sasldb2 must be readable by postfix (chown).
    * SASL user names: `saslpasswd2 -u example.test alice` stores alice@example.test; with
      smtpd_sasl_local_domain empty the client must log in as `alice@example.test`
      (plain `alice` gets 535).
    * maillog_file only accepts paths under maillog_file_prefixes (default /var,
      /dev/stdout), so the prefix list is set to BASE; the `postlog` unix-dgram service
      (postlogd) must be in master.cf.
    * virtual(8) refuses uids below virtual_minimum_uid (100); the mailbox uid is the
      postfix user's, and the maildir base is chowned to it or delivery defers with
      "maildir access problem ... Permission denied".
    * With any compatibility_level >= 1, smtpd_relay_restrictions defaults to
      defer_unauth_destination (454); we set reject_unauth_destination for a plain 554.
    * mynetworks deliberately excludes 127.0.0.0/8: Postfix then trusts Warden (on
      127.0.0.1) for nothing but XCLIENT (smtpd_authorized_xclient_hosts), so accepted
      relaying and the recorded client address really come from Warden's XCLIENT/AUTH.
    * Extra smtpd services in master.cf take `-o name=value` overrides of main.cf, one per
      continuation line; `-o syslog_name=postfix-e2e/tls` makes their log lines tell which
      service logged them. smtpd loads the TLS key before dropping privileges, so the
      key stays root-only (0600). `smtpd_peername_lookup=no` on the extra services: the
      PROXY-supplied 192.0.2.x addresses would otherwise cost a reverse DNS lookup each
      (the client then shows as unknown[ADDR]). The tlsmgr service is in master.cf too.
    """

    DOMAIN = "example.test"
    USERS = ("alice", "bob", "carol", "dave", "user")
    # Mailboxes for bulk-sending tests (test_limits.py): cust001..cust200@example.test, used by
    # no other test, so a test can count exactly what was delivered to them.
    CUSTOMERS = tuple(f"cust{i:03d}" for i in range(1, 201))
    SASL_USER = "alice@example.test"
    SASL_PASSWORD = "s3cret"
    # Every SASL login of the fixture (login name -> password); SASL_USER is the first.
    SASL_USERS = {"alice@example.test": "s3cret", "bob@example.test": "b0b-s3cret"}
    HOSTNAME = "upstream.postfix.test"
    MYNETWORKS = "198.51.100.254/32"   # anything but loopback

    def __init__(self, base: Path | None = None, keep: bool = False, extra_services: bool = True):
        self.postfix = shutil.which("postfix") or "/usr/sbin/postfix"
        if base is None:
            base = Path(tempfile.mkdtemp(prefix="warden-e2e-postfix-", dir="/tmp"))
        self.base = Path(base)
        os.chmod(self.base, 0o755)
        self.keep = keep
        self.host = LOCALHOST
        self.port = free_port()
        self.extra_services = extra_services
        self.tls_port: int | None = free_port() if extra_services else None
        self.haproxy_port: int | None = free_port() if extra_services else None
        self.tls_dir = self.base / "etc" / "tls"
        self.config_dir = self.base / "etc"
        self.sasl_dir = self.config_dir / "sasl"
        self.sasldb_dir = self.base / "sasldb"
        self.queue_dir = self.base / "queue"
        self.data_dir = self.base / "data"
        self.maildir = self.base / "maildir"
        self.maillog = self.base / "maillog"
        self.master_pid: int | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def tls_url(self) -> str:
        """The smtpd service that offers STARTTLS (self-signed certificate)."""
        if self.tls_port is None:
            raise RuntimeError("PostfixUpstream started without extra_services")
        return f"smtp://{self.host}:{self.tls_port}"

    @property
    def haproxy_url(self) -> str:
        """The smtpd service that expects a PROXY v1/v2 header before SMTP."""
        if self.haproxy_port is None:
            raise RuntimeError("PostfixUpstream started without extra_services")
        return f"smtp://{self.host}:{self.haproxy_port}"

    @property
    def tls_cert(self) -> Path:
        return self.tls_dir / "cert.pem"

    @property
    def tls_key(self) -> Path:
        return self.tls_dir / "key.pem"

    def ports(self) -> list[int]:
        return [p for p in (self.port, self.tls_port, self.haproxy_port) if p is not None]

    # -- set-up
    def check_prerequisites(self) -> None:
        needed = ("postfix", "saslpasswd2") + (("openssl",) if self.extra_services else ())
        missing = [p for p in needed if not shutil.which(p) and not Path("/usr/sbin", p).exists()]
        if missing:
            raise RuntimeError(f"not installed: {', '.join(missing)} "
                               "(apt-get install postfix sasl2-bin libsasl2-modules openssl; .ci/run does it)")
        if os.geteuid() != 0:
            raise RuntimeError("the Postfix upstream fixture must run as root "
                               "(Postfix's master starts as root and drops to mail_owner)")

    def write_config(self) -> None:
        import grp
        import pwd
        pw = pwd.getpwnam("postfix")
        uid, gid = pw.pw_uid, pw.pw_gid
        grp.getgrnam("postdrop")  # raises KeyError if the package did not create it
        for d in (self.config_dir, self.sasl_dir, self.sasldb_dir, self.queue_dir, self.data_dir,
                  self.maildir):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)
        os.chown(self.data_dir, uid, gid)
        os.chown(self.maildir, uid, gid)

        main_cf = f"""\
# Private Postfix instance for Warden's end-to-end tests (written by Tests/e2e/harness.py)
compatibility_level = 3.6
queue_directory = {self.queue_dir}
data_directory = {self.data_dir}
mail_owner = postfix
setgid_group = postdrop
myhostname = {self.HOSTNAME}
mydomain = postfix.test
myorigin = $myhostname
mydestination =
mynetworks = {self.MYNETWORKS}
inet_interfaces = loopback-only
inet_protocols = ipv4
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
syslog_name = postfix-e2e
maillog_file = {self.maillog}
maillog_file_prefixes = {self.base}

virtual_mailbox_domains = {self.DOMAIN}
virtual_mailbox_base = {self.maildir}
virtual_mailbox_maps = texthash:{self.config_dir}/vmailbox
virtual_minimum_uid = {min(uid, 100)}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}

smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination

smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {self.sasl_dir}
smtpd_sasl_security_options = noanonymous
smtpd_tls_auth_only = no
"""
        (self.config_dir / "main.cf").write_text(main_cf)

        # chroot column "n" everywhere: no copies of libraries or sasldb inside a jail.
        master_cf = f"""\
# service type  private unpriv  chroot  wakeup  maxproc command + args
{self.host}:{self.port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
"""
        if self.extra_services:
            self.make_tls_pair()
            master_cf += f"""{self.host}:{self.tls_port} inet n - n - - smtpd
  -o syslog_name=postfix-e2e/tls
  -o smtpd_tls_security_level=may
  -o smtpd_tls_cert_file={self.tls_cert}
  -o smtpd_tls_key_file={self.tls_key}
  -o smtpd_tls_loglevel=1
  -o smtpd_tls_received_header=yes
  -o smtpd_peername_lookup=no
{self.host}:{self.haproxy_port} inet n - n - - smtpd
  -o syslog_name=postfix-e2e/haproxy
  -o smtpd_upstream_proxy_protocol=haproxy
  -o smtpd_peername_lookup=no
"""
        (self.config_dir / "master.cf").write_text(master_cf)
        (self.config_dir / "vmailbox").write_text(
            "".join(f"{u}@{self.DOMAIN} {self.DOMAIN}/{u}/\n" for u in self.USERS + self.CUSTOMERS))

        sasl_db = self.sasldb_dir / "sasldb2"
        (self.sasl_dir / "smtpd.conf").write_text(
            "pwcheck_method: auxprop\n"
            "auxprop_plugin: sasldb\n"
            f"sasldb_path: {sasl_db}\n"
            "mech_list: PLAIN LOGIN\n")
        saslpasswd2 = shutil.which("saslpasswd2") or "/usr/sbin/saslpasswd2"
        for login, password in self.SASL_USERS.items():
            user, realm = login.split("@")
            p = subprocess.run([saslpasswd2, "-p", "-c", "-f", str(sasl_db), "-u", realm, user],
                               input=(password + "\n").encode(), capture_output=True, timeout=30)
            if p.returncode != 0:
                raise RuntimeError(f"saslpasswd2 {login} failed: {p.stderr.decode(errors='replace')}")
        os.chown(sasl_db, uid, gid)
        os.chmod(sasl_db, 0o640)

    def make_tls_pair(self) -> None:
        """A self-signed P-256 certificate for HOSTNAME (also its SAN), key 0600 root."""
        self.tls_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.tls_dir, 0o755)
        openssl = shutil.which("openssl") or "/usr/bin/openssl"
        p = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-days", "3", "-subj", f"/CN={self.HOSTNAME}",
                            "-addext", f"subjectAltName=DNS:{self.HOSTNAME}",
                            "-keyout", str(self.tls_key), "-out", str(self.tls_cert)],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError(f"openssl req failed: {p.stderr.decode(errors='replace')}")
        os.chmod(self.tls_key, 0o600)
        os.chmod(self.tls_cert, 0o644)

    # -- life cycle
    def _postfix(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return subprocess.run([self.postfix, "-c", str(self.config_dir), *args],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)

    def _read_master_pid(self) -> int | None:
        try:
            return int((self.queue_dir / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, timeout: float = 30.0) -> "PostfixUpstream":
        self.check_prerequisites()
        self.write_config()
        p = self._postfix("start", timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(
                f"postfix -c {self.config_dir} start failed (rc={p.returncode}):\n"
                f"{p.stdout.decode(errors='replace')}{p.stderr.decode(errors='replace')}\n"
                f"maillog:\n{tail(self.maillog_text())}")
        try:
            wait_until(lambda: all(port_accepts(self.host, p) for p in self.ports()), timeout,
                       f"Postfix to listen on {self.host} ports {self.ports()}")
        except TimeoutError as e:
            self.stop()
            raise RuntimeError(f"{e}\nmaillog:\n{tail(self.maillog_text())}") from None
        self.master_pid = self._read_master_pid()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        pid = self._read_master_pid() or self.master_pid
        try:
            self._postfix("stop", timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        try:
            wait_until(lambda: (pid is None or not _pid_alive(pid))
                       and not port_accepts(self.host, self.port, 0.2),
                       timeout, "Postfix to stop")
        except TimeoutError:
            try:
                self._postfix("abort", timeout=10)
            except subprocess.TimeoutExpired:
                pass
            if pid and _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)

    # -- observation
    def maillog_text(self) -> str:
        try:
            return self.maillog.read_text(errors="replace")
        except OSError:
            return ""

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> re.Match:
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.maillog_text()), timeout,
                          f"Postfix log line matching {pattern!r}")

    def messages(self) -> list[Path]:
        """Every delivered message file (under any user's Maildir new/ or cur/)."""
        if not self.maildir.exists():
            return []
        return sorted(p for p in self.maildir.glob("*/*/*/*")
                      if p.is_file() and p.parent.name in ("new", "cur"))

    def messages_containing(self, needle: str | bytes) -> list[Path]:
        if isinstance(needle, str):
            needle = needle.encode()
        out = []
        for p in self.messages():
            try:
                if needle in p.read_bytes():
                    out.append(p)
            except OSError:
                pass
        return out

    def wait_for_messages(self, needle: str | bytes, count: int = 1, timeout: float = 15.0) -> list[Path]:
        """Wait until at least `count` delivered messages contain needle; return them."""
        try:
            return wait_until(lambda: (lambda m: m if len(m) >= count else None)(self.messages_containing(needle)),
                              timeout, f"{count} delivered message(s) containing {needle!r}")
        except TimeoutError as e:
            raise AssertionError(f"{e}\nPostfix maillog (tail):\n{tail(self.maillog_text(), 25)}") from None

    def user_of(self, path: Path) -> str:
        return path.parent.parent.name

    def queue_is_empty(self) -> bool:
        """True when Postfix holds no message in any queue (`postqueue -c DIR -p`, which
        works as root without alternate_config_directories): whatever was accepted has
        been delivered (or bounced), so no more mail will show up in the maildirs."""
        postqueue = shutil.which("postqueue") or "/usr/sbin/postqueue"
        p = subprocess.run([postqueue, "-c", str(self.config_dir), "-p"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        return p.returncode == 0 and b"Mail queue is empty" in p.stdout


def received_headers(raw: bytes) -> list[str]:
    """The Received: headers of a message, unfolded, top first."""
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    unfolded = re.sub(r"\r?\n[ \t]+", " ", head)
    return [ln.split(":", 1)[1].strip() for ln in unfolded.splitlines()
            if ln.lower().startswith("received:")]


# --------------------------------------------------------------------------------------
# Warden under test
# --------------------------------------------------------------------------------------


def warden_bin() -> Path:
    """WARDEN_BIN (relative paths against the current directory) or .build/debug/warden."""
    env = os.environ.get("WARDEN_BIN")
    return Path(env).resolve() if env else DEFAULT_WARDEN_BIN


def warden_missing_reason() -> str | None:
    """Why the Warden tests cannot run, or None. Only a missing binary is a reason:
    a binary that exists but fails makes the tests fail."""
    path = warden_bin()
    if path.exists():
        return None
    return (f"WARDEN_BIN {path} does not exist: build it with `swift build` "
            f"(or run `bash scripts/test`), or point WARDEN_BIN at the binary")


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML: {v!r}")


def to_toml(cfg: dict) -> str:
    """A small TOML writer for warden.toml: tables, arrays of tables, scalars, lists."""
    out: list[str] = []

    def table(prefix: str, d: dict, header: str | None) -> None:
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict) and
                   not (isinstance(v, list) and v and all(isinstance(x, dict) for x in v))}
        if header:
            out.append(header)
        for k, v in scalars.items():
            out.append(f"{k} = {_toml_value(v)}")
        out.append("")
        for k, v in d.items():
            name = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                table(name, v, f"[{name}]")
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                for item in v:
                    table(name, item, f"[[{name}]]")

    table("", cfg, None)
    text = "\n".join(out).lstrip("\n") + "\n"
    if tomllib.loads(text) != cfg:  # self-check of the writer
        raise AssertionError(f"TOML writer round-trip mismatch:\n{text}")
    return text


def merge_config(base: dict, overrides: dict) -> dict:
    """Deep-merge overrides into base (in place). A value None deletes the key.

    `listener` may be given as {name: {key: value}} to change (or, for a new name, add)
    one listener; {name: None} removes it; a list replaces all listeners."""
    for key, value in overrides.items():
        if key in ("listener", "listeners") and isinstance(value, dict):
            listeners = base.setdefault("listener", [])
            for name, lo in value.items():
                existing = next((x for x in listeners if x.get("name") == name), None)
                if lo is None:
                    if existing is not None:
                        listeners.remove(existing)
                elif existing is not None:
                    merge_config(existing, lo)
                else:
                    new = {"name": name, "address": LOCALHOST, "port": free_port(), "kind": "smtp"}
                    listeners.append(merge_config(new, lo))
        elif value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merge_config(base[key], value)
        else:
            base[key] = value
    return base


def default_config(upstream_url: str) -> dict:
    return {
        "server": {"hostname": "warden.test", "shutdown_grace_seconds": 5},
        "listener": [
            {"name": "smtp", "address": LOCALHOST, "port": free_port(), "kind": "smtp",
             "starttls": True},
            {"name": "submission", "address": LOCALHOST, "port": free_port(), "kind": "submission",
             "starttls": True, "auth": True},
        ],
        "tls": {"certificate": "tls/cert.pem", "key": "tls/key.pem", "create_self_signed": True},
        "upstream": {"url": upstream_url},
        "relay": {"accepted_domains": ["example.test"]},
        "log": {"format": "json", "level": "info"},
        "metrics": {"address": f"{LOCALHOST}:{free_port()}"},
        "policy": {"rules": "Rules", "blocklists": "Blocklists"},
    }


class WardenStartError(RuntimeError):
    pass


class WardenProcess:
    """One running `warden run --config FILE`, its config and its logs."""

    def __init__(self, workdir: Path, config: dict, config_path: Path, log_path: Path,
                 stdout_path: Path, proc: subprocess.Popen):
        self.workdir, self.config, self.config_path = workdir, config, config_path
        self.log_path, self.stdout_path, self.proc = log_path, stdout_path, proc
        self.host = LOCALHOST
        self.ports = {lst["name"]: lst["port"] for lst in config.get("listener", [])}
        addr = config.get("metrics", {}).get("address", "")
        self.metrics_port = int(addr.rsplit(":", 1)[1]) if addr else None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def smtp_port(self) -> int:
        return self.ports["smtp"]

    @property
    def submission_port(self) -> int:
        return self.ports["submission"]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_text(self) -> str:
        parts = []
        for p in (self.log_path, self.stdout_path):
            try:
                parts.append(p.read_text(errors="replace"))
            except OSError:
                pass
        return "".join(parts)

    def log_lines(self) -> list[dict]:
        """stderr's JSON lines, parsed; a line that is not JSON becomes {"_raw": line}."""
        out = []
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return out
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                out.append(obj if isinstance(obj, dict) else {"_raw": line})
            except json.JSONDecodeError:
                out.append({"_raw": line})
        return out

    def wait_for_log(self, predicate: Callable[[dict], bool], timeout: float = 5.0, what: str = "a log line") -> dict:
        try:
            return wait_until(lambda: next((ln for ln in self.log_lines() if predicate(ln)), None),
                              timeout, what)
        except TimeoutError as e:
            raise AssertionError(f"{e}\nWarden log (tail):\n{tail(self.log_text())}") from None

    def send_signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait up to `timeout` s, then SIGKILL. Returns the exit status."""
        if self.alive():
            self.send_signal(signal.SIGTERM)
            rc = self.wait(timeout)
            if rc is None:
                self.send_signal(signal.SIGKILL)
                rc = self.wait(10)
        return self.proc.returncode


def write_warden_config(workdir: Path, upstream_url: str, **overrides: Any) -> tuple[dict, Path]:
    """Write WORKDIR/warden.toml (default_config deep-merged with overrides) and the
    empty Rules/, Blocklists/ and tls/ directories it refers to."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    for d in ("Rules", "Blocklists", "tls"):
        (workdir / d).mkdir(exist_ok=True)
    config = merge_config(default_config(upstream_url), overrides)
    config_path = workdir / "warden.toml"
    config_path.write_text(to_toml(config))
    return config, config_path


def launch_warden(workdir: Path, upstream_url: str, *, ready_timeout: float = 20.0,
                  wait_ready: bool = True, **overrides: Any) -> WardenProcess:
    """Write WORKDIR/warden.toml (defaults above, deep-merged with overrides), start
    `WARDEN_BIN run --config WORKDIR/warden.toml` with stderr to WORKDIR/warden.stderr.log,
    and wait (<= ready_timeout s) until every listener accepts a TCP connection."""
    workdir = Path(workdir)
    config, config_path = write_warden_config(workdir, upstream_url, **overrides)
    binary = warden_bin()
    log_path = workdir / "warden.stderr.log"
    stdout_path = workdir / "warden.stdout.log"
    with open(log_path, "wb") as err, open(stdout_path, "wb") as out:
        proc = subprocess.Popen([str(binary), "run", "--config", str(config_path)], cwd=workdir,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
    w = WardenProcess(workdir, config, config_path, log_path, stdout_path, proc)
    if not wait_ready:
        return w
    deadline = time.monotonic() + ready_timeout
    for name, port in w.ports.items():
        for _ in range(MAX_POLLS):
            if not w.alive():
                raise WardenStartError(
                    f"warden exited with status {proc.returncode} before listener {name!r} "
                    f"(127.0.0.1:{port}) accepted connections.\nconfig {config_path}:\n"
                    f"{config_path.read_text()}\nlog:\n{tail(w.log_text(), 60)}")
            if port_accepts(LOCALHOST, port, 0.5):
                break
            if time.monotonic() >= deadline:
                w.stop()
                raise WardenStartError(
                    f"warden listener {name!r} did not accept on 127.0.0.1:{port} within "
                    f"{ready_timeout}s.\nlog:\n{tail(w.log_text(), 60)}")
            time.sleep(POLL_INTERVAL)
    return w


def run_warden_command(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
    """`WARDEN_BIN args...` (e.g. check --config FILE), output captured, bounded in time."""
    return subprocess.run([str(warden_bin()), *args], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout)


# --------------------------------------------------------------------------------------
# A scripted SMTP server standing in for the upstream
# --------------------------------------------------------------------------------------


class FakeUpstream:
    """A tiny threaded SMTP server that records every command it receives.

    mode "accept": answers everything with success (no XCLIENT, no AUTH offered).
    mode "die_in_data": answers DATA with 354, reads some message bytes, then closes the
    connection without a reply (an upstream crashing mid-message).
    mode "refuse_rset": answers RSET with 421 and closes (an upstream restarting while Warden
    keeps an idle session of it for reuse).
    mode "no_pipelining": as "accept", without PIPELINING in the EHLO reply.

    `batched[i]` tells whether command i arrived in the same read as the command before it
    (pipelined by the client)."""

    def __init__(self, mode: str = "accept", hostname: str = "fake.upstream.test",
                 read_timeout: float = 30.0):
        self.mode = mode
        self.hostname = hostname
        self.read_timeout = read_timeout
        self.lock = threading.Lock()
        self.commands: list[str] = []
        self.batched: list[bool] = []
        self.messages: list[bytes] = []
        self.connections = 0
        self.data_bytes_before_close = 0
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((LOCALHOST, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"smtp://{LOCALHOST}:{self.port}"

    def start(self) -> "FakeUpstream":
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def commands_snapshot(self) -> list[str]:
        with self.lock:
            return list(self.commands)

    def arrivals_snapshot(self) -> list[tuple[str, bool]]:
        """Each command with whether it came in the same read as the one before."""
        with self.lock:
            return list(zip(self.commands, self.batched))

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(self.read_timeout)
        with self.lock:
            self.connections += 1
        buf = bytearray()
        read_since_line = [True]

        def line() -> bytes | None:
            for _ in range(100000):
                i = buf.find(b"\r\n")
                if i >= 0:
                    out = bytes(buf[:i])
                    del buf[: i + 2]
                    return out
                if len(buf) > 1 << 20:
                    return None
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                read_since_line[0] = True
                buf.extend(chunk)
            return None

        def reply(text: str) -> None:
            sock.sendall(text.encode() + b"\r\n")

        try:
            reply(f"220 {self.hostname} ESMTP fake")
            for _ in range(100000):
                raw = line()
                if raw is None:
                    return
                cmd = raw.decode("utf-8", "replace")
                with self.lock:
                    self.commands.append(cmd)
                    self.batched.append(not read_since_line[0])
                read_since_line[0] = False
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO",):
                    pipelining = "" if self.mode == "no_pipelining" else "250-PIPELINING\r\n"
                    reply(f"250-{self.hostname}\r\n{pipelining}250-SIZE 52428800\r\n"
                          "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8")
                elif verb == "HELO":
                    reply(f"250 {self.hostname}")
                elif verb == "RSET" and self.mode == "refuse_rset":
                    reply("421 4.3.2 Service shutting down")
                    return
                elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                    reply("250 2.0.0 Ok")
                elif verb == "DATA":
                    reply("354 End data with <CR><LF>.<CR><LF>")
                    if self.mode == "die_in_data":
                        if not buf:
                            chunk = sock.recv(65536)
                            buf.extend(chunk)
                        with self.lock:
                            self.data_bytes_before_close = len(buf)
                        try:
                            sock.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                        return
                    body = bytearray()
                    for _ in range(10_000_000):
                        ln = line()
                        if ln is None:
                            return
                        if ln == b".":
                            break
                        body += ln + b"\r\n"
                    with self.lock:
                        self.messages.append(bytes(body))
                    reply("250 2.0.0 Ok: queued as FAKE")
                elif verb == "QUIT":
                    reply("221 2.0.0 Bye")
                    return
                else:
                    reply("502 5.5.2 Error: command not recognized")
        except OSError:
            return
        finally:
            try:
                sock.close()
            except OSError:
                pass


# --------------------------------------------------------------------------------------
# Secrets that must never show up in a log
# --------------------------------------------------------------------------------------


def credential_forms(user: str, password: str) -> list[str]:
    """The password and every base64 form a client sends it in (AUTH PLAIN with and
    without authzid, AUTH LOGIN)."""
    forms = [password, base64.b64encode(password.encode()).decode()]
    for authz in ("", user):
        forms.append(base64.b64encode(f"{authz}\0{user}\0{password}".encode()).decode())
    return forms


def find_any(haystack: str, needles: Iterable[str]) -> list[str]:
    return [n for n in needles if n and n in haystack]


# --------------------------------------------------------------------------------------
# DNS lists: a private rbldnsd, a server that never answers, a tiny DNS client
# --------------------------------------------------------------------------------------


def free_udp_port(host: str = LOCALHOST) -> int:
    """A UDP port that was free a moment ago (never the same one twice in a run)."""
    return free_port(host, socket.SOCK_DGRAM)


DNS_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


@dataclass
class DNSAnswer:
    rcode: str            # NOERROR, NXDOMAIN, REFUSED, ...
    addresses: list[str]  # the A records of the answer section


def dns_query_a(port: int, name: str, host: str = LOCALHOST, timeout: float = 1.0) -> DNSAnswer | None:
    """One A query over UDP to host:port; None when nothing answers within `timeout`.

    Enough of RFC 1035 to read a DNS list's answer: header, question, A records
    (compressed owner names are skipped, not followed)."""
    qid = int.from_bytes(os.urandom(2), "big")
    question = b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.rstrip(".").split(".")) + b"\0"
    packet = qid.to_bytes(2, "big") + b"\x01\x00" + b"\x00\x01\x00\x00\x00\x00\x00\x00" + question + b"\x00\x01\x00\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, (host, port))
        deadline = time.monotonic() + timeout
        for _ in range(20):  # ignore stray datagrams with another id
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            s.settimeout(remaining)
            try:
                data, _ = s.recvfrom(4096)
            except (socket.timeout, ConnectionRefusedError):
                return None
            if len(data) >= 12 and int.from_bytes(data[:2], "big") == qid:
                break
        else:
            return None
    rcode = DNS_RCODES.get(data[3] & 0x0F, str(data[3] & 0x0F))
    qdcount, ancount = int.from_bytes(data[4:6], "big"), int.from_bytes(data[6:8], "big")

    def skip_name(i: int) -> int:
        for _ in range(128):
            length = data[i]
            if length & 0xC0 == 0xC0:
                return i + 2
            if length == 0:
                return i + 1
            i += 1 + length
        raise ValueError("DNS name too long")

    i = 12
    for _ in range(qdcount):
        i = skip_name(i) + 4
    addresses = []
    for _ in range(ancount):
        i = skip_name(i)
        rtype = int.from_bytes(data[i:i + 2], "big")
        rdlen = int.from_bytes(data[i + 8:i + 10], "big")
        rdata = data[i + 10:i + 10 + rdlen]
        if rtype == 1 and rdlen == 4:
            addresses.append(".".join(str(b) for b in rdata))
        i += 10 + rdlen
    return DNSAnswer(rcode, addresses)


class RblDnsd:
    """A private rbldnsd on 127.0.0.1:<free UDP port>, serving DNS lists from zone files.

        dns = RblDnsd({"bl.test": [("ip4set", "127.0.0.2\\n192.0.2.0/24 :127.0.0.4:\\n")]}).start()
        ... [dns] servers = [dns.server] ...
        dns.stop()

    zones maps a zone name to its datasets (rbldnsd type, file text); several datasets
    of one zone are served together (e.g. an ip4set and an ip6trie). Findings:
    * rbldnsd refuses to run as root ("specify -u option") and refuses `-u root`: it runs
      as its own user (rbldns), so the zone files live in a /tmp directory of mode 0755
      (pytest's tmp dirs are 0700), removed by stop().
    * ip6trie takes CIDRs (`2001:db8::/32`) with a default `:127.0.0.X:` line; an IPv4
      address in it is "invalid address" (the zone is still served without it).
    * A zone it does not serve is answered REFUSED, with no answer records.
    * `-n` keeps it in the foreground, so the pid we start is the server's: stopped by
      SIGTERM to that pid (SIGKILL after 5 s)."""

    def __init__(self, zones: dict[str, list[tuple[str, str]]], ttl: int = 60):
        self.binary = shutil.which("rbldnsd") or "/usr/sbin/rbldnsd"
        self.zones = zones
        self.ttl = ttl
        self.dir = Path(tempfile.mkdtemp(prefix="warden-e2e-rbldnsd-", dir="/tmp"))
        os.chmod(self.dir, 0o755)
        self.log_path = self.dir / "rbldnsd.log"
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def server(self) -> str:
        """The [dns] servers entry: "127.0.0.1:PORT"."""
        return f"{LOCALHOST}:{self.port}"

    def write_zones(self) -> list[str]:
        specs = []
        for zone, datasets in self.zones.items():
            for n, (kind, text) in enumerate(datasets):
                name = f"{zone}.{n}.{kind}"
                path = self.dir / name
                path.write_text(text if text.endswith("\n") else text + "\n")
                os.chmod(path, 0o644)
                specs.append(f"{zone}:{kind}:{name}")
        return specs

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def start(self, timeout: float = 10.0) -> "RblDnsd":
        if not Path(self.binary).exists():
            raise RuntimeError("rbldnsd is not installed (apt-get install rbldnsd)")
        specs = self.write_zones()
        self.port = free_udp_port()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [self.binary, "-n", "-b", f"{LOCALHOST}/{self.port}", "-w", str(self.dir),
                 "-t", str(self.ttl), *specs],
                cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        probe_zone = next(iter(self.zones))

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rbldnsd exited with {self.proc.returncode}:\n{self.log_text()}")
            return dns_query_a(self.port, f"2.0.0.127.{probe_zone}", timeout=0.2) is not None

        try:
            wait_until(ready, timeout, f"rbldnsd to answer on {self.server}")
        except (TimeoutError, RuntimeError) as e:
            self.stop()
            raise RuntimeError(f"{e}\nrbldnsd log:\n{self.log_text()}") from None
        return self

    def query(self, name: str, timeout: float = 1.0) -> DNSAnswer | None:
        return dns_query_a(self.port, name, timeout=timeout)

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


class SilentDNSServer:
    """A UDP socket on 127.0.0.1:<free port> that receives queries and never answers: a DNS
    server that times out. Counts the datagrams it got."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOCALHOST, 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.received = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    @property
    def server(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    def _drain(self) -> None:
        for _ in range(10_000_000):
            if self.stopped.is_set():
                return
            try:
                self.sock.recvfrom(4096)
                self.received += 1
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(2)
        self.sock.close()


# --------------------------------------------------------------------------------------
# /metrics
# --------------------------------------------------------------------------------------


def http_get(url: str, timeout: float = 3.0) -> tuple[int, str] | None:
    """(status, body) of a GET, or None when nothing answers."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return None


def metrics(w: "WardenProcess") -> str:
    """Warden's /metrics text, waiting up to 10 s for the endpoint to answer."""
    url = f"http://{LOCALHOST}:{w.metrics_port}/metrics"
    got = wait_until(lambda: http_get(url), 10, f"{url} to answer")
    assert got[0] == 200, got
    return got[1]


def metric_lines(text: str, word: str) -> str:
    """The sample lines of Prometheus text that mention `word` (for assertion messages)."""
    return "\n".join(ln for ln in text.splitlines() if word in ln and not ln.startswith("#"))


def metric_value(text: str, name: str, labels: str = "") -> float | None:
    """The value of `name{labels}` in Prometheus text, or None when the series is absent."""
    series = re.escape(name + (f"{{{labels}}}" if labels else ""))
    m = re.search(rf"^{series}\s+(\S+)\s*$", text, re.MULTILINE)
    return float(m.group(1)) if m else None


# --------------------------------------------------------------------------------------
# A private redis-server (shared rate counters) and a tiny RESP client
# --------------------------------------------------------------------------------------


class RespError(Exception):
    """An error reply (`-ERR ...`) from Redis."""


def resp_command(port: int, *args: str | bytes | int, host: str = LOCALHOST, timeout: float = 2.0) -> Any:
    """One Redis command over a fresh connection (RESP2): the reply as int, bytes, str (simple
    strings), None or a list; an error reply raises RespError. No redis-cli needed."""
    with RespConnection(port, host=host, timeout=timeout) as conn:
        return conn.command(*args)


class RespConnection:
    """A Redis connection speaking RESP2: `command(*args)` sends one command and reads its
    reply. Every read has a timeout and every reply is bounded in size."""

    MAX_BULK = 64 << 20
    MAX_ELEMENTS = 1_000_000

    def __init__(self, port: int, host: str = LOCALHOST, timeout: float = 2.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = bytearray()

    def __enter__(self) -> "RespConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def command(self, *args: str | bytes | int) -> Any:
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        out = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in parts)
        self.sock.sendall(out)
        return self._read()

    def _line(self) -> bytes:
        for _ in range(100000):
            idx = self.buf.find(b"\r\n")
            if idx >= 0:
                line = bytes(self.buf[:idx])
                del self.buf[:idx + 2]
                return line
            if len(self.buf) > self.MAX_BULK:
                raise ValueError("RESP line too long")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("redis closed the connection")
            self.buf += chunk
        raise RuntimeError("RESP: too many reads")

    def _exactly(self, n: int) -> bytes:
        for _ in range(100000):
            if len(self.buf) >= n:
                data = bytes(self.buf[:n])
                del self.buf[:n]
                return data
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("redis closed the connection")
            self.buf += chunk
        raise RuntimeError("RESP: too many reads")

    def _read(self) -> Any:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            if n > self.MAX_BULK:
                raise ValueError(f"RESP bulk string of {n} bytes")
            data = self._exactly(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            if n > self.MAX_ELEMENTS:
                raise ValueError(f"RESP array of {n} elements")
            return [self._read() for _ in range(n)]
        raise ValueError(f"malformed RESP line {line[:80]!r}")


class RedisServer:
    """A private redis-server on 127.0.0.1:<free port>, nothing saved to disk:

        redis-server --port P --bind 127.0.0.1 --save "" --appendonly no --daemonize no

    started in the foreground (so the pid is the server's) in a temp directory and stopped by
    that pid (SIGTERM, SIGKILL after 5 s). `stop()` then `start()` brings it back on the same
    port, empty (nothing was saved), as a restarted Redis without persistence would be.
    `.address` is the `[store] redis` value; `command(...)`, `keys()` and `pttl()` talk RESP."""

    def __init__(self, port: int | None = None):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="warden-e2e-redis-", dir="/tmp"))
        self.log_path = self.dir / "redis.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def address(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 10.0) -> "RedisServer":
        if not Path(self.binary).exists():
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        if self.alive():
            return self
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", LOCALHOST, "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--dir", str(self.dir)],
                cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        finally:
            log.close()
        self.starts += 1

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}:\n{tail(self.log_text())}")
            try:
                return self.command("PING") == "PONG"
            except (OSError, EOFError, RespError):
                return False

        try:
            wait_until(ready, timeout, f"redis-server to answer PING on {self.address}")
        except (TimeoutError, RuntimeError) as e:
            self.stop(remove=False)
            raise RuntimeError(f"{e}\nredis log:\n{tail(self.log_text())}") from None
        return self

    def stop(self, timeout: float = 5.0, remove: bool = False) -> None:
        """SIGTERM to our own pid, SIGKILL after `timeout`; the port is closed when it returns."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def command(self, *args: str | bytes | int, timeout: float = 2.0) -> Any:
        return resp_command(self.port, *args, timeout=timeout)

    def keys(self, pattern: str = "*", limit: int = 100_000) -> list[str]:
        """Every key (SCAN, bounded), as text."""
        found: set[str] = set()
        cursor = b"0"
        with RespConnection(self.port) as conn:
            for _ in range(10_000):
                cursor, batch = conn.command("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
                found.update(k.decode(errors="replace") for k in batch)
                if cursor == b"0" or len(found) >= limit:
                    break
        return sorted(found)

    def pttl(self, key: str) -> int:
        """Milliseconds left (-1: no expiry, -2: no such key)."""
        return self.command("PTTL", key)


# A listener that takes the client address from a PROXY header sent by the test (from loopback).
PROXY_LISTENER = {"smtp": {"proxy_protocol": True, "proxy_trusted": ["127.0.0.1/32"]}}


def write_policy(workdir: Path, rules: str, lists: dict[str, str] | None = None,
                 rules_file: str = "10-test.cf") -> None:
    """WORKDIR/Rules/<rules_file> and WORKDIR/Blocklists/<name> for each list."""
    (workdir / "Rules").mkdir(parents=True, exist_ok=True)
    (workdir / "Blocklists").mkdir(parents=True, exist_ok=True)
    (workdir / "Rules" / rules_file).write_text(textwrap.dedent(rules))
    for name, text in (lists or {}).items():
        (workdir / "Blocklists" / name).write_text(text)
