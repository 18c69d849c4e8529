"""CPU accounting from /proc (Linux) for bench/staff_load.py: server tree and whole machine."""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: str) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # the process ended between listing and reading
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    return text[text.rindex(")") + 2 :].split()


def tree_cpu_seconds(root: int) -> dict[int, float]:
    """User + system CPU of a process and each live descendant (uvicorn's workers), by pid."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat_fields(entry)) is not None:
            parents[int(entry)] = int(fields[1])  # ppid
            cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return {pid: cpu.get(pid, 0.0) for pid in sorted(tree)}


def machine_busy_seconds() -> tuple[float, float]:
    """(CPU seconds busy on all cores, seconds since boot): their deltas give cores in use."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(value) for value in first]
    idle = ticks[3] + ticks[4]  # idle + iowait
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return (sum(ticks[:8]) - idle) / _TICK, uptime
