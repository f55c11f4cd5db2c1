"""The ``typedsvc`` command as a real subprocess: serving, overrides, one-line errors, stopping."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Final

import aiohttp
import pytest
from served import PYTHON_M, TIMEOUT, Start, write

import typedsvc
from typedsvc._errors import group_without_parameter
from typedsvc._serve import listening_url

EXAMPLE: Final = Path(__file__).resolve().parent.parent / "examples" / "http_service.py"
CONSOLE_SCRIPT: Final = (str(Path(sys.executable).parent / "typedsvc"),)
LAUNCHERS: Final = [
    pytest.param(PYTHON_M, id="python-m"),
    pytest.param(CONSOLE_SCRIPT, id="console-script"),
]

SLOW_SERVICE: Final = r"""
    import asyncio
    import sys

    from aiohttp import web

    import typedsvc
    from typedsvc import HttpOptions, Options


    class Slow(typedsvc.Service):
        name = "slow"
        options = Options(http=HttpOptions(host="127.0.0.1", port=0))

        async def _start_service(self) -> None:
            print("hook _start_service", file=sys.stderr, flush=True)

        async def _started_service(self) -> None:
            print("hook _started_service", file=sys.stderr, flush=True)

        async def _stopping_service(self) -> None:
            print("hook _stopping_service", file=sys.stderr, flush=True)

        async def _stop_service(self) -> None:
            print("hook _stop_service", file=sys.stderr, flush=True)

        @typedsvc.http("GET", r"/slow/(?P<n>\d+)")
        async def slow(self, request: web.Request, n: int) -> str:
            # The test waits for this line to know the request reached the handler.
            print(f"started {n}", file=sys.stderr, flush=True)
            await asyncio.sleep(1)
            return f"done {n}"
