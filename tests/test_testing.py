"""typedsvc.testing.serve and the typedsvc_client pytest fixture, serving real services."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Final

import aiohttp
import pytest
from aiohttp import web
from served import TIMEOUT

import typedsvc
from typedsvc import Query, url_for
from typedsvc.testing import ClientFactory, serve

ROOT: Final = Path(__file__).resolve().parent.parent


class Shop(typedsvc.Service):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.slow_started = asyncio.Event()

    async def _start_service(self) -> None:
        self.events.append("start")

    async def _started_service(self) -> None:
        self.events.append("started")

    async def _stopping_service(self) -> None:
        self.events.append("stopping")

    async def _stop_service(self) -> None:
        self.events.append("stop")

    @typedsvc.http("GET", r"/items/(?P<item_id>\d+)")
    async def get_item(self, request: web.Request, item_id: int, q: Query[str] = "") -> str:
        return f"{item_id} {q}"

    @typedsvc.http("POST", r"/login")
    async def login(self, request: web.Request) -> web.Response:
        response = web.Response(text="in")
        response.set_cookie("session", "s1")
        return response

    @typedsvc.http("GET", r"/me")
    async def me(self, request: web.Request, session: typedsvc.Cookie[str] = "none") -> str:
        return session

    @typedsvc.http("GET", r"/slow/(?P<seconds>[\d.]+)")
    async def slow(self, request: web.Request, seconds: float) -> str:
        self.slow_started.set()
        await asyncio.sleep(seconds)
        return "done"


async def test_serve_runs_the_lifecycle_around_the_block() -> None:
    shop = Shop()
    async with serve(shop) as client:
        assert shop.events == ["start", "started"]
        assert client.service is shop
        response = await client.get(url_for(Shop.get_item, item_id=7, q="a b"))
        assert (response.status, await response.text()) == (200, "7 a b")
        assert client.url("/items/1?q=x") == client.base_url / "items" / "1" % {"q": "x"}
    assert shop.events == ["start", "started", "stopping", "stop"]
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session:
            await session.get(client.url("/items/1"))


async def test_serve_drains_requests_in_flight_when_the_block_ends() -> None:
    shop = Shop()
    # A client of its own: leaving the block closes the served one's session.
    async with aiohttp.ClientSession() as outside:
        async with serve(shop) as client:
            pending = asyncio.ensure_future(outside.get(client.url("/slow/0.3")))
            await shop.slow_started.wait()
        # Leaving the block waited for the request in flight before stopping.
        assert pending.done()
        response = await pending
        assert (response.status, await response.text()) == (200, "done")
    assert shop.events[-2:] == ["stopping", "stop"]


async def test_serve_keeps_cookies_the_service_sets() -> None:
    async with serve(Shop()) as client:
        await client.post("/login")
        assert await (await client.get("/me")).text() == "s1"


async def test_serve_request_timeout_bounds_each_request() -> None:
    async with serve(Shop(), request_timeout=0.1) as client:
        with pytest.raises(TimeoutError):
            await client.get("/slow/2")


async def test_serve_a_failing_start_hook_propagates_as_it_is() -> None:
    class Broken(typedsvc.Service):
        async def _start_service(self) -> None:
            raise ConnectionError("no database")

    with pytest.raises(ConnectionError, match=r"^no database$"):
        async with serve(Broken()):
            pytest.fail("the block must not run")


async def test_typedsvc_client_fixture_serves_for_the_test(typedsvc_client: ClientFactory) -> None:
    first = await typedsvc_client(Shop())
    second = await typedsvc_client(Shop())
    assert first.port != second.port
    assert await (await second.get("/items/2")).text() == "2 "


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_the_readme_test_file_runs_with_the_installed_plugin(tmp_path: Path, mode: str) -> None:
    # No conftest: the fixture comes from the pytest11 entry point of the installed package.
    (tmp_path / "pytest.ini").write_text(
        f"[pytest]\nasyncio_mode = {mode}\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(tmp_path / "pytest.ini"),
            "--rootdir",
            str(ROOT / "examples"),
            str(ROOT / "examples" / "test_json_api.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 6,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
