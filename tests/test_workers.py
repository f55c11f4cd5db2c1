"""``typedsvc run --workers N``: processes sharing a port, restarted, stopped together."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from typing import Final

import aiohttp
import pytest
from served import TIMEOUT, Served, Start, write
from test_cli import run_cli

from typedsvc._workers import reuse_port_problem

needs_reuse_port = pytest.mark.skipif(reuse_port_problem() is not None, reason="no SO_REUSEPORT")

WORKER_SERVICE: Final = r"""
    import asyncio
    import os

    from aiohttp import web

    import typedsvc
    from typedsvc import HttpOptions, Options


    def say(line: str) -> None:
        # One write per line: two workers share stderr, and print() writes the line and its
        # end apart, which the other worker's line can come between.
        os.write(2, f"{line}\n".encode())


    class Pids(typedsvc.Service):
        options = Options(http=HttpOptions(host="127.0.0.1", port=0, access_log=False))

        async def _start_service(self) -> None:
            say(f"hook _start_service {os.getpid()}")

        async def _stop_service(self) -> None:
            say(f"hook _stop_service {os.getpid()}")

        @typedsvc.http("GET", r"/pid")
        async def pid(self, request: web.Request) -> str:
            return str(os.getpid())

        @typedsvc.http("GET", r"/slow")
        async def slow(self, request: web.Request) -> str:
            say(f"slow {os.getpid()}")
            await asyncio.sleep(1)
            return str(os.getpid())

        @typedsvc.http("POST", r"/exit")
        async def exit(self, request: web.Request) -> str:
            os._exit(3)