"""


def run_cli(
    *args: str, cwd: Path, command: Sequence[str] = PYTHON_M
) -> subprocess.CompletedProcess[str]:
    """Run the command to completion; ``subprocess.run`` kills it when the timeout passes."""
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        yield session


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str, str | None]:
    """Status, body and Server header of a GET."""
    async with session.get(url) as response:
        return response.status, await response.text(), response.headers.get("Server")


@pytest.mark.parametrize("command", LAUNCHERS)
def test_cli_version_prints_package_version(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = run_cli("--version", cwd=tmp_path, command=command)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"typedsvc {typedsvc.__version__}\n",
        "",
    )


def test_cli_without_command_prints_help_and_exits_2(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: typedsvc ")
    assert "run" in result.stderr


# The problem details of a url group that does not convert, as the client reads them.
ITEMS_ABC: Final = (
    '{"type":"about:blank","title":"Bad Request","status":400,'
    '"detail":"url parameter \\"item_id\\" must be int, got \'abc\'.",'
    '"errors":[{"in":"path","name":"item_id",'
    '"message":"url parameter \\"item_id\\" must be int, got \'abc\'."}]}'
)
EXAMPLES: Final = {
    "/resource/abc": (200, "id = abc", "typedsvc"),
    "/resource/abc/": (200, "id = abc", "typedsvc"),
    "/items/7": (200, "item 7 of 8 items", "typedsvc"),
    "/items/abc": (400, ITEMS_ABC, "typedsvc"),
    "/health": (200, "Healthy", "typedsvc"),
    "/missing": (404, "error 404", "typedsvc"),
}


async def test_run_serves_example(start: Start, session: aiohttp.ClientSession) -> None:
    served = await start(str(EXAMPLE), "--port", "0")
    [(name, host, port)] = await served.listening()
    assert (name, host) == ("http-example", "127.0.0.1")
    base = f"http://127.0.0.1:{port}"
    answers = [await get(session, base + path) for path in EXAMPLES]
    assert answers == list(EXAMPLES.values())


async def test_run_host_and_port_override_options(
    tmp_path: Path, start: Start, session: aiohttp.ClientSession
) -> None:
    # Default options: 0.0.0.0:9700, which the flags replace.
    path = write(
        tmp_path / "plain.py",
        """
        from aiohttp import web

        import typedsvc


        class Plain(typedsvc.Service):
            @typedsvc.http("GET", r"/ping")
            async def ping(self, request: web.Request) -> str:
                return "pong"
        """,
    )
    port = free_port()
    served = await start(str(path), "--host", "127.0.0.1", "--port", str(port))
    assert await served.listening() == [("Plain", "127.0.0.1", port)]
    assert await get(session, f"http://127.0.0.1:{port}/ping") == (200, "pong", "typedsvc")


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:9700"),
        ("::1", "http://[::1]:9700"),
        ("::", "http://[::]:9700"),
    ],
)
def test_run_logs_a_url_for_every_address(host: str, url: str) -> None:
    # Servers in tests bind to 127.0.0.1 only: the IPv6 form is checked without a server.
    assert listening_url(host, 9700) == url


async def test_run_serves_every_service_of_a_file(
    tmp_path: Path, start: Start, session: aiohttp.ClientSession
) -> None:
    path = write(
        tmp_path / "two.py",
        """
        from aiohttp import web

        import typedsvc
        from typedsvc import HttpOptions, Options

        LOCAL = Options(http=HttpOptions(host="127.0.0.1", port=0))


        class First(typedsvc.Service):
            options = LOCAL

            @typedsvc.http("GET", r"/who")
            async def who(self, request: web.Request) -> str:
                return "first"


        class Second(typedsvc.Service):
            options = LOCAL

            @typedsvc.http("GET", r"/who")
            async def who(self, request: web.Request) -> str:
                return "second"
        """,
    )
    served = await start(str(path))
    listening = await served.listening(2)
    assert [(name, host) for name, host, _ in listening] == [
        ("First", "127.0.0.1"),
        ("Second", "127.0.0.1"),
    ]
    answers = [await get(session, f"http://127.0.0.1:{port}/who") for _, _, port in listening]
    assert answers == [(200, "first", "typedsvc"), (200, "second", "typedsvc")]


@pytest.mark.parametrize("command", LAUNCHERS)
async def test_run_imports_dotted_module_from_cwd(
    tmp_path: Path, start: Start, session: aiohttp.ClientSession, command: tuple[str, ...]
) -> None:
    write(tmp_path / "shop" / "__init__.py", "")
    write(
        tmp_path / "shop" / "api.py",
        """
        from aiohttp import web

        import typedsvc


        class Shop(typedsvc.Service):
            name = "shop"

            @typedsvc.http("GET", r"/where")
            async def where(self, request: web.Request) -> str:
                return __name__
        """,
    )
    served = await start("shop.api", "--host", "127.0.0.1", "--port", "0", command=command)
    [(name, _, port)] = await served.listening()
    assert name == "shop"
    assert await get(session, f"http://127.0.0.1:{port}/where") == (200, "shop.api", "typedsvc")


TWO_SERVICES: Final = """
    import typedsvc


    class A(typedsvc.Service):
        pass


    class B(typedsvc.Service):
        pass
"""

BAD_GROUP: Final = r"""
    from aiohttp import web

    import typedsvc


    class Users(typedsvc.Service):
        @typedsvc.http("GET", r"/users/(?P<user_id>\d+)")
        async def get_user(self, request: web.Request) -> str:
            return "user"
