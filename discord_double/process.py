"""The real bot (``python -m bot``) as a child process: start, wait, SIGTERM, SIGKILL, restart, its output."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class BotProcess:
    """One bot process at a time; stdout and stderr of every run are appended to files in ``workdir``."""

    def __init__(
        self, env: Mapping[str, str], workdir: Path, on_exit: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.env = dict(env)
        self._on_exit = on_exit
        self._watcher: asyncio.Task[None] | None = None
        self.workdir = workdir
        self.stdout_path = workdir / "bot-stdout.log"
        self.stderr_path = workdir / "bot-stderr.log"
        self._process: asyncio.subprocess.Process | None = None
        self.runs = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        if self.running:
            raise RuntimeError("the bot is already running")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.workdir),
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        self.runs += 1
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            banner = f"--- run {self.runs} ---\n".encode()
            out.write(banner)
            err.write(banner)
            out.flush()
            err.flush()
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=self.workdir, env=env, stdout=out, stderr=err
            )
        self._watcher = asyncio.create_task(self._watch(self._process), name="bot-process-watch")

    async def _watch(self, process: asyncio.subprocess.Process) -> None:
        await process.wait()
        if self._on_exit is not None:
            await self._on_exit()

    async def wait(self, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        """Wait for the process to end and return its exit code."""
        if self._process is None:
            raise RuntimeError("the bot was never started")
        async with asyncio.timeout(timeout):
            return await self._process.wait()

    async def terminate(self, timeout: float = 20.0) -> int:  # noqa: ASYNC109
        """SIGTERM (a clean stop); return the exit code. Escalates to SIGKILL after ``timeout``."""
        if self._process is None:
            raise RuntimeError("the bot was never started")
        if self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
        try:
            return await self.wait(timeout)
        except TimeoutError:
            await self.kill9()
            raise

    async def kill9(self) -> int:
        """SIGKILL: the process dies without any chance to tidy up."""
        if self._process is None:
            raise RuntimeError("the bot was never started")
        if self._process.returncode is None:
            self._process.kill()
        return await self._process.wait()

    async def restart(self, *, clean: bool = False) -> None:
        """Stop the bot (SIGTERM when ``clean``, else SIGKILL) and start a new process on the same store."""
        if self.running:
            await (self.terminate() if clean else self.kill9())
        await self.start()

    def output(self) -> str:
        """Everything the bot printed so far, stdout then stderr."""
        parts = []
        for name, path in (("stdout", self.stdout_path), ("stderr", self.stderr_path)):
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"===== bot {name} =====\n{text}")
        return "\n".join(parts)
