"""A typed JSON API: ``./scripts/run-api`` serves it on http://127.0.0.1:9702.

Its OpenAPI document is at http://127.0.0.1:9702/openapi.json (``typedsvc openapi
examples/json_api.py`` prints it too).
"""

from __future__ import annotations

import datetime
import itertools
from typing import Annotated

import msgspec
from aiohttp import web

import typedsvc
from typedsvc import Body, Header, HttpOptions, JsonResponse, Options, Query

Age = Annotated[int, msgspec.Meta(ge=0, le=150)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]


class NewUser(msgspec.Struct):
    """What a client sends to create a user."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    email: Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+$")]
    age: Age | None = None
    tags: list[Tag] = []


class User(msgspec.Struct):
    """A user as the API answers it."""

    id: int
    name: str
    email: str
    age: int | None
    tags: list[str]
    created: datetime.datetime


class UsersApi(typedsvc.Service):
    name = "users-api"
    options = Options(
        http=HttpOptions(
            host="127.0.0.1", port=9702, keepalive_timeout=5, openapi_url="/openapi.json"
        )
    )

    def __init__(self) -> None:
        self._users: dict[int, User] = {}
        self._ids = itertools.count(1)

    @typedsvc.http("GET", r"/users")
    async def search(
        self,
        request: web.Request,
        q: Query[str] = "",
        limit: Annotated[int, typedsvc.query("page-size")] = 20,
        tag: Query[list[str]] = [],  # noqa: B006 - read only
        x_request_id: Header[str | None] = None,
    ) -> JsonResponse[list[User]]:
        """Find users.

        Users whose name contains ``q`` and who have every ``tag``, at most ``page-size``.
        """
        found = [
            user
            for user in self._users.values()
            if q in user.name and all(wanted in user.tags for wanted in tag)
        ]
        headers = {"X-Request-Id": x_request_id} if x_request_id else None
        return JsonResponse(found[: max(limit, 0)], headers=headers)

    @typedsvc.http("POST", r"/users")
    async def create(self, request: web.Request, user: Body[NewUser]) -> JsonResponse[User]:
        """Create a user."""
        created = User(
            id=next(self._ids),
            name=user.name,
            email=user.email,
            age=user.age,
            tags=user.tags,
            created=datetime.datetime.now(datetime.UTC),
        )
        self._users[created.id] = created
        location = typedsvc.url_for(UsersApi.get_user, user_id=created.id)
        return JsonResponse(created, status=201, headers={"Location": location})

    @typedsvc.http("GET", r"/users/(?P<user_id>\d+)")
    async def get_user(self, request: web.Request, user_id: int) -> JsonResponse[User]:
        """One user, by id."""
        user = self._users.get(user_id)
        if user is None:
            raise web.HTTPNotFound(text=f"no user {user_id}")
        return JsonResponse(user)

    @typedsvc.http("DELETE", r"/users/(?P<user_id>\d+)")
    async def delete_user(self, request: web.Request, user_id: int) -> None:
        """Delete a user; deleting one that is not there is not an error."""
        self._users.pop(user_id, None)