"""


@pytest.mark.parametrize(
    ("source", "args", "message"),
    [
        pytest.param(None, (), 'cannot find "{target}": no such file.', id="missing-file"),
        pytest.param(
            "x = (\n", (), "\"{target}\", line 1: '(' was never closed.", id="syntax-error"
        ),
        pytest.param(
            "x = [1 2]\n",
            (),
            '"{target}", line 1: invalid syntax. Perhaps you forgot a comma?',
            id="syntax-error-ending-in-question-mark",
        ),
        pytest.param(
            BAD_GROUP,
            (),
            group_without_parameter("Users.get_user", r"/users/(?P<user_id>\d+)", "user_id"),
            id="definition-error",
        ),
        pytest.param(
            "import typedsvc\n\nRATIO = 1 / 0\n",
            (),
            'importing "{target}" failed: ZeroDivisionError: division by zero '
            '("{target}", line 3).',
            id="exception-at-import",
        ),
        pytest.param(
            "import typedsvc\n",
            (),
            '"{target}" defines no typedsvc.Service subclass.',
            id="no-service",
        ),
        pytest.param(
            TWO_SERVICES,
            ("--port", "0"),
            '--port needs a file with one service; "{target}" defines 2 (A, B).',
            id="port-with-two-services",
        ),
        pytest.param(
            TWO_SERVICES,
            (),
            '"A" and "B" both listen on port 9700; give each service a port of its own '
            "(HttpOptions(port=...)).",
            id="two-services-one-port",
        ),
    ],
)
def test_run_bad_file_exits_2_with_one_line(
    tmp_path: Path, source: str | None, args: tuple[str, ...], message: str
) -> None:
    target = tmp_path / "service.py"
    if source is not None:
        write(target, source)
    result = run_cli("run", str(target), *args, cwd=tmp_path)
    expected = "typedsvc: error: " + message.replace("{target}", str(target)) + "\n"
    assert (result.returncode, result.stderr, result.stdout) == (2, expected, "")


@pytest.mark.parametrize("command", ["openapi", "routes", "check"])
def test_cli_output_to_a_reader_that_stops_early_ends_without_a_traceback(
    tmp_path: Path, command: str
) -> None:
    # `typedsvc openapi app.py | head -5`: head leaves before the rest is written.
    with subprocess.Popen(
        [*PYTHON_M, command, str(EXAMPLE)],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        process.stdout.close()
        _, stderr = process.communicate(timeout=TIMEOUT)
    assert (process.returncode, stderr) == (1, b"")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param("./app", 'cannot find "./app": no such file, and no module of that name.'),
        pytest.param("", 'cannot find "": no such file, and no module of that name.'),
        pytest.param(".", 'cannot import ".": a directory; name a Python file or a module.'),
    ],
)
def test_run_target_that_is_no_file_and_no_module_name_exits_2(
    tmp_path: Path, target: str, message: str
) -> None:
    result = run_cli("run", target, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, f"typedsvc: error: {message}\n")


def test_run_non_python_file_exits_2_with_one_line(tmp_path: Path) -> None:
    target = write(tmp_path / "service.txt", "not python\n")
    result = run_cli("run", str(target), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        f'typedsvc: error: cannot import "{target}": not a Python file.\n',
    )


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        pytest.param(
            None,
            "no_such_package.service",
            'cannot find "no_such_package.service": no such file, and no module of that name.',
            id="unknown-module",
        ),
        pytest.param(
            "import no_such_dependency\n",
            "app",
            "importing \"app\" failed: ModuleNotFoundError: No module named 'no_such_dependency' "
            '("{dir}/app.py", line 1).',
            id="missing-dependency",
        ),
        pytest.param(
            "import serv\n",
            "services",
            "importing \"services\" failed: ModuleNotFoundError: No module named 'serv' "
            '("{dir}/services.py", line 1).',
            id="missing-dependency-sharing-a-prefix",
        ),
        pytest.param(
            "import typedsvc\n\nRATIO = 1 / 0\n",
            "app",
            'importing "app" failed: ZeroDivisionError: division by zero ("{dir}/app.py", line 3).',
            id="exception-at-import",
        ),
        pytest.param(
            BAD_GROUP,
            "app",
            group_without_parameter("Users.get_user", r"/users/(?P<user_id>\d+)", "user_id"),
            id="definition-error",
        ),
    ],
)
def test_run_bad_module_exits_2_with_one_line(
    tmp_path: Path, source: str | None, target: str, message: str
) -> None:
    if source is not None:
        write(tmp_path / f"{target}.py", source)
    result = run_cli("run", target, cwd=tmp_path)
    expected = "typedsvc: error: " + message.replace("{dir}", str(tmp_path)) + "\n"
    assert (result.returncode, result.stderr, result.stdout) == (2, expected, "")


@pytest.mark.skipif(
    importlib.util.find_spec("uvloop") is not None, reason="uvloop is installed here"
)
def test_run_uvloop_without_package_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli("run", str(EXAMPLE), "--loop", "uvloop", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        "typedsvc: error: --loop uvloop needs the uvloop package; "
        'install it with "pip install uvloop".\n',
    )


async def connection_refused(port: int) -> bool:
    """Whether connecting to ``port`` is refused, trying until it is or a second has passed."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except ConnectionRefusedError:
                    return True
                # The listening socket closes just after the log line; try again.
                writer.close()
                await writer.wait_closed()
                await asyncio.sleep(0.01)
    return False


