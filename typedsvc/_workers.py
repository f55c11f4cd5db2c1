"""``typedsvc run --workers N``: N processes sharing each port, and a parent that keeps them.

Each worker is ``typedsvc run`` of its own, listening with ``SO_REUSEPORT``: the kernel
spreads new connections over the workers' sockets. The parent imports the services first
(a definition mistake stops everything before a worker starts), picks the free port of a
``port=0`` service once for all workers, starts the workers in sessions of their own, and
then:

- restarts a worker that exits, after a delay that doubles with each quick failure;
- on SIGINT or SIGTERM, forwards it once to every worker, which drains as ``typedsvc run``
  does (or cuts its start short), and exits 0 when they all did (a second signal is forwarded
  too: they leave at once).

A worker tells the parent it listens by writing to a pipe the parent gave it, so a worker
that fails at start (a port in use, a failing ``_start_service``) stops them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from typing import Final

from typedsvc._service import Service

LOGGER: Final = logging.getLogger("typedsvc")
EXIT_FAILURE: Final = 1
# A worker that ran this long before it exited starts over with the shortest delay.
_STABLE_SECONDS: Final = 10.0
_FIRST_DELAY: Final = 0.5
_LONGEST_DELAY: Final = 30.0
# Beyond each worker's own drain: how long the parent waits before it kills one.
_EXIT_MARGIN: Final = 5.0


def worker_count(text: str) -> int:
    """``--workers``: a positive number, or ``auto`` for one per CPU."""
    if text == "auto":
        return os.cpu_count() or 1
    count = int(text) if text.isdigit() else 0
    if count < 1:
        raise ValueError(text)
    return count


def reuse_port_problem() -> str | None:
    """Why several workers cannot share a port here; None when they can."""
    if not hasattr(socket, "SO_REUSEPORT") or not sys.platform.startswith(("linux", "freebsd")):
        return (
            f"--workers needs SO_REUSEPORT load balancing, which {sys.platform} lacks; run one "
            "process per port behind a proxy, or use gunicorn (see the README)."
        )
    return None


def reserve_ports(
    services: Sequence[type[Service]], host: str | None, port: int | None
) -> tuple[dict[str, int], list[socket.socket]]:
    """Each service's port, a free one picked for ``port=0``, and the sockets that hold them.

    A socket bound with SO_REUSEPORT but not listening keeps its port from being taken by
    another program while the workers (re)start, and takes no connection of theirs.
    """
    ports: dict[str, int] = {}
    held: list[socket.socket] = []
    for service in services:
        options = service.options.http
        chosen = port if port is not None else options.port
        if chosen == 0:
            address = host if host is not None else options.host
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((address, 0))
            held.append(sock)
            chosen = sock.getsockname()[1]
        ports[service.__name__] = chosen
    return ports, held


class _Worker:
    """One worker slot: its process, and how often it failed lately."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.process: asyncio.subprocess.Process | None = None
        self.failures = 0
        self.started = 0.0


class Supervisor:
    """Starts ``count`` workers running ``command`` and keeps them until a stop signal."""

    def __init__(self, command: Sequence[str], count: int, drain_seconds: float) -> None:
        self._command = list(command)
        self._workers = [_Worker(index) for index in range(1, count + 1)]
        self._drain_seconds = drain_seconds
        self._stop = asyncio.Event()
        self._signals = 0
        self._first_signal = 0

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._on_signal, signum)
        try:
            started = await asyncio.gather(*(self._start(worker) for worker in self._workers))
            failed = [
                (w, code)
                for w, code in zip(self._workers, started, strict=True)
                if code is not None
            ]
            if failed and not self._stop.is_set():
                worker, code = failed[0]
                LOGGER.error("worker %d failed to start (status %d): stopping", worker.index, code)
                self._forward(signal.SIGTERM)
                await self._wait_all()
                return code if code > 0 else EXIT_FAILURE
            if not self._stop.is_set():
                LOGGER.info("%d workers serving", len(self._workers))
                await self._keep()
            codes = await self._wait_all()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
        # A worker the signal reached before it could catch it had not started serving.
        clean = self._signals == 1 and all(code in (0, -self._first_signal) for code in codes)
        LOGGER.info("stopped")
        return 0 if clean else EXIT_FAILURE

    async def _start(self, worker: _Worker) -> int | None:
        """Start a worker; None once it listens, its exit status if it ends before."""
        read_end, write_end = os.pipe()
        try:
            worker.process = await asyncio.create_subprocess_exec(
                *self._command,
                "--worker",
                str(worker.index),
                "--ready-fd",
                str(write_end),
                pass_fds=(write_end,),
                # Its own session: a Ctrl-C in the terminal reaches the parent alone, which
                # forwards it once.
                start_new_session=True,
                stdin=asyncio.subprocess.DEVNULL,
            )
        finally:
            os.close(write_end)
        worker.started = time.monotonic()
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            # A byte when it listens; end of file when it exits first.
            ready = await asyncio.to_thread(pipe.read, 1)
        if ready:
            return None
        return await worker.process.wait()

    async def _keep(self) -> None:
        """Restart workers that exit until a stop signal arrives."""
        waits = {self._wait(worker): worker for worker in self._workers}
        stopped = asyncio.ensure_future(self._stopped())
        while not self._stop.is_set():
            done, _ = await asyncio.wait([*waits, stopped], return_when=asyncio.FIRST_COMPLETED)
            for finished in done:
                worker = waits.pop(finished, None)
                if worker is None:
                    continue
                if not self._stop.is_set():
                    await self._restart(worker, finished.result())
                waits[self._wait(worker)] = worker
        for pending in waits:
            pending.cancel()

    async def _stopped(self) -> int:
        await self._stop.wait()
        return 0

    def _wait(self, worker: _Worker) -> asyncio.Future[int]:
        assert worker.process is not None
        return asyncio.ensure_future(worker.process.wait())

    async def _restart(self, worker: _Worker, code: int) -> None:
        while not self._stop.is_set():
            if time.monotonic() - worker.started >= _STABLE_SECONDS:
                worker.failures = 0
            worker.failures += 1
            delay = min(_FIRST_DELAY * 2 ** (worker.failures - 1), _LONGEST_DELAY)
            assert worker.process is not None
            LOGGER.warning(
                "worker %d (pid %d) exited with status %d; restarting it in %gs",
                worker.index,
                worker.process.pid,
                code,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            if self._stop.is_set():
                return
            failed = await self._start(worker)
            if failed is None:
                LOGGER.info("worker %d restarted (pid %d)", worker.index, worker.process.pid)
                return
            code = failed

    async def _wait_all(self) -> list[int]:
        """Every worker's exit status; one that outlasts its drain is killed."""
        codes: list[int] = []
        for worker in self._workers:
            if worker.process is None:
                continue
            try:
                async with asyncio.timeout(self._drain_seconds + _EXIT_MARGIN):
                    codes.append(await worker.process.wait())
            except TimeoutError:
                LOGGER.error("worker %d did not stop: killing it", worker.index)
                with contextlib.suppress(ProcessLookupError):
                    worker.process.kill()
                codes.append(await worker.process.wait())
        return codes

    def _on_signal(self, signum: int) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals == 1:
            self._first_signal = signum
            LOGGER.info("%s received: stopping the workers", name)
        else:
            LOGGER.warning("%s again: the workers exit without waiting", name)
        self._stop.set()
        self._forward(signum)

    def _forward(self, signum: int) -> None:
        for worker in self._workers:
            process = worker.process
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signum)