"""


async def two_workers(tmp_path: Path, start: Start) -> tuple[Served, int]:
    """``typedsvc run --workers 2`` of the service above, once both listen; and its port."""
    served = await start(str(write(tmp_path / "pids.py", WORKER_SERVICE)), "--workers", "2")
    await served.wait_for_lines(re.compile(r"INFO typedsvc: 2 workers serving$"))
    return served, await served.port()


async def pids(port: int, count: int) -> set[str]:
    """The pids that answered ``count`` requests, each on a connection of its own."""
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        answers: list[str] = []
        for _ in range(count):
            async with session.get(f"http://127.0.0.1:{port}/pid") as response:
                answers.append(await response.text())
    return set(answers)


@needs_reuse_port
async def test_workers_share_the_port_and_each_runs_the_hooks(tmp_path: Path, start: Start) -> None:
    served, port = await two_workers(tmp_path, start)
    listening = await served.wait_for_lines(
        re.compile(r"\[worker (\d)\] INFO typedsvc: \"Pids\" listening on http://127.0.0.1:(\d+)$"),
        count=2,
    )
    assert sorted((match[1], int(match[2])) for match in listening) == [("1", port), ("2", port)]
    hooks = await served.wait_for_lines(re.compile(r"^hook _start_service (\d+)$"), count=2)
    # The kernel spreads connections over both workers' sockets.
    answered = await pids(port, 40)
    assert answered == {match[1] for match in hooks}
    assert str(served.process.pid) not in answered

    served.send_signal(signal.SIGTERM)
    assert await served.wait_exit() == 0
    assert len(re.findall(r"^hook _stop_service \d+$", served.stderr, re.MULTILINE)) == 2
    assert served.lines[-1].endswith("INFO typedsvc: stopped")


@needs_reuse_port
async def test_a_worker_that_dies_is_restarted_with_a_logged_delay(
    tmp_path: Path, start: Start
) -> None:
    served, port = await two_workers(tmp_path, start)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await session.post(f"http://127.0.0.1:{port}/exit")
    (died,) = await served.wait_for_lines(
        re.compile(
            r"WARNING typedsvc: worker (\d) \(pid \d+\) exited with status 3; "
            r"restarting it in 0.5s$"
        )
    )
    await served.wait_for_lines(
        re.compile(rf"INFO typedsvc: worker {died[1]} restarted \(pid \d+\)$")
    )
    assert len(await pids(port, 40)) == 2
    served.send_signal(signal.SIGTERM)
    assert await served.wait_exit() == 0


@needs_reuse_port
async def test_sigterm_drains_every_worker(tmp_path: Path, start: Start) -> None:
    served, port = await two_workers(tmp_path, start)
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def slow() -> tuple[int, str]:
            async with session.get(f"http://127.0.0.1:{port}/slow") as response:
                return response.status, await response.text()

        requests = [asyncio.ensure_future(slow()) for _ in range(20)]
        started = await served.wait_for_lines(re.compile(r"^slow (\d+)$"), count=20)
        assert len({match[1] for match in started}) == 2
        served.send_signal(signal.SIGTERM)
        async with asyncio.timeout(TIMEOUT):
            answers = await asyncio.gather(*requests)
    assert {status for status, _ in answers} == {200}
    assert await served.wait_exit() == 0
    assert served.stderr.count("stopping: no new connections") == 2


@needs_reuse_port
async def test_a_second_signal_makes_the_workers_leave_at_once(
    tmp_path: Path, start: Start
) -> None:
    served, port = await two_workers(tmp_path, start)
    async with aiohttp.ClientSession() as session:
        request = asyncio.ensure_future(session.get(f"http://127.0.0.1:{port}/slow"))
        await served.wait_for_lines(re.compile(r"^slow \d+$"))
        served.send_signal(signal.SIGINT)
        await served.wait_for_lines(re.compile("SIGINT received: stopping the workers"))
        served.send_signal(signal.SIGINT)
        assert await served.wait_exit() == 1
        request.cancel()
    assert "WARNING typedsvc: SIGINT again: the workers exit without waiting" in served.stderr


@needs_reuse_port
async def test_a_worker_that_fails_to_start_stops_them_all(tmp_path: Path, start: Start) -> None:
    source = WORKER_SERVICE.replace(
        'say(f"hook _start_service {os.getpid()}")',
        'raise ConnectionError("no database")',
    )
    served = await start(str(write(tmp_path / "pids.py", source)), "--workers", "2")
    assert await served.wait_exit() == 1
    assert 'typedsvc: error: "Pids" failed in _start_service: ConnectionError: no database' in (
        served.stderr
    )
    assert re.search(
        r"ERROR typedsvc: worker \d failed to start \(status 1\): stopping", served.stderr
    )
    assert "restarting" not in served.stderr


@needs_reuse_port
async def test_a_stop_signal_while_the_workers_start_stops_them_cleanly(
    tmp_path: Path, start: Start
) -> None:
    source = WORKER_SERVICE.replace(
        'say(f"hook _start_service {os.getpid()}")',
        'say(f"hook _start_service {os.getpid()}"); await asyncio.sleep(30)',
    )
    served = await start(str(write(tmp_path / "pids.py", source)), "--workers", "2")
    await served.wait_for_lines(re.compile(r"^hook _start_service \d+$"), count=2)
    served.send_signal(signal.SIGTERM)
    # Each worker cuts its start short (well before the hook's 60 s run out), which is no
    # failure to start: the stop was asked for.
    async with asyncio.timeout(TIMEOUT):
        assert await served.wait_exit() == 0
    assert served.stderr.count("INFO typedsvc: stopping before the start has finished") == 2
    assert "failed to start" not in served.stderr
    assert served.lines[-1].endswith("INFO typedsvc: stopped")


@needs_reuse_port
async def test_a_stop_signal_while_the_workers_import_stops_them_cleanly(
    tmp_path: Path, start: Start
) -> None:
    # The workers are stopped before they can catch the signal (the parent imported the
    # file without waiting: it has no --worker argument).
    slow_import = """
    import sys
    import time

    if "--worker" in sys.argv:
        say("importing")
        time.sleep(30)
    """
    served = await start(
        str(write(tmp_path / "pids.py", WORKER_SERVICE + slow_import)), "--workers", "2"
    )
    await served.wait_for_lines(re.compile(r"^importing$"), count=2)
    served.send_signal(signal.SIGTERM)
    async with asyncio.timeout(TIMEOUT):
        assert await served.wait_exit() == 0
    assert "failed to start" not in served.stderr
    assert served.lines[-1].endswith("INFO typedsvc: stopped")


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_workers_must_be_a_positive_number_or_auto(tmp_path: Path, workers: str) -> None:
    result = run_cli("run", "x.py", "--workers", workers, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.endswith(
        f"typedsvc run: error: argument --workers: {workers!r} is not a number of workers "
        "(1 or more, or auto)\n"
    )


@needs_reuse_port
async def test_workers_auto_starts_one_per_cpu(tmp_path: Path, start: Start) -> None:
    served = await start(str(write(tmp_path / "pids.py", WORKER_SERVICE)), "--workers", "auto")
    count = os.cpu_count() or 1
    if count == 1:
        await served.port()
    else:
        await served.wait_for_lines(re.compile(rf"INFO typedsvc: {count} workers serving$"))
    served.send_signal(signal.SIGTERM)
    assert await served.wait_exit() == 0


@needs_reuse_port
def test_a_definition_error_stops_before_any_worker(tmp_path: Path) -> None:
    source = WORKER_SERVICE.replace('r"/pid")', 'r"/pid/(?P<n>\\d+)")')
    write(tmp_path / "pids.py", source)
    result = run_cli("run", "pids.py", "--workers", "2", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith('typedsvc: error: "Pids.pid": url group "n"')
    assert "worker" not in result.stderr


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_workers_elsewhere_than_linux_say_what_to_do(
    monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    assert reuse_port_problem() == (
        f"--workers needs SO_REUSEPORT load balancing, which {platform} lacks; run one process "
        "per port behind a proxy, or use gunicorn (see the README)."
    )
