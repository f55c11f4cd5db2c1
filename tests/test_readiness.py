"""HttpOptions(readiness_url=...): 200 while serving, 503 from the stop signal to the drain."""

from __future__ import annotations

import logging
import re
import signal
from pathlib import Path
from typing import Final

import aiohttp
import pytest
from aiohttp import web
from conftest import MakeClient
from served import TIMEOUT, Start, write

import typedsvc
from typedsvc import HttpOptions, Options

READY_SERVICE: Final = r"""
    from aiohttp import web

    import typedsvc
    from typedsvc import HttpOptions, Options


    class Probed(typedsvc.Service):
        options = Options(
            http=HttpOptions(
                host="127.0.0.1",
                port=0,
                keepalive_timeout=5,
                readiness_url="/ready",
                stop_delay_seconds=STOP_DELAY,
            )
        )

        @typedsvc.http("GET", r"/work")
        async def work(self, request: web.Request) -> str:
            return "worked"
"""


class Probed(typedsvc.Service):
    options = Options(http=HttpOptions(readiness_url="/ready"))

    @typedsvc.http("GET", r"/work")
    async def work(self, request: web.Request) -> str:
        return "worked"


async def test_readiness_answers_200_while_serving_and_is_not_logged(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve(Probed())
    with caplog.at_level(logging.INFO, logger="typedsvc.access"):
        response = await client.get("/ready")
        head = await client.head("/ready")
        await client.get("/work")
    assert (response.status, await response.text()) == (200, "ready")
    assert response.headers["Cache-Control"] == "no-store"
    assert head.status == 200
    # Probes come every few seconds: only the request to /work is in the access log.
    assert [record.getMessage().split('"')[1] for record in caplog.records] == ["GET /work"]


async def test_readiness_is_off_by_default(serve: MakeClient) -> None:
    class Plain(typedsvc.Service):
        @typedsvc.http("GET", r"/work")
        async def work(self, request: web.Request) -> str:
            return "worked"

    client = await serve(Plain())
    assert (await client.get("/ready")).status == 404


async def test_readiness_turns_503_at_the_stop_signal_and_serves_until_the_delay_ends(
    tmp_path: Path, start: Start
) -> None:
    source = READY_SERVICE.replace("STOP_DELAY", "1.5")
    served = await start(str(write(tmp_path / "probed.py", source)))
    port = await served.port()
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        async with session.get(f"{base}/ready") as response:
            assert (response.status, await response.text()) == (200, "ready")
        served.send_signal(signal.SIGTERM)
        await served.wait_for_lines(re.compile(r"stopping: not ready; serving 1.5s more"))
        # A new connection each, as a balancer's health check makes them.
        async with aiohttp.ClientSession() as fresh, fresh.get(f"{base}/ready") as response:
            assert (response.status, await response.text()) == (503, "stopping")
            assert response.headers["Cache-Control"] == "no-store"
        async with aiohttp.ClientSession() as fresh, fresh.get(f"{base}/work") as response:
            assert (response.status, await response.text()) == (200, "worked")
        await served.wait_for_lines(re.compile("stopping: no new connections"))
    assert await served.wait_exit() == 0
    logged = [line.partition(" INFO ")[2] for line in served.lines]
    assert [line for line in logged if line.startswith("typedsvc: ")][-4:] == [
        "typedsvc: SIGTERM received",
        "typedsvc: stopping: not ready; serving 1.5s more before the drain",
        "typedsvc: stopping: no new connections, waiting for requests in flight",
        "typedsvc: stopped",
    ]
    # The request served during the delay is logged; the probe's 503 is not.
    assert 'typedsvc.access: 127.0.0.1 "GET /work" 200' in served.stderr
    assert '"GET /ready"' not in served.stderr
