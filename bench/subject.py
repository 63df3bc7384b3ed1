"""The two processes the benchmark compares, each started as its own child process on the same doubles."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Subject:
    """A program under measurement: ``python -m <module>`` with some extra environment."""

    name: str
    module: str


PROJECT_BOT = Subject("today's bot", "bot")
PLAIN_POLLER = Subject("plain 2 s poller", "bench.plain_poller")


class SubjectProcess:
    """One running subject; its output goes to files in ``workdir`` (shown when it fails)."""

    def __init__(self, subject: Subject, env: dict[str, str], workdir: Path) -> None:
        self.subject = subject
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{subject.module}.log"
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the subject was never started")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.workdir),
            "PYTHONPATH": str(REPO_ROOT),
            **self.env,
        }
        with self.log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                self.subject.module,
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=log,
            )

    async def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM, then SIGKILL if it does not stop within ``timeout_s``."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(timeout_s):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()

    def output_tail(self, chars: int = 3000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-chars:]
