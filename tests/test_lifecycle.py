"""Lifecycle hooks and the JSON access log.

Served through aiohttp's test server, ``typedsvc.testing`` and a real ``typedsvc run``: hooks
that hang are cut short, and a second stop signal ends ``typedsvc run`` at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
from pathlib import Path
from typing import Final

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from rawhttp import exchange
from served import TIMEOUT, Served, Start, write

import typedsvc
import typedsvc.testing
from typedsvc import HttpOptions, Options
from typedsvc._errors import LifecycleHookTimeoutError
from typedsvc._service import LifecycleHook


class Recorded(typedsvc.Service):
    def __init__(self) -> None:
        self.events: list[str] = []

    async def _start_service(self) -> None:
        self.events.append("start")

    async def _started_service(self) -> None:
        self.events.append("started")

    async def _stopping_service(self) -> None:
        self.events.append("stopping")

    async def _stop_service(self) -> None:
        self.events.append("stop")

    @typedsvc.http("GET", r"/events")
    async def list_events(self, request: web.Request) -> str:
        return ",".join(self.events)


async def test_lifecycle_hooks_run_around_serving() -> None:
    service = Recorded()
    client = TestClient(TestServer(typedsvc.create_app(service), host="127.0.0.1"))
    await client.start_server()
    try:
        response = await client.get("/events")
        assert await response.text() == "start"
    finally:
        await client.close()
    # _started_service belongs to `typedsvc run`, which knows when it listens.
    assert service.events == ["start", "stopping", "stop"]


async def test_lifecycle_failing_start_stops_the_server_starting() -> None:
    class Failing(typedsvc.Service):
        async def _start_service(self) -> None:
            raise RuntimeError("no database")

    server = TestServer(typedsvc.create_app(Failing()), host="127.0.0.1")
    with pytest.raises(RuntimeError, match=r"^no database$"):
        await server.start_server()
    await server.close()


async def test_lifecycle_requests_in_flight_close_their_connection_when_stopping() -> None:
    class Slow(typedsvc.Service):
        options = Options(http=HttpOptions(keepalive_timeout=30))

        def __init__(self) -> None:
            self.entered = asyncio.Event()

        @typedsvc.http("GET", r"/slow")
        async def slow(self, request: web.Request) -> str:
            self.entered.set()
            await asyncio.sleep(0.3)
            return "done"

    service = Slow()
    runner = web.AppRunner(typedsvc.create_app(service), shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        await asyncio.wait_for(service.entered.wait(), 5)
        cleanup = asyncio.create_task(runner.cleanup())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        await cleanup
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nConnection: close\r\n" in head


async def test_access_log_file_gets_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "access.jsonl"

    class Logged(Recorded):
        options = Options(http=HttpOptions(access_log=str(path)))

    app = typedsvc.create_app(Logged())
    assert not path.exists()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await (await client.get("/events", headers={"User-Agent": "tester"})).read()
        await (await client.get("/missing")).read()
        for _ in range(100):
            if path.exists() and path.read_text().count("\n") >= 2:
                break
            await asyncio.sleep(0.01)
    first, second = (json.loads(line) for line in path.read_text().splitlines())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first.pop("time"))
    assert first.pop("duration_ms") >= 0
    assert first.pop("size") > 0
    assert first == {
        "remote": "127.0.0.1",
        "method": "GET",
        "path": "/events",
        "status": 200,
        "user_agent": "tester",
    }
    assert (second["path"], second["status"]) == ("/missing", 404)


async def test_access_log_file_line_for_a_header_that_is_not_utf_8(tmp_path: Path) -> None:
    path = tmp_path / "access.jsonl"

    class Logged(Recorded):
        options = Options(http=HttpOptions(access_log=str(path)))

    async with TestClient(TestServer(typedsvc.create_app(Logged()), host="127.0.0.1")) as client:
        port = client.port
        assert port is not None
        # aiohttp keeps such bytes as lone surrogates, which UTF-8 cannot encode.
        answer = await exchange(
            port, b"GET /events HTTP/1.1\r\nHost: t\r\nUser-Agent: a\xff\r\n\r\n"
        )
        assert answer.status == 200
        for _ in range(100):
            if path.exists() and path.read_text().count("\n") >= 1:
                break
            await asyncio.sleep(0.01)
    (line,) = path.read_text().splitlines()
    assert json.loads(line)["user_agent"] == "a\udcff"


def test_access_log_option_rejects_an_empty_path() -> None:
    with pytest.raises(
        ValueError, match=r"^HttpOptions.access_log must be True, False or a file path\.$"
    ):
        HttpOptions(access_log="")


ALL_HOOKS: Final = ["_start_service", "_started_service", "_stopping_service", "_stop_service"]
# A log line of `typedsvc run` without its time: "INFO typedsvc: stopped".
_LOGGED: Final = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<line>.*)$")


def exactly(message: str) -> str:
    """A ``pytest.raises(match=...)`` pattern that accepts only ``message`` itself."""
    return f"^{re.escape(message)}$"


def timed_out(hook: str, seconds: str) -> str:
    return (
        f'"Hangs" did not finish {hook} within {seconds} s (Options.lifecycle_hook_timeout_seconds)'
    )


def stderr_lines(served: Served) -> list[str]:
    """Its stderr lines, log lines without their time, the access log left out."""
    lines = [
        match["line"] if (match := _LOGGED.match(line)) is not None else line
        for line in served.lines
    ]
    return [line for line in lines if not line.startswith("INFO typedsvc.access:")]


async def fetch(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as response:
        return response.status, await response.text()


async def answer_while_stopping(served: Served) -> tuple[int, str]:
    """The answer to GET /slow, sent SIGTERM once the handler has printed "started"."""
    port = await served.port()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        request = asyncio.create_task(fetch(session, f"http://127.0.0.1:{port}/slow"))
        try:
            await served.wait_for_lines(re.compile(r"^started$"))
            served.send_signal(signal.SIGTERM)
            async with asyncio.timeout(TIMEOUT):
                return await request
        finally:
            request.cancel()


class Hangs(typedsvc.Service):
    """Notes each lifecycle hook it enters; the one named ``hangs`` never finishes."""

    options = Options(lifecycle_hook_timeout_seconds=0.2)

    def __init__(self, hangs: LifecycleHook) -> None:
        self.hangs = hangs
        self.entered: list[str] = []

    async def _enter(self, hook: LifecycleHook) -> None:
        self.entered.append(hook)
        if hook == self.hangs:
            await asyncio.Event().wait()

    async def _start_service(self) -> None:
        await self._enter("_start_service")

    async def _started_service(self) -> None:
        await self._enter("_started_service")

    async def _stopping_service(self) -> None:
        await self._enter("_stopping_service")

    async def _stop_service(self) -> None:
        await self._enter("_stop_service")


@pytest.mark.parametrize(
    ("hook", "entered"),
    [
        pytest.param("_start_service", ALL_HOOKS[:1], id="start"),
        # Listening by then, so it stops as it would at the block's end.
        pytest.param("_started_service", ALL_HOOKS, id="started"),
    ],
)
async def test_lifecycle_start_hook_that_hangs_raises_a_timeout_from_serve(
    hook: LifecycleHook, entered: list[str]
) -> None:
    service = Hangs(hook)
    message = f"{timed_out(hook, '0.2')}."
    async with asyncio.timeout(TIMEOUT):
        with pytest.raises(TimeoutError, match=exactly(message)) as raised:
            async with typedsvc.testing.serve(service):
                pytest.fail("served although a start hook hung")
    assert isinstance(raised.value, LifecycleHookTimeoutError)
    assert (raised.value.service, raised.value.hook, raised.value.seconds) == ("Hangs", hook, 0.2)
    assert service.entered == entered


@pytest.mark.parametrize("hook", ["_stopping_service", "_stop_service"])
async def test_lifecycle_stop_hook_that_hangs_is_logged_and_the_stop_goes_on(
    hook: LifecycleHook, caplog: pytest.LogCaptureFixture
) -> None:
    service = Hangs(hook)
    message = f"{timed_out(hook, '0.2')}."
    # Raised once the stop has ended, so that a test sees it.
    with (
        caplog.at_level(logging.ERROR, logger="typedsvc"),
        pytest.raises(LifecycleHookTimeoutError, match=exactly(message)),
    ):
        async with asyncio.timeout(TIMEOUT), typedsvc.testing.serve(service):
            pass
    assert service.entered == ALL_HOOKS
    [record] = [record for record in caplog.records if record.name == "typedsvc"]
    assert (record.levelname, record.getMessage(), record.exc_info) == (
        "ERROR",
        f"{timed_out(hook, '0.2')}; going on with the stop.",
        None,
    )


async def test_lifecycle_hooks_own_timeout_error_is_raised_as_it_is() -> None:
    class Impatient(typedsvc.Service):
        async def _start_service(self) -> None:
            raise TimeoutError("the database did not answer")

    async with asyncio.timeout(TIMEOUT):
        with pytest.raises(TimeoutError, match=r"^the database did not answer$") as raised:
            async with typedsvc.testing.serve(Impatient()):
                pytest.fail("served although _start_service raised")
    assert not isinstance(raised.value, LifecycleHookTimeoutError)


HANGING_START: Final = r"""
    import asyncio

    import typedsvc
    from typedsvc import HttpOptions, Options


    class Hangs(typedsvc.Service):
        options = Options(
            http=HttpOptions(host="127.0.0.1", port=0), lifecycle_hook_timeout_seconds=0.3
        )

        async def HOOK(self) -> None:
            await asyncio.sleep(30)
