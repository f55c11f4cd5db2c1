"""Fixtures: serve a Service on 127.0.0.1 through aiohttp's test utilities."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

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
