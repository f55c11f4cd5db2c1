"""Fixtures: serve a Service on 127.0.0.1 in the test's process or with ``typedsvc run``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientResponse
from served import Start, starting

import typedsvc
import typedsvc.testing

Client = typedsvc.testing.Client[typedsvc.Service]
MakeClient = typedsvc.testing.ClientFactory


@pytest.fixture
def serve(typedsvc_client: MakeClient) -> MakeClient:
    """Serve a service on a free port of 127.0.0.1 for the test: typedsvc's own fixture."""
    return typedsvc_client


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