"""


@pytest.mark.parametrize("hook", ["_start_service", "_started_service"])
async def test_lifecycle_start_hook_that_hangs_makes_typedsvc_run_exit_1(
    tmp_path: Path, start: Start, hook: str
) -> None:
    served = await start(str(write(tmp_path / "hangs.py", HANGING_START.replace("HOOK", hook))))
    assert await served.wait_exit() == 1
    assert stderr_lines(served)[-2:] == [
        f"ERROR typedsvc: {timed_out(hook, '0.3')}; stopping.",
        f"typedsvc: error: {timed_out(hook, '0.3')}.",
    ]
    assert "Traceback" not in served.stderr


HANGING_STOP: Final = r"""
    import asyncio
    import sys

    from aiohttp import web

    import typedsvc
    from typedsvc import HttpOptions, Options


    class Hangs(typedsvc.Service):
        options = Options(
            http=HttpOptions(host="127.0.0.1", port=0), lifecycle_hook_timeout_seconds=0.3
        )

        async def _stopping_service(self) -> None:
            print("hook _stopping_service", file=sys.stderr, flush=True)
            await asyncio.sleep(30)

        async def _stop_service(self) -> None:
            print("hook _stop_service", file=sys.stderr, flush=True)
            await asyncio.sleep(30)

        @typedsvc.http("GET", r"/slow")
        async def slow(self, request: web.Request) -> str:
            print("started", file=sys.stderr, flush=True)
            await asyncio.sleep(1)
            return "done"
