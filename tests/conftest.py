"""Fixtures: serve a Service on 127.0.0.1 through aiohttp's test utilities or ``typedsvc run``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from served import Start, starting

import typedsvc

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[[typedsvc.Service], Awaitable[Client]]


@pytest.fixture
async def serve() -> AsyncIterator[MakeClient]:
    """Serve a service with ``create_app`` on a free port of 127.0.0.1; returns a client."""
    clients: list[Client] = []

    async def make(service: typedsvc.Service) -> Client:
        client = TestClient(TestServer(typedsvc.create_app(service), host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    """Start ``typedsvc run ARGS...`` in ``tmp_path``; every process is stopped at teardown."""
    async with starting(tmp_path) as start_:
        yield start_


async def problem(response: ClientResponse) -> dict[str, object]:
    """The RFC 9457 problem details of an error response (its Content-Type checked)."""
    assert response.headers["Content-Type"] == "application/problem+json"
    body: dict[str, object] = await response.json(content_type="application/problem+json")
    return body
