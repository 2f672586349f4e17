"""SMTP clients of the benchmark: a sequential latency probe (blocking sockets) and an asyncio
client that holds many idle sessions open. Every read has a timeout, every loop a bound."""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"


class SMTPError(Exception):
    pass


class Conn:
    """One SMTP session on a blocking socket."""

    def __init__(self, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def reply(self) -> tuple[int, bytes]:
        lines = []
        for _ in range(200):
            for _ in range(1000):
                i = self.buf.find(b"\n")
                if i >= 0:
                    break
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise SMTPError("connection closed")
                self.buf += chunk
            else:
                raise SMTPError("reply line too long")
            line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
            lines.append(line)
            if len(line) >= 4 and line[3:4] != b"-":
                return int(line[:3]), b"".join(lines)
        raise SMTPError("reply with too many lines")

    def cmd(self, line: bytes, want: int) -> None:
        self.sock.sendall(line + b"\r\n")
        code, text = self.reply()
        if code != want:
            raise SMTPError(f"{line[:40]!r} -> {text[:200]!r}")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def one_session(port: int, message: bytes, rcpt: str = "probe@example.test",
                timeout: float = 10.0) -> None:
    """connect, 220, EHLO, MAIL, RCPT, DATA, message, QUIT: raises SMTPError on anything else."""
    c = Conn(port, timeout)
    try:
        code, text = c.reply()
        if code != 220:
            raise SMTPError(f"greeting {text[:200]!r}")
        c.cmd(b"EHLO probe.bench.test", 250)
        c.cmd(b"MAIL FROM:<probe@bench.test>", 250)
        c.cmd(f"RCPT TO:<{rcpt}>".encode(), 250)
        c.cmd(b"DATA", 354)
        c.sock.sendall(message + b".\r\n")
        code, text = c.reply()
        if code != 250:
            raise SMTPError(f"end of data -> {text[:200]!r}")
        c.cmd(b"QUIT", 221)
    finally:
        c.close()


@dataclass
class ProbeResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        xs = sorted(self.latencies_ms)
        k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
        return xs[k]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


def latency_probe(port: int, message: bytes, n: int, deadline_s: float = 60.0) -> ProbeResult:
    """n sequential full sessions, each timed from connect() to the reply to QUIT."""
    res = ProbeResult()
    end = time.monotonic() + deadline_s
    for _ in range(n):
        if time.monotonic() > end:
            res.errors.append("probe deadline reached")
            break
        t0 = time.perf_counter()
        try:
            one_session(port, message)
        except (OSError, SMTPError) as e:
            res.errors.append(str(e))
            continue
        res.latencies_ms.append((time.perf_counter() - t0) * 1000.0)
    return res


# ----------------------------------------------------------------------------------------------
# Idle sessions (asyncio)
# ----------------------------------------------------------------------------------------------


async def _read_reply(reader: asyncio.StreamReader, timeout: float) -> int:
    for _ in range(100):
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise SMTPError("closed")
        if len(line) >= 4 and line[3:4] != b"-":
            return int(line[:3])
    raise SMTPError("reply with too many lines")


async def _greeting_time(port: int, timeout: float = 30.0) -> float:
    """Milliseconds from connect() to the complete 220 greeting of a fresh client."""
    t0 = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
    try:
        code = await _read_reply(reader, timeout)
        if code != 220:
            raise SMTPError(f"greeting {code}")
        return (time.perf_counter() - t0) * 1000.0
    finally:
        writer.write(b"QUIT\r\n")
        writer.close()


@dataclass
class IdleResult:
    opened: int = 0
    failed: int = 0
    open_seconds: float = 0.0
    first_error: str = ""
    greet_during_ramp_ms: list[float] = field(default_factory=list)
    greet_while_held_ms: list[float] = field(default_factory=list)
    greet_errors: int = 0


async def hold_idle_sessions(port: int, n: int, on_held, *, concurrency: int = 200,
                             open_deadline: float = 120.0, probes: int = 50) -> IdleResult:
    """Opens n sessions (connect, 220, EHLO, 250) with at most `concurrency` opening at once,
    keeps them open while `on_held()` (a blocking callable, run in a thread) measures, then
    closes them. Meanwhile fresh clients time their greeting: one every 0.05 s during the ramp,
    then `probes` in a row while everything is held."""
    res = IdleResult()
    held: list[asyncio.StreamWriter] = []
    sem = asyncio.Semaphore(concurrency)
    ramp_done = asyncio.Event()

    async def open_one() -> None:
        async with sem:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 30)
            except (OSError, asyncio.TimeoutError) as e:
                res.failed += 1
                res.first_error = res.first_error or f"connect: {e!r}"
                return
            try:
                if await _read_reply(reader, 30) != 220:
                    raise SMTPError("no 220")
                writer.write(b"EHLO idle.bench.test\r\n")
                if await _read_reply(reader, 30) != 250:
                    raise SMTPError("no 250 to EHLO")
                held.append(writer)
                res.opened += 1
            except (OSError, SMTPError, asyncio.TimeoutError, ValueError) as e:
                res.failed += 1
                res.first_error = res.first_error or repr(e)
                writer.close()

    async def ramp_prober() -> None:
        for _ in range(int(open_deadline * 20) + 1):
            if ramp_done.is_set():
                return
            try:
                res.greet_during_ramp_ms.append(await _greeting_time(port))
            except (OSError, SMTPError, asyncio.TimeoutError, ValueError):
                res.greet_errors += 1
            try:
                await asyncio.wait_for(ramp_done.wait(), 0.05)
            except asyncio.TimeoutError:
                pass

    prober = asyncio.create_task(ramp_prober())
    t0 = time.monotonic()
    tasks = [asyncio.create_task(open_one()) for _ in range(n)]
    done, pending = await asyncio.wait(tasks, timeout=open_deadline)
    for t in pending:
        t.cancel()
        res.failed += 1
    res.open_seconds = time.monotonic() - t0
    ramp_done.set()
    await prober
    try:
        await asyncio.get_running_loop().run_in_executor(None, on_held)
        for _ in range(probes):
            try:
                res.greet_while_held_ms.append(await _greeting_time(port))
            except (OSError, SMTPError, asyncio.TimeoutError, ValueError):
                res.greet_errors += 1
    finally:
        for w in held:
            try:
                w.close()
            except OSError:
                pass
        await asyncio.sleep(0.5)
    return res