"""


async def test_lifecycle_stop_hooks_that_hang_are_cut_short_and_typedsvc_run_exits_1(
    tmp_path: Path, start: Start
) -> None:
    served = await start(str(write(tmp_path / "hangs.py", HANGING_STOP)))
    # Answered in the drain, which goes on once _stopping_service is cut short.
    assert await answer_while_stopping(served) == (200, "done")
    assert await served.wait_exit() == 1
    stopping, stop = timed_out("_stopping_service", "0.3"), timed_out("_stop_service", "0.3")
    lines = stderr_lines(served)
    assert lines[lines.index("INFO typedsvc: SIGTERM received") :] == [
        "INFO typedsvc: SIGTERM received",
        "INFO typedsvc: stopping: no new connections, waiting for requests in flight",
        "hook _stopping_service",
        f"ERROR typedsvc: {stopping}; going on with the stop.",
        "hook _stop_service",
        f"ERROR typedsvc: {stop}; going on with the stop.",
        "INFO typedsvc: stopped",
        f"typedsvc: error: stopped, but not cleanly: {stopping}; {stop}.",
    ]


FAILING_STOP: Final = r"""
    import asyncio
    import sys

    from aiohttp import web

    import typedsvc
    from typedsvc import HttpOptions, Options


    class Fails(typedsvc.Service):
        options = Options(http=HttpOptions(host="127.0.0.1", port=0))

        async def _stopping_service(self) -> None:
            raise RuntimeError("the registry is unreachable")

        async def _stop_service(self) -> None:
            print("hook _stop_service", file=sys.stderr, flush=True)

        @typedsvc.http("GET", r"/slow")
        async def slow(self, request: web.Request) -> str:
            print("started", file=sys.stderr, flush=True)
            await asyncio.sleep(1)
            return "done"
"""


async def test_lifecycle_stop_hook_that_fails_is_logged_and_typedsvc_run_exits_1(
    tmp_path: Path, start: Start
) -> None:
    served = await start(str(write(tmp_path / "fails.py", FAILING_STOP)))
    # The drain and the hooks after it go on.
    assert await answer_while_stopping(served) == (200, "done")
    assert await served.wait_exit() == 1
    lines = stderr_lines(served)
    failed = lines.index(
        'ERROR typedsvc: "Fails" failed in _stopping_service; going on with the stop.'
    )
    assert lines[failed + 1] == "Traceback (most recent call last):"
    assert lines[-3:] == [
        "hook _stop_service",
        "INFO typedsvc: stopped",
        'typedsvc: error: stopped, but not cleanly: "Fails" failed in _stopping_service: '
        "RuntimeError: the registry is unreachable.",
    ]


async def test_lifecycle_stop_hook_that_fails_raises_from_serve_once_stopped() -> None:
    class Fails(typedsvc.Service):
        def __init__(self) -> None:
            self.stopped = False

        async def _stopping_service(self) -> None:
            raise RuntimeError("the registry is unreachable")

        async def _stop_service(self) -> None:
            self.stopped = True

    service = Fails()
    with pytest.raises(RuntimeError, match=exactly("the registry is unreachable")):
        async with asyncio.timeout(TIMEOUT), typedsvc.testing.serve(service):
            pass
    assert service.stopped


DRAINING: Final = r"""
    import asyncio
    import sys

    from aiohttp import web

    import typedsvc
    from typedsvc import HttpOptions, Options


    class Draining(typedsvc.Service):
        options = Options(
            http=HttpOptions(host="127.0.0.1", port=0, termination_grace_period_seconds=60)
        )

        async def _stop_service(self) -> None:
            print("hook _stop_service", file=sys.stderr, flush=True)

        @typedsvc.http("GET", r"/slow")
        async def slow(self, request: web.Request) -> str:
            print("started", file=sys.stderr, flush=True)
            await asyncio.sleep(30)
            return "done"
