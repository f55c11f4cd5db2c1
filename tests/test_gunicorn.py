"""typedsvc.gunicorn_app under a real gunicorn with aiohttp's worker."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Final

import aiohttp
import pytest
from aiohttp import web
from served import TIMEOUT, write

import typedsvc

GUNICORN: Final = str(Path(sys.executable).parent / "gunicorn")
SHOP: Final = r"""
    import os
    import sys

    from aiohttp import web

    import typedsvc


    class Shop(typedsvc.Service):
        async def _start_service(self) -> None:
            print(f"hook _start_service {os.getpid()}", file=sys.stderr, flush=True)

        async def _started_service(self) -> None:
            print(f"hook _started_service {os.getpid()}", file=sys.stderr, flush=True)

        async def _stop_service(self) -> None:
            print(f"hook _stop_service {os.getpid()}", file=sys.stderr, flush=True)

        @typedsvc.http("GET", r"/items/(?P<item_id>\d+)")
        async def get_item(self, request: web.Request, item_id: int) -> str:
            return f"item {item_id}"
"""
LISTENING: Final = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


class Gunicorn:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output = ""

    async def wait_for(self, pattern: re.Pattern[str], count: int = 1) -> list[re.Match[str]]:
        assert self.process.stderr is not None
        async with asyncio.timeout(TIMEOUT):
            while len(found := list(pattern.finditer(self.output))) < count:
                line = await self.process.stderr.readline()
                assert line, f"gunicorn ended:\n{self.output}"
                self.output += line.decode()
        return found


@pytest.fixture
async def gunicorn(tmp_path: Path) -> AsyncGenerator[Gunicorn]:
    write(tmp_path / "shop.py", SHOP)
    process = await asyncio.create_subprocess_exec(
        GUNICORN,
        'typedsvc:gunicorn_app("shop:Shop")',
        "--worker-class",
        "aiohttp.GunicornWebWorker",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        "2",
        "--no-control-socket",
        cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    served = Gunicorn(process)
    try:
        yield served
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_gunicorn_serves_a_service_in_each_worker(gunicorn: Gunicorn) -> None:
    (listening,) = await gunicorn.wait_for(LISTENING)
    hooks = await gunicorn.wait_for(re.compile(r"^hook _started_service (\d+)$", re.M), count=2)
    started = await gunicorn.wait_for(re.compile(r"^hook _start_service (\d+)$", re.M), count=2)
    assert {match[1] for match in hooks} == {match[1] for match in started}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{listening[1]}/items/7") as response,
    ):
        assert (response.status, await response.text()) == (200, "item 7")
        assert response.headers["Server"] == "typedsvc"
    gunicorn.process.send_signal(signal.SIGTERM)
    await gunicorn.wait_for(re.compile(r"^hook _stop_service \d+$", re.M), count=2)
    async with asyncio.timeout(TIMEOUT):
        assert await gunicorn.process.wait() == 0


def test_gunicorn_app_takes_a_class_too() -> None:
    class Shop(typedsvc.Service):
        @typedsvc.http("GET", r"/health")
        async def health(self, request: web.Request) -> str:
            return "ok"

    factory = typedsvc.gunicorn_app(Shop)
    app = asyncio.run(factory())
    assert isinstance(app, web.Application)


@pytest.mark.parametrize(
    ("spec", "kind", "message"),
    [
        pytest.param(
            "shop",
            ValueError,
            'gunicorn_app() takes "module:ServiceClass", got "shop".',
            id="no-colon",
        ),
        pytest.param(
            "typedsvc:Nope",
            ValueError,
            'gunicorn_app("typedsvc:Nope"): module "typedsvc" has no "Nope".',
            id="missing",
        ),
        pytest.param(
            "typedsvc:Options",
            TypeError,
            "gunicorn_app() takes a typedsvc.Service subclass, got Options.",
            id="not-a-service",
        ),
    ],
)
def test_gunicorn_app_errors(spec: str, kind: type[Exception], message: str) -> None:
    with pytest.raises(kind, match=f"^{re.escape(message)}$"):
        typedsvc.gunicorn_app(spec)