IN_FLIGHT = 50


async def test_run_sigterm_drains_requests_in_flight(
    tmp_path: Path, start: Start, session: aiohttp.ClientSession
) -> None:
    served = await start(str(write(tmp_path / "slow.py", SLOW_SERVICE)))
    port = await served.port()
    requests = [
        asyncio.create_task(get(session, f"http://127.0.0.1:{port}/slow/{n}"))
        for n in range(IN_FLIGHT)
    ]
    try:
        await served.wait_for_lines(re.compile(r"^started \d+$"), count=IN_FLIGHT)
        served.send_signal(signal.SIGTERM)
        await served.wait_for_lines(re.compile("stopping: no new connections"))
        assert await connection_refused(port)
        # Refused while the handlers still sleep: the listening socket closes first.
        assert not any(request.done() for request in requests)
        async with asyncio.timeout(TIMEOUT):
            answers = await asyncio.gather(*requests)
    finally:
        for request in requests:
            request.cancel()
    assert answers == [(200, f"done {n}", "typedsvc") for n in range(IN_FLIGHT)]
    assert await served.wait_exit() == 0
    assert "Traceback" not in served.stderr
    assert served.lines[-1].endswith("INFO typedsvc: stopped")


async def test_run_sigint_stops_idle_server(start: Start) -> None:
    served = await start(str(EXAMPLE), "--port", "0")
    await served.port()
    served.send_signal(signal.SIGINT)
    assert await served.wait_exit() == 0
    assert "Traceback" not in served.stderr
    assert [line.partition(" INFO ")[2] for line in served.lines[-3:]] == [
        "typedsvc: SIGINT received",
        "typedsvc: stopping: no new connections, waiting for requests in flight",
        "typedsvc: stopped",
    ]


async def test_run_second_signal_exits_1_without_draining(
    tmp_path: Path, start: Start, session: aiohttp.ClientSession
) -> None:
    served = await start(str(write(tmp_path / "slow.py", SLOW_SERVICE)))
    port = await served.port()
    request = asyncio.create_task(get(session, f"http://127.0.0.1:{port}/slow/1"))
    try:
        await served.wait_for_lines(re.compile(r"^started 1$"))
        served.send_signal(signal.SIGTERM)
        await served.wait_for_lines(re.compile("stopping: no new connections"))
        served.send_signal(signal.SIGTERM)
        assert await served.wait_exit() == 1
        # Cut off; aiohttp retries a GET once, and the retry is refused.
        with pytest.raises(aiohttp.ClientError):
            await request
    finally:
        request.cancel()
    assert "WARNING typedsvc: SIGTERM again: exiting without waiting" in served.stderr
    assert "Traceback" not in served.stderr
    assert "ERROR" not in served.stderr


def test_run_port_in_use_exits_1_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("run", str(EXAMPLE), "--port", str(port), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        1,
        f'typedsvc: error: "http-example" cannot listen on 127.0.0.1:{port}: '
        "Address already in use.\n",
    )