"""


async def test_lifecycle_second_signal_in_the_drain_makes_typedsvc_run_exit_1_at_once(
    tmp_path: Path, start: Start
) -> None:
    served = await start(str(write(tmp_path / "draining.py", DRAINING)))
    port = await served.port()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        request = asyncio.create_task(fetch(session, f"http://127.0.0.1:{port}/slow"))
        try:
            await served.wait_for_lines(re.compile(r"^started$"))
            served.send_signal(signal.SIGTERM)
            await served.wait_for_lines(re.compile(r"INFO typedsvc: stopping: no new connections"))
            served.send_signal(signal.SIGTERM)
            try:
                # The drain would wait 30 s for the request; the second signal does not.
                async with asyncio.timeout(2):
                    await served.process.wait()
            except TimeoutError:
                pytest.fail(f"typedsvc run outlived a second SIGTERM; stderr:\n{served.stderr}")
            with pytest.raises(aiohttp.ClientError):
                await request
        finally:
            request.cancel()
    assert await served.wait_exit() == 1
    lines = stderr_lines(served)
    assert lines[lines.index("INFO typedsvc: SIGTERM received") :] == [
        "INFO typedsvc: SIGTERM received",
        "INFO typedsvc: stopping: no new connections, waiting for requests in flight",
        "WARNING typedsvc: SIGTERM again: exiting without waiting",
    ]


async def test_lifecycle_stop_hook_failure_does_not_hide_the_blocks_own() -> None:
    class Fails(typedsvc.Service):
        async def _stop_service(self) -> None:
            raise RuntimeError("the registry is unreachable")

    with pytest.raises(AssertionError, match=exactly("the test's own failure")):
        async with asyncio.timeout(TIMEOUT), typedsvc.testing.serve(Fails()):
            raise AssertionError("the test's own failure")


HANGING_START_OF_TWO: Final = r"""
    import asyncio
    import sys

    import typedsvc
    from typedsvc import HttpOptions, Options


    class First(typedsvc.Service):
        options = Options(
            http=HttpOptions(host="127.0.0.1", port=0), lifecycle_hook_timeout_seconds=30
        )

        async def _stopping_service(self) -> None:
            print(f"hook {self.name} _stopping_service", file=sys.stderr, flush=True)

        async def _stop_service(self) -> None:
            print(f"hook {self.name} _stop_service", file=sys.stderr, flush=True)


    class Hangs(First):
        async def HOOK(self) -> None:
            print("hook Hangs HOOK", file=sys.stderr, flush=True)
            await asyncio.sleep(30)
"""


@pytest.mark.parametrize(
    ("hook", "stopped"),
    [
        # Its start cut short, Hangs stops as after a start hook that fails: its stop hooks
        # do not run. First had started, and stops as after serving.
        pytest.param("_start_service", ["First"], id="start"),
        # Listening by then, both stop as after serving.
        pytest.param("_started_service", ["First", "Hangs"], id="started"),
    ],
)
async def test_lifecycle_stop_signal_during_a_start_hook_cancels_it_and_typedsvc_run_exits_0(
    tmp_path: Path, start: Start, hook: str, stopped: list[str]
) -> None:
    served = await start(
        str(write(tmp_path / "two.py", HANGING_START_OF_TWO.replace("HOOK", hook)))
    )
    await served.wait_for_lines(re.compile(f"^hook Hangs {hook}$"))
    served.send_signal(signal.SIGTERM)
    # Well before the hook's 30 s run out.
    async with asyncio.timeout(TIMEOUT):
        assert await served.wait_exit() == 0
    lines = stderr_lines(served)
    after = lines[lines.index("INFO typedsvc: SIGTERM received") :]
    assert after[:2] == [
        "INFO typedsvc: SIGTERM received",
        "INFO typedsvc: stopping before the start has finished",
    ]
    # The services stop side by side, so their hooks' lines interleave.
    assert sorted(after[2:-1]) == sorted(
        f"hook {name} {stop_hook}"
        for name in stopped
        for stop_hook in ("_stopping_service", "_stop_service")
    )
    assert after[-1] == "INFO typedsvc: stopped"
