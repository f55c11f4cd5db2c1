"""``typedsvc run --reload``: a child started again on each change, on the same port."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Final

import aiohttp
from served import TIMEOUT, Start, write
from test_cli import free_port, run_cli

SERVICE: Final = r"""
    from aiohttp import web

    import typedsvc
    from typedsvc import HttpOptions, Options


    class Versioned(typedsvc.Service):
        options = Options(http=HttpOptions(host="127.0.0.1", port=0, access_log=False))

        @typedsvc.http("GET", r"/version")
        async def version(self, request: web.Request) -> str:
            return "one"
"""


async def text(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return await response.text()


async def test_reload_restarts_on_a_change_and_waits_out_a_mistake(
    tmp_path: Path, start: Start
) -> None:
    source = write(tmp_path / "versioned.py", SERVICE)
    served = await start(str(source), "--reload")
    port = await served.port()
    url = f"http://127.0.0.1:{port}/version"
    assert await text(url) == "one"

    source.write_text(source.read_text().replace('"one"', '"two"'))
    await served.wait_for_lines(re.compile(r"INFO typedsvc: versioned.py changed: restarting$"))
    await served.wait_for_lines(re.compile(r'"Versioned" listening on http://127.0.0.1:(\d+)$'), 2)
    # Port 0 was picked once: the service keeps its address.
    assert await served.port() == port
    assert await text(url) == "two"

    source.write_text(source.read_text().replace('r"/version"', 'r"/version/(?P<n>\\d+)"'))
    await served.wait_for_lines(
        re.compile(r"WARNING typedsvc: the service exited with status 2; waiting for a change$")
    )
    assert 'typedsvc: error: "Versioned.version": url group "n"' in served.stderr
    source.write_text(source.read_text().replace('r"/version/(?P<n>\\d+)"', 'r"/version"'))
    await served.wait_for_lines(re.compile(r'"Versioned" listening on http://127.0.0.1:(\d+)$'), 3)
    assert await text(url) == "two"

    # A class renamed: the child serves it, on a port of its own (port 0 in its options).
    source.write_text(source.read_text().replace("class Versioned", "class Renamed"))
    pattern = re.compile(r'"Renamed" listening on http://127.0.0.1:(\d+)$')
    [listening] = await served.wait_for_lines(pattern)
    assert await text(f"http://127.0.0.1:{listening[1]}/version") == "two"

    served.send_signal(signal.SIGINT)
    assert await served.wait_exit() == 0


async def test_reload_follows_a_port_the_file_changes(tmp_path: Path, start: Start) -> None:
    first, second = free_port(), free_port()
    source = write(tmp_path / "versioned.py", SERVICE.replace("port=0", f"port={first}"))
    served = await start(str(source), "--reload")
    assert await served.port() == first
    source.write_text(source.read_text().replace(f"port={first}", f"port={second}"))
    pattern = re.compile(rf'"Versioned" listening on http://127.0.0.1:{second}$')
    await served.wait_for_lines(pattern)
    assert await text(f"http://127.0.0.1:{second}/version") == "one"
    served.send_signal(signal.SIGINT)
    assert await served.wait_exit() == 0


def test_reload_without_watchfiles_says_how_to_install_it(tmp_path: Path) -> None:
    write(tmp_path / "versioned.py", SERVICE)
    # As if it were not installed: an import of None fails.
    code = (
        "import sys; sys.modules['watchfiles'] = None; from typedsvc._cli import main; "
        "main(['run', 'versioned.py', '--reload'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert (result.returncode, result.stderr) == (
        2,
        'typedsvc: error: --reload needs the watchfiles package; install it with "pip install '
        '\'typedsvc[reload]\'" (or "pip install watchfiles").\n',
    )


def test_reload_with_workers_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "versioned.py", SERVICE)
    result = run_cli("run", "versioned.py", "--reload", "--workers", "2", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        "typedsvc: error: --reload runs one process, for development; leave out --workers.\n",
    )
