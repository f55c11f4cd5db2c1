"""Never executed: typed inputs and JsonResponse under mypy --strict (with the plugin) and pyright.

A marked parameter is its plain type to both checkers; the markers only tell typedsvc
where the value comes from.
"""

from __future__ import annotations

from typing import Annotated, TypedDict, assert_type

from aiohttp import web

import typedsvc
from typedsvc import Body, Cookie, Header, JsonResponse, Query


class User(TypedDict):
    id: int
    name: str


class NewUser(TypedDict):
    name: str


# Markers through aliases and a constant: the plugin reads their definitions.
Limit = Query[int]
PageSize = Annotated[int, typedsvc.query("page-size")]
TRACE = typedsvc.header(name="X-Trace-Id")


class Aliased(typedsvc.Service):
    @typedsvc.http("GET", r"/aliased")
    async def search(
        self,
        request: web.Request,
        limit: Limit,
        size: PageSize = 10,
        trace: Annotated[str | None, TRACE] = None,
    ) -> str:
        return f"{limit} {size} {trace}"


class Users(typedsvc.Service):
    @typedsvc.http("GET", r"/users")
    async def search(
        self,
        request: web.Request,
        q: Query[str],
        limit: Query[int] = 20,
        tag: Query[list[str]] = [],  # noqa: B006 - never mutated
        x_request_id: Header[str | None] = None,
        session: Cookie[str | None] = None,
        page_size: Annotated[int, typedsvc.query("page-size")] = 10,
    ) -> JsonResponse[list[User]]:
        return JsonResponse([{"id": limit, "name": q}])

    @typedsvc.http("POST", r"/users")
    async def create(self, request: web.Request, user: Body[NewUser]) -> JsonResponse[User]:
        return JsonResponse({"id": 1, "name": user["name"]}, status=201)

    @typedsvc.http_error(422)
    async def unprocessable(self, request: web.Request) -> JsonResponse[list[str]]:
        return JsonResponse([error.message for error in typedsvc.input_errors(request)])


async def inputs_keep_their_types(users: Users, request: web.Request) -> None:
    found = await users.search(request, q="ada", limit=5, tag=["a"], page_size=2)
    assert_type(found, JsonResponse[list[User]])
    assert_type(found.value, list[User])
    created = await users.create(request, user={"name": "ada"})
    assert_type(created.value["id"], int)
    await users.search(request, q=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await users.create(request, user={"nam": "ada"})  # type: ignore[typeddict-item, typeddict-unknown-key]  # pyright: ignore[reportArgumentType]


def json_responses_are_typed() -> None:
    JsonResponse([1], status="201")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    wide: JsonResponse[object] = JsonResponse([1])
    assert_type(wide.status, int)


class Rejected(typedsvc.Service):
    # The value does not match the declared JsonResponse type.
    @typedsvc.http("GET", r"/wrong")
    async def wrong(self, request: web.Request) -> JsonResponse[User]:
        return JsonResponse({"id": "1", "name": "x"})  # type: ignore[typeddict-item]  # pyright: ignore[reportReturnType]
