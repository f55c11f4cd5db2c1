"""``typedsvc run`` as a real subprocess, for the tests that need a server of its own."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncGenerator, Awaitable, Generator, Sequence
from pathlib import Path
from typing import Final, Protocol

import pytest

# Every wait on a subprocess, a log line or a response is bounded by this many seconds.
TIMEOUT: Final = 10.0
PYTHON_M: Final = (sys.executable, "-m", "typedsvc")
LISTENING: Final = re.compile(
    r'INFO typedsvc: "(?P<name>[^"]+)" listening on http://(?P<host>[^:]+):(?P<port>\d+)$',
    re.MULTILINE,
)


def write(path: Path, source: str) -> Path:
    """Write dedented ``source`` to ``path``, creating its directory; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


class Served:
    """A running ``typedsvc run`` process and every line it has written to stderr."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read(process.stderr))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        # Read to the end, so the server never blocks on a full pipe.
        async for raw in stream:
            self.lines.append(raw.decode().rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_lines(self, pattern: re.Pattern[str], count: int = 1) -> list[re.Match[str]]:
        """The first ``count`` stderr lines that match ``pattern``, waiting for them if needed."""
        matches: list[re.Match[str]] = []
        seen = 0
        try:
            async with asyncio.timeout(TIMEOUT):
                while True:
                    for line in self.lines[seen:]:
                        if (match := pattern.search(line)) is not None:
                            matches.append(match)
                    if len(matches) >= count:
                        return matches[:count]
                    seen = len(self.lines)
                    if self._reader.done():
                        break
                    await asyncio.sleep(0.01)
        except TimeoutError:
            pass
        pytest.fail(
            f"expected {count} stderr line(s) matching {pattern.pattern!r}, "
            f"got {len(matches)}; stderr:\n{self.stderr}"
        )

    async def listening(self, count: int = 1) -> list[tuple[str, str, int]]:
        """(service name, host, port) of the first ``count`` services that listen."""
        matches = await self.wait_for_lines(LISTENING, count)
        return [(match["name"], match["host"], int(match["port"])) for match in matches]

    async def port(self) -> int:
        [(_, _, port)] = await self.listening()
        return port

    async def wait_exit(self) -> int:
        """The exit status, once the process has ended and stderr is read to the end."""
        try:
            async with asyncio.timeout(TIMEOUT):
                status = await self.process.wait()
                await self._reader
        except TimeoutError:
            pytest.fail(f"typedsvc did not exit within {TIMEOUT} s; stderr:\n{self.stderr}")
        return status

    def send_signal(self, signum: int) -> None:
        if self.process.returncode is None:
            # It may have exited without being reaped yet.
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)

    async def reap(self) -> None:
        """Wait for the process to end, killing it if it is still running after a while."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(TIMEOUT / 2):
                await self.process.wait()
        self.send_signal(signal.SIGKILL)
        await self.wait_exit()


class Start(Protocol):
    """What ``starting()`` and the ``start`` fixture give: ``await start(*args, command=...)``."""

    def __call__(self, *args: str, command: Sequence[str] = ...) -> Awaitable[Served]: ...


@contextlib.asynccontextmanager
async def starting(tmp_path: Path) -> AsyncGenerator[Start]:
    """Start ``typedsvc run ARGS...`` in ``tmp_path``; every process is stopped on the way out."""
    started: list[Served] = []

    async def start_(*args: str, command: Sequence[str] = PYTHON_M) -> Served:
        process = await asyncio.create_subprocess_exec(
            *command,
            "run",
            *args,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        served = Served(process)
        started.append(served)
        return served

    yield start_
    # SIGTERM first, so that a process run under coverage still writes its data.
    for served in started:
        served.send_signal(signal.SIGTERM)
    for served in started:
        await served.reap()


@contextlib.contextmanager
def serving(target: Path, cwd: Path) -> Generator[int]:
    """``typedsvc run TARGET --port 0`` for a synchronous test: yields its port."""
    log = cwd / "typedsvc-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*PYTHON_M, "run", str(target), "--port", "0"],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
    try:
        deadline = time.monotonic() + TIMEOUT
        while (match := LISTENING.search(log.read_text(errors="replace"))) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"typedsvc run did not listen; its log:\n{log.read_text()}")
            time.sleep(0.05)
        yield int(match["port"])
    finally:
        # SIGTERM, so that a process run under coverage still writes its data.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
