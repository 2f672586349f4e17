"""What /proc says about a group of processes: CPU time, resident memory, the process tree.

CPU of a process tree is counted so that it never goes backwards when a worker exits: the sum
over the live members of utime+stime plus their cutime+cstime (the CPU of children they have
already reaped). Postfix's master reaps its smtpd processes, nginx's master its workers, so a
worker that exits between two snapshots still counts in the difference.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'
    rest = text.rsplit(")", 1)[1].split()
    return rest  # rest[0] is state (field 3)


def ppid_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        f = _stat_fields(int(entry))
        if f is None:
            continue
        children.setdefault(int(f[1]), []).append(int(entry))
    return children


def tree(root: int, children: dict[int, list[int]] | None = None) -> list[int]:
    """root and all its descendants (bounded walk)."""
    if children is None:
        children = ppid_map()
    out, todo = [], [root]
    for _ in range(100000):
        if not todo:
            break
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_ticks(pids: list[int]) -> int:
    """utime+stime+cutime+cstime summed over pids (clock ticks)."""
    total = 0
    for pid in pids:
        f = _stat_fields(pid)
        if f is None:
            continue
        # fields 14-17 (1-based) are utime stime cutime cstime; rest[0] is field 3
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return total


def tree_cpu_seconds(roots: list[int]) -> float:
    children = ppid_map()
    pids: set[int] = set()
    for r in roots:
        pids.update(tree(r, children))
    return cpu_ticks(sorted(pids)) / CLK_TCK


def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rollup_kb(pid: int) -> tuple[int, int]:
    """(Rss, Pss) in kB from /proc/PID/smaps_rollup."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss


def tree_pids(roots: list[int]) -> list[int]:
    children = ppid_map()
    pids: set[int] = set()
    for r in roots:
        pids.update(tree(r, children))
    return sorted(pids)


def tree_hwm_kb(roots: list[int]) -> int:
    """Sum of VmHWM over the live processes of the trees."""
    return sum(status_kb(p, "VmHWM") for p in tree_pids(roots))


def tree_rss_pss_kb(roots: list[int]) -> tuple[int, int]:
    rss = pss = 0
    for p in tree_pids(roots):
        r, s = rollup_kb(p)
        rss += r
        pss += s
    return rss, pss


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    vals = [int(v) for v in first[:8]]
    idle = vals[3] + vals[4]
    total = sum(vals)
    return (total - idle) / CLK_TCK, total / CLK_TCK


def reset_hwm(pid: int) -> None:
    """Reset VmHWM to the current RSS (writing 5 to clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


class MemorySampler:
    """Samples the summed Rss and Pss of process trees every `interval` seconds in a thread;
    `stop()` returns the peaks in kB. Bounded: at most max_samples samples."""

    def __init__(self, roots: list[int], interval: float = 1.0, max_samples: int = 3600):
        self.roots, self.interval, self.max_samples = roots, interval, max_samples
        self.peak_rss = self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "MemorySampler":
        self._thread.start()
        return self

    def _sample(self) -> None:
        rss, pss = tree_rss_pss_kb(self.roots)
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)

    def _run(self) -> None:
        for _ in range(self.max_samples):
            self._sample()
            if self._stop.wait(self.interval):
                break

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join(5)
        self._sample()
        return self.peak_rss, self.peak_pss
