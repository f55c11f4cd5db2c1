"""get_forwarded_remote_ip: the proxy header is believed only from trusted peers."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from conftest import MakeClient

import typedsvc
from typedsvc import HttpOptions, Options


def service_with(options: HttpOptions) -> typedsvc.Service:
    class Echo(typedsvc.Service):
        @typedsvc.http("GET", r"/ip")
        async def ip(self, request: web.Request) -> str:
            return str(typedsvc.get_forwarded_remote_ip(request))

    Echo.options = Options(http=options)
    return Echo()


@pytest.mark.parametrize(
    ("options", "headers", "expected"),
    [
        pytest.param(
            HttpOptions(),
            {"X-Forwarded-For": "203.0.113.7"},
            "127.0.0.1",
            id="untrusted-by-default",
        ),
        pytest.param(
            HttpOptions(real_ip_from=("127.0.0.1",)),
            {"X-Forwarded-For": "203.0.113.7, 10.0.0.1"},
            "203.0.113.7",
            id="trusted-peer-first-entry",
        ),
        pytest.param(
            HttpOptions(real_ip_from=("10.0.0.0/8", "127.0.0.0/8")),
            {"X-Forwarded-For": "203.0.113.7"},
            "203.0.113.7",
            id="trusted-network",
        ),
        pytest.param(
            HttpOptions(real_ip_from=("10.0.0.0/8",)),
            {"X-Forwarded-For": "203.0.113.7"},
            "127.0.0.1",
            id="peer-outside-networks",
        ),
        pytest.param(
            HttpOptions(real_ip_from=("127.0.0.1",), real_ip_header="X-Real-IP"),
            {"X-Real-IP": "2001:DB8::1", "X-Forwarded-For": "203.0.113.7"},
            "2001:db8::1",
            id="other-header-ipv6",
        ),
        pytest.param(
            HttpOptions(real_ip_from=("127.0.0.1",)),
            {"X-Forwarded-For": "unknown, 203.0.113.7"},
            "127.0.0.1",
            id="not-an-address",
        ),
        pytest.param(HttpOptions(real_ip_from=("127.0.0.1",)), {}, "127.0.0.1", id="no-header"),
    ],
)
async def test_get_forwarded_remote_ip(
    serve: MakeClient, options: HttpOptions, headers: dict[str, str], expected: str
) -> None:
    client = await serve(service_with(options))
    response = await client.get("/ip", headers=headers)
    assert await response.text() == expected


async def test_get_forwarded_remote_ip_outside_typedsvc_is_the_peer() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=str(typedsvc.get_forwarded_remote_ip(request)))

    app = web.Application()
    app.router.add_get("/ip", handler)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/ip", headers={"X-Forwarded-For": "203.0.113.7"})
        assert await response.text() == "127.0.0.1"


async def test_access_log_names_the_forwarded_client(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="typedsvc.access")
    client = await serve(service_with(HttpOptions(real_ip_from=("127.0.0.1",))))
    await (await client.get("/ip", headers={"X-Forwarded-For": "203.0.113.7"})).read()
    lines: list[str] = []
    for _ in range(100):
        lines = [r.getMessage() for r in caplog.records if r.name == "typedsvc.access"]
        if lines:
            break
        await asyncio.sleep(0.01)
    assert lines[0].startswith('203.0.113.7 "GET /ip" 200 ')
