"""CPU and memory accounting from Linux's /proc: who used the cores while something was measured, a
process's peak memory, and waiting for a quiet machine before timing."""

from __future__ import annotations

import os
import time
from pathlib import Path


def cpu_by_process() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used so far) for every process."""
    tick = os.sysconf("SC_CLK_TCK")
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it just ended
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "; [1] parent, [11] and [12] CPU time
        processes[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return processes


def process_tree(processes: dict[int, tuple[int, float]], root: int) -> set[int]:
    """`root` and every process below it."""
    tree, grew = {root}, True
    while grew:
        children = {pid for pid, (parent, _) in processes.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return tree


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by `root` and every process below it."""
    processes = cpu_by_process()
    return sum(processes[pid][1] for pid in process_tree(processes, root))


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def memory_bytes(pid: int) -> int:
    """Resident memory of process `pid` now."""
    return 1024 * _status_kb(pid, "VmRSS")


def reset_peak_memory(pid: int) -> None:
    """Start measuring process `pid`'s peak resident memory afresh (Linux's clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_memory_bytes(pid: int) -> int:
    """Peak resident memory of process `pid` since it started or since `reset_peak_memory`."""
    return 1024 * _status_kb(pid, "VmHWM")


def idle_share(seconds: float = 2.0) -> float:
    """Share of all CPUs idle over the next `seconds` (/proc/stat)."""

    def read() -> tuple[int, int]:
        ticks = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return ticks[3] + ticks[4], sum(ticks)  # idle + iowait, all

    idle_before, total_before = read()
    time.sleep(seconds)
    idle_after, total_after = read()
    return (idle_after - idle_before) / max(1, total_after - total_before)


def wait_for_idle_cpus(limit_s: float = 60.0, idle: float = 0.9) -> bool:
    """Wait until the machine is quiet (another tenant's burst would land on one side only); False
    when it did not get quiet within `limit_s`."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if idle_share() >= idle:
            return True
    return False
