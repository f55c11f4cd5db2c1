"""Lifecycle hooks and the JSON access log, through aiohttp's test server."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

import typedsvc
from typedsvc import HttpOptions, Options


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


def test_access_log_option_rejects_an_empty_path() -> None:
    with pytest.raises(
        ValueError, match=r"^HttpOptions.access_log must be True, False or a file path\.$"
    ):
        HttpOptions(access_log="")
