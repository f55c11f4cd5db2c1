"""Tests of the example JSON API, as a service's own tests are written.

Run with pytest (and pytest-asyncio): typedsvc's pytest plugin gives the typedsvc_client
fixture, which serves the service on a free port of 127.0.0.1 for one test.
"""

from __future__ import annotations

import pytest
from json_api import UsersApi

from typedsvc import url_for
from typedsvc.testing import ClientFactory

pytestmark = pytest.mark.asyncio


async def test_created_user_is_found(typedsvc_client: ClientFactory) -> None:
    client = await typedsvc_client(UsersApi())
    created = await client.post("/users", json={"name": "Ada", "email": "ada@example.com"})
    assert created.status == 201
    user = await created.json()
    assert created.headers["Location"] == url_for(UsersApi.get_user, user_id=user["id"])

    found = await client.get(url_for(UsersApi.search, q="Ad", limit=10))
    assert [each["name"] for each in await found.json()] == ["Ada"]


async def test_invalid_email_is_a_problem(typedsvc_client: ClientFactory) -> None:
    client = await typedsvc_client(UsersApi())
    response = await client.post("/users", json={"name": "Ada", "email": "nowhere"})
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    problem = await response.json(content_type=None)
    assert [error["name"] for error in problem["errors"]] == ["$.email"]


async def test_unknown_user_is_404(typedsvc_client: ClientFactory) -> None:
    client = await typedsvc_client(UsersApi())
    response = await client.get(url_for(UsersApi.get_user, user_id=404))
    assert response.status == 404
