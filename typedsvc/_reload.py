"""``typedsvc run --reload``: serve in a child process, started again when a source changes.

For development. It needs the ``watchfiles`` package (``pip install "typedsvc[reload]"``).
A child that fails (a definition mistake, a syntax error) is not fatal: the reloader waits
for the next change. A port of 0 is picked once, so the service keeps its address.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import socket
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any, Final

from typedsvc._load import CommandError

LOGGER: Final = logging.getLogger("typedsvc")
# How long a child has to drain before it is killed: a developer is waiting.
_STOP_SECONDS: Final = 5.0


def watchfiles_module() -> Any:
    try:
        return importlib.import_module("watchfiles")
    except ImportError:
        raise CommandError(
            '--reload needs the watchfiles package; install it with "pip install '
            '\'typedsvc[reload]\'" (or "pip install watchfiles").'
        ) from None


def free_port(host: str) -> int:
    """A port nothing listens on now, for a child that must keep it across restarts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class Reloader:
    """Runs ``command`` and runs it again whenever a Python file under ``root`` changes."""

    def __init__(self, command: Sequence[str], root: Path, watchfiles: Any) -> None:
        self._command = list(command)
        self._root = root
        self._watchfiles = watchfiles
        self._stop = asyncio.Event()
        self._child: asyncio.subprocess.Process | None = None
        self._restarting = False
        self._reports: set[asyncio.Task[None]] = set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._on_signal, signum)
        LOGGER.info("watching %s for changes", self._root)
        # It logs each batch of changes; the restart line says which files.
        logging.getLogger("watchfiles").setLevel(logging.WARNING)
        try:
            await self._start()
            changes = self._watchfiles.awatch(
                self._root, watch_filter=self._watchfiles.PythonFilter(), stop_event=self._stop
            )
            async for changed in changes:
                paths = sorted({str(PurePath(path).relative_to(self._root)) for _, path in changed})
                LOGGER.info("%s changed: restarting", ", ".join(paths))
                self._restarting = True
                await self._end(signal.SIGTERM)
                self._restarting = False
                await self._start()
            return await self._end(None)
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    async def _start(self) -> None:
        child = self._child = await asyncio.create_subprocess_exec(
            *self._command, start_new_session=True, stdin=asyncio.subprocess.DEVNULL
        )
        report = asyncio.ensure_future(self._report(child))
        self._reports.add(report)
        report.add_done_callback(self._reports.discard)

    async def _report(self, child: asyncio.subprocess.Process) -> None:
        """Say so when the service ends by itself: a mistake the next change may fix."""
        code = await child.wait()
        if not self._restarting and not self._stop.is_set():
            LOGGER.warning("the service exited with status %d; waiting for a change", code)

    async def _end(self, signum: int | None) -> int:
        """Stop the child (or wait for it, when it was sent the signal already)."""
        child = self._child
        if child is None:
            return 0
        if child.returncode is not None:
            return child.returncode
        if signum is not None:
            child.send_signal(signum)
        try:
            async with asyncio.timeout(_STOP_SECONDS):
                return await child.wait()
        except TimeoutError:
            child.kill()
            return await child.wait()

    def _on_signal(self, signum: int) -> None:
        LOGGER.info("%s received", signal.Signals(signum).name)
        self._stop.set()
        child = self._child
        if child is not None and child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)