@pytest.mark.parametrize("port", ["70000", "-1", "x"])
def test_run_port_out_of_range_exits_2(tmp_path: Path, port: str) -> None:
    result = run_cli("run", str(EXAMPLE), "--port", port, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.endswith(
        f"typedsvc run: error: argument --port: {port!r} is not a port from 0 to 65535\n"
    )


async def test_run_lifecycle_hooks_run_in_order_and_the_drain_closes_connections(
    tmp_path: Path, start: Start, session: aiohttp.ClientSession
) -> None:
    served = await start(str(write(tmp_path / "slow.py", SLOW_SERVICE)))
    port = await served.port()

    async def connection_header() -> str | None:
        async with session.get(f"http://127.0.0.1:{port}/slow/1") as response:
            await response.read()
            return response.headers.get("Connection")

    request = asyncio.create_task(connection_header())
    try:
        await served.wait_for_lines(re.compile(r"^started 1$"))
        served.send_signal(signal.SIGTERM)
        async with asyncio.timeout(TIMEOUT):
            assert await request == "close"
    finally:
        request.cancel()
    assert await served.wait_exit() == 0
    hooks = [line for line in served.lines if line.startswith("hook ")]
    assert hooks == [
        "hook _start_service",
        "hook _started_service",
        "hook _stopping_service",
        "hook _stop_service",
    ]


def test_run_failing_start_service_exits_1(tmp_path: Path) -> None:
    target = write(
        tmp_path / "failing.py",
        """
        import typedsvc

        class Failing(typedsvc.Service):
            async def _start_service(self) -> None:
                raise RuntimeError("no database")
        """,
    )
    result = run_cli("run", str(target), "--port", "0", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.endswith(
        'typedsvc: error: "Failing" failed in _start_service: RuntimeError: no database\n'
    )
    assert 'ERROR typedsvc: "Failing" failed in _start_service' in result.stderr


def with_grace(grace: float, sleep: float) -> str:
    """SLOW_SERVICE with ``termination_grace_period_seconds=grace`` and handlers that take
    ``sleep`` seconds."""
    source = SLOW_SERVICE.replace(
        'HttpOptions(host="127.0.0.1", port=0)',
        f'HttpOptions(host="127.0.0.1", port=0, termination_grace_period_seconds={grace})',
    ).replace("await asyncio.sleep(1)", f"await asyncio.sleep({sleep})")
    assert f"termination_grace_period_seconds={grace}" in source
    return source


async def test_run_cancels_what_outlasts_the_grace_period(
    tmp_path: Path, start: Start, session: aiohttp.ClientSession
) -> None:
    served = await start(str(write(tmp_path / "slow.py", with_grace(1.0, 30))))
    port = await served.port()
    request = asyncio.create_task(get(session, f"http://127.0.0.1:{port}/slow/1"))
    try:
        await served.wait_for_lines(re.compile(r"^started 1$"))
        served.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        assert await served.wait_exit() == 0
        # The grace period, not twice it: a supervisor kills what outlasts its own.
        assert 0.9 < time.monotonic() - signalled < 1.9
        with pytest.raises(aiohttp.ClientError):
            await request
    finally:
        request.cancel()
    assert 'WARNING typedsvc: "Slow.slow" was cancelled before it answered.' in served.stderr
    assert "hook _stop_service" in served.lines


async def test_run_lets_a_request_use_the_whole_grace_period(
    tmp_path: Path, start: Start, session: aiohttp.ClientSession
) -> None:
    served = await start(str(write(tmp_path / "slow.py", with_grace(1.0, 0.7))))
    port = await served.port()
    request = asyncio.create_task(get(session, f"http://127.0.0.1:{port}/slow/1"))
    try:
        await served.wait_for_lines(re.compile(r"^started 1$"))
        served.send_signal(signal.SIGTERM)
        async with asyncio.timeout(TIMEOUT):
            assert await request == (200, "done 1", "typedsvc")
    finally:
        request.cancel()
    assert await served.wait_exit() == 0
