"""Pipelining SMTP load client (RFC 2920) of the benchmark: the `pipe` profile of bench.py.

Run as its own process, like smtp-source, so bench.py takes its CPU from the child's rusage:

    python3 pipeclient.py [--sessions 50] [--messages N] [--recipients 5] --message-file FILE
                          [--timeout 120] PORT

Opens S concurrent sessions to 127.0.0.1:PORT that share the N messages. Each session reads the
220, sends EHLO client.bench.test and requires PIPELINING in the reply, then per message writes
MAIL FROM, the RCPT TOs and DATA in one send, reads their replies (250 each, then 354), writes the
message and the final dot in one send and reads the 250; at the end QUIT and 221.

One thread, one selectors loop, non-blocking sockets. Replies are parsed only once the buffer
holds at least as many complete lines as replies are due (multi-line replies, replies split across
reads and replies coalesced in one read are all handled).

Exit status: 0 every message accepted; 1 an unexpected reply, a refused or closed connection;
2 the server does not offer PIPELINING; 3 the global timeout passed; 64 bad arguments.
"""

from __future__ import annotations

import argparse
import errno
import os
import selectors
import socket
import sys
import time

HOST = "127.0.0.1"
EHLO_NAME = b"client.bench.test"
SENDER = b"sender@bench.test"
RCPT_DOMAIN = b"example.test"

# session states
GREETING, EHLO, ENVELOPE, DOT, QUIT, DONE = range(6)
STATE_NAMES = {GREETING: "greeting", EHLO: "EHLO", ENVELOPE: "envelope", DOT: "end of data", QUIT: "QUIT"}


