"""CPU time and peak memory of a process, as Linux itself counts them (``/proc/<pid>/stat``, ``status``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcessUsage:
    """CPU seconds spent so far (user and system) and the resident set's high-water mark in bytes."""

    user_s: float
    system_s: float
    peak_rss_bytes: int

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.system_s


def parse_cpu_ticks(stat_text: str) -> tuple[int, int]:
    """``utime`` and ``stime`` (clock ticks) from the text of ``/proc/<pid>/stat``.

    The command name (field 2) is in parentheses and may hold spaces or parentheses itself, so fields are
    counted from the last ``)``.
    """
    after_name = stat_text[stat_text.rindex(")") + 2 :].split()
    # after_name[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(after_name[11]), int(after_name[12])


def parse_peak_rss(status_text: str) -> int:
    """``VmHWM`` in bytes from the text of ``/proc/<pid>/status``."""
    for line in status_text.splitlines():
        if line.startswith("VmHWM:"):
            amount, unit = line.split()[1:3]
            if unit != "kB":
                raise ValueError(f"unexpected VmHWM unit {unit!r}")
            return int(amount) * 1024
    raise ValueError("no VmHWM line (is this a kernel thread or a zombie?)")


def usage(pid: int) -> ProcessUsage:
    """The process's usage now; it must still be running (not yet reaped)."""
    ticks = os.sysconf("SC_CLK_TCK")
    user, system = parse_cpu_ticks((PROC / str(pid) / "stat").read_text())
    peak = parse_peak_rss((PROC / str(pid) / "status").read_text())
    return ProcessUsage(user / ticks, system / ticks, peak)
