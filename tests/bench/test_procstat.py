"""Reading CPU time and peak memory from /proc."""

from __future__ import annotations

import os

import pytest

from bench.procstat import parse_cpu_ticks, parse_peak_rss, usage

STAT = "4242 (python -m (bot)) S 1 4242 4242 0 -1 4194560 9000 0 0 0 1234 567 0 0 20 0 9 0 100 0 0"


def test_cpu_ticks_are_read_after_a_name_with_spaces_and_parentheses() -> None:
    assert parse_cpu_ticks(STAT) == (1234, 567)


def test_peak_memory_is_the_high_water_mark_in_bytes() -> None:
    status = "Name:\tpython\nVmPeak:\t  900000 kB\nVmHWM:\t  135168 kB\nVmRSS:\t  100000 kB\n"
    assert parse_peak_rss(status) == 135168 * 1024
    with pytest.raises(ValueError, match="VmHWM"):
        parse_peak_rss("Name:\tkthreadd\n")


def test_the_usage_of_this_process_grows_with_work_and_memory() -> None:
    before = usage(os.getpid())
    ballast = bytearray(64 * 1024 * 1024)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    sum(range(3_000_000))
    after = usage(os.getpid())
    assert after.cpu_s > before.cpu_s
    assert after.peak_rss_bytes >= max(before.peak_rss_bytes, len(ballast))