class Failure(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status


def load_message(path: str) -> bytes:
    """The message with CRLF line endings (the file may have LF or CRLF), dot-stuffed, ending in
    CRLF, followed by the end-of-data line: what is written after the 354."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    stuffed = [b"." + ln if ln.startswith(b".") else ln for ln in lines]
    return b"\r\n".join(stuffed) + b"\r\n.\r\n"


class Session:
    __slots__ = ("idx", "sock", "buf", "out", "state", "need", "expect", "names", "sent_msgs",
                 "writing")

    def __init__(self, idx: int, sock: socket.socket):
        self.idx = idx
        self.sock = sock
        self.buf = b""
        self.out = b""          # what a partial send left over
        self.state = GREETING
        self.need = 1           # replies due
        self.expect: tuple[bytes, ...] = (b"220",)
        self.names: tuple[str, ...] = ("greeting",)
        self.sent_msgs = 0
        self.writing = False

    def take_replies(self) -> list[tuple[bytes, bytes]] | None:
        """The `need` replies due, as (code, full text), once they are all in the buffer; the rest
        of the buffer stays. None while incomplete."""
        buf = self.buf
        need = self.need
        if buf.count(b"\n") < need:     # fast path: every reply is at least one line
            return None
        replies = []
        pos = start = 0
        find = buf.find
        while len(replies) < need:
            nl = find(b"\n", pos)
            if nl < 0:
                return None
            if nl - pos >= 4 and buf[pos + 3] == 45:     # "250-..." continues
                pos = nl + 1
                continue
            replies.append((buf[pos:pos + 3], buf[start:nl + 1]))
            pos = start = nl + 1
        self.buf = buf[pos:]
        return replies


class Client:
    def __init__(self, port: int, sessions: int, messages: int, recipients: int, payload: bytes,
                 timeout: float):
        self.port = port
        self.sessions = max(1, min(sessions, messages)) if messages > 0 else max(1, sessions)
        self.remaining = messages
        self.total = messages
        self.accepted = 0
        self.payload = payload
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.sel = selectors.DefaultSelector()
        self.active = 0
        self.envelope = (b"MAIL FROM:<" + SENDER + b">\r\n"
                         + b"".join(b"RCPT TO:<rcpt%d@%s>\r\n" % (k, RCPT_DOMAIN) for k in range(1, recipients + 1))
                         + b"DATA\r\n")
        self.env_expect = (b"250",) * (1 + recipients) + (b"354",)
        self.env_names = ("MAIL FROM",) + tuple(f"RCPT TO:<rcpt{k}@example.test>" for k in range(1, recipients + 1)) \
            + ("DATA",)

    # -- helpers ------------------------------------------------------------------------------
    def fail(self, s: Session, status: int, text: str) -> None:
        raise Failure(status, f"pipeclient: 127.0.0.1:{self.port} session {s.idx} "
                              f"(message {s.sent_msgs}): {text}")

    def send(self, s: Session, data: bytes) -> None:
        """One send; a remainder (full socket buffer) goes out when the socket is writable."""
        if s.out:
            s.out += data
            return
        try:
            n = s.sock.send(data)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError as e:
            self.fail(s, 1, f"send failed in state {STATE_NAMES.get(s.state, s.state)}: {e}")
        if n < len(data):
            s.out = data[n:]
            if not s.writing:
                s.writing = True
                self.sel.modify(s.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, s)

    def flush(self, s: Session) -> None:
        try:
            n = s.sock.send(s.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.fail(s, 1, f"send failed in state {STATE_NAMES.get(s.state, s.state)}: {e}")
        s.out = s.out[n:]
        if not s.out and s.writing:
            s.writing = False
            self.sel.modify(s.sock, selectors.EVENT_READ, s)

    def expect(self, s: Session, state: int, codes: tuple[bytes, ...], names: tuple[str, ...]) -> None:
        s.state, s.expect, s.names, s.need = state, codes, names, len(codes)

    def next_message(self, s: Session) -> None:
        if self.remaining > 0:
            self.remaining -= 1
            s.sent_msgs += 1
            self.expect(s, ENVELOPE, self.env_expect, self.env_names)
            self.send(s, self.envelope)
        else:
            self.expect(s, QUIT, (b"221",), ("QUIT",))
            self.send(s, b"QUIT\r\n")

    # -- protocol -----------------------------------------------------------------------------
    def on_replies(self, s: Session, replies: list[tuple[bytes, bytes]]) -> None:
        codes = tuple(r[0] for r in replies)
        if codes != s.expect:
            for i, (code, text) in enumerate(replies):
                if code != s.expect[i]:
                    self.fail(s, 1, f"{s.names[i]} -> {text.decode(errors='replace').strip()!r} "
                                    f"(expected {s.expect[i].decode()})")
        st = s.state
        if st == DOT:
            self.accepted += 1
            self.next_message(s)
        elif st == ENVELOPE:
            self.expect(s, DOT, (b"250",), ("end of data (.)",))
            self.send(s, self.payload)
        elif st == GREETING:
            self.expect(s, EHLO, (b"250",), ("EHLO",))
            self.send(s, b"EHLO " + EHLO_NAME + b"\r\n")
        elif st == EHLO:
            text = replies[0][1]
            offered = False
            for line in text.split(b"\n")[1:]:
                words = line[4:].split()
                if words and words[0].upper() == b"PIPELINING":
                    offered = True
                    break
            if not offered:
                ext = ", ".join(ln[4:].strip().decode(errors="replace") for ln in text.split(b"\n")[1:] if ln.strip())
                self.fail(s, 2, f"the server on port {self.port} does not offer PIPELINING in its EHLO reply "
                                f"(it offers: {ext or 'nothing'})")
            self.next_message(s)
        elif st == QUIT:
            s.state = DONE
            self.close(s)

    def close(self, s: Session) -> None:
        try:
            self.sel.unregister(s.sock)
        except (KeyError, ValueError):
            pass
        s.sock.close()
        self.active -= 1

    def on_readable(self, s: Session) -> None:
        try:
            chunk = s.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.fail(s, 1, f"{STATE_NAMES.get(s.state, s.state)}: connection error: {e}")
        if not chunk:
            left = s.buf.decode(errors="replace").strip()
            self.fail(s, 1, f"connection closed by the server while waiting for the "
                            f"{STATE_NAMES.get(s.state, s.state)} reply" + (f" (partial: {left[:200]!r})" if left else ""))
        s.buf = s.buf + chunk if s.buf else chunk
        replies = s.take_replies()
        while replies is not None:
            self.on_replies(s, replies)
            # normally nothing is left: the server answers only what was sent
            replies = s.take_replies() if s.buf and s.state != DONE else None

    # -- loop ---------------------------------------------------------------------------------
    def open_sessions(self) -> None:
        for i in range(self.sessions):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            rc = sock.connect_ex((HOST, self.port))
            if rc not in (0, errno.EINPROGRESS):
                sock.close()
                raise Failure(1, f"pipeclient: connect to 127.0.0.1:{self.port} (session {i + 1}): "
                                 f"{os.strerror(rc)}")
            s = Session(i + 1, sock)
            # the greeting makes it readable; a failed connect too (recv then raises)
            self.sel.register(sock, selectors.EVENT_READ, s)
            self.active += 1

    def run(self) -> int:
        self.open_sessions()
        select = self.sel.select
        monotonic = time.monotonic
        while self.active > 0:
            left = self.deadline - monotonic()
            if left <= 0:
                raise Failure(3, f"pipeclient: 127.0.0.1:{self.port}: timeout after {self.timeout:.0f}s, "
                                 f"{self.accepted}/{self.total} messages accepted, {self.active} sessions open")
            for key, mask in select(min(left, 1.0)):
                s = key.data
                if mask & selectors.EVENT_WRITE and s.out:
                    self.flush(s)
                if mask & selectors.EVENT_READ:
                    self.on_readable(s)
        if self.accepted != self.total:
            raise Failure(1, f"pipeclient: 127.0.0.1:{self.port}: only {self.accepted}/{self.total} "
                             f"messages accepted")
        return 0


def main() -> int:
    ap = argparse.ArgumentParser(description="pipelining SMTP load client (RFC 2920) for Benchmarks/perf/bench.py")
    ap.add_argument("port", type=int)
    ap.add_argument("--sessions", type=int, default=50, help="concurrent sessions (default 50)")
    ap.add_argument("--messages", type=int, default=1000, help="messages shared among the sessions")
    ap.add_argument("--recipients", type=int, default=5, help="RCPT TO per message (default 5)")
    ap.add_argument("--message-file", required=True, help="the message (LF or CRLF line endings)")
    ap.add_argument("--timeout", type=float, default=120.0, help="global bound in seconds (exit 3)")
    try:
        args = ap.parse_args()
    except SystemExit as e:
        return 64 if e.code else 0
    if args.sessions < 1 or args.messages < 0 or args.recipients < 1:
        print("pipeclient: --sessions and --recipients must be >= 1, --messages >= 0", file=sys.stderr)
        return 64
    try:
        payload = load_message(args.message_file)
    except OSError as e:
        print(f"pipeclient: {args.message_file}: {e.strerror}", file=sys.stderr)
        return 64
    client = Client(args.port, args.sessions, args.messages, args.recipients, payload, args.timeout)
    try:
        return client.run()
    except Failure as f:
        print(str(f), file=sys.stderr, flush=True)
        return f.status


if __name__ == "__main__":
    sys.exit(main())
