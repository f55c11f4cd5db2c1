"""The servers that http_bench.py loads: what they answer, and their source files.

Raw aiohttp, typedsvc and tomodachi do the same work per request: the same routes, bodies,
headers and conversions, keep-alive on (75 s idle timeout) and no access log unless asked.
Each ``*_source`` function returns the text of one runnable file; http_bench.py writes them
to a temporary directory, where they can be read or run by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final, Literal

Shape = Literal["distinct", "common"]

# Every body is plain text (Content-Type: text/plain; charset=utf-8) except the JSON one.
JSON_DOCUMENT: Final = '{"id": 1, "name": "bench", "tags": ["a", "b"]}'
BENCH_HEADERS: Final = (("Cache-Control", "no-store"), ("X-Bench", "1"))
KEEPALIVE_TIMEOUT_S: Final = 75
ROUTE_ID: Final = "abc123"


@dataclass(frozen=True, slots=True)
class Scenario:
    """One request that is loaded, and the response every server must give to it."""

    key: str
    title: str
    path: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    request_body: bytes = b""
    request_headers: tuple[tuple[str, str], ...] = ()
    status: int = 200
    # Compare the body as JSON: json.dumps and msgspec space their output differently.
    json_body: bool = False


HEALTH: Final = Scenario("health", "GET /health (text)", "/health", b"ok")
RESOURCE: Final = Scenario(
    "resource", "GET /resource/<id> (str group)", f"/resource/{ROUTE_ID}", b"id = abc123"
)
ITEMS: Final = Scenario("items", "GET /items/<n> (int group)", "/items/12345", b"n * 2 = 24690")
HEADERS: Final = Scenario(
    "headers", "GET /headers (ResponseDict with headers)", "/headers", b"ok", BENCH_HEADERS
)
JSON: Final = Scenario("json", "GET /json (json_response)", "/json", JSON_DOCUMENT.encode())
SCENARIOS: Final = (HEALTH, RESOURCE, ITEMS, HEADERS, JSON)

# Typed inputs: a JSON body validated into a type, and a query string converted. Served by
# the aiohttp and typedsvc servers only; tomodachi reads neither for you.
NEW_USER: Final = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "age": 36,
    "country": "GB",
    "tags": ["math", "poetry"],
    "newsletter": True,
}
USERS_CREATE: Final = Scenario(
    "users-create",
    "POST /users (6-field JSON body validated, JSON answer)",
    "/users",
    json.dumps({"id": 1, **NEW_USER}).encode(),
    method="POST",
    request_body=json.dumps(NEW_USER).encode(),
    request_headers=(("Content-Type", "application/json"),),
    status=201,
    json_body=True,
)
USERS_SEARCH: Final = Scenario(
    "users-search",
    "GET /users?q=ada&limit=10&tag=a&tag=b (query converted)",
    "/users?q=ada&limit=10&tag=a&tag=b",
    b"ada 10 a,b",
)
INPUT_SCENARIOS: Final = (USERS_CREATE, USERS_SEARCH)

_COMMON_PREFIX: Final = "/api/v1/catalogue/items/by-name/item"


@dataclass(frozen=True, slots=True)
class RouteSet:
    """A service of ``count`` routes with one str group each, for the routing-scale runs.

    "distinct": ``/r0/<id>`` ... ``/r999/<id>``, prefixes that differ from the first
    character; "common": ``/api/v1/catalogue/items/by-name/item0000/<id>`` ..., a long
    shared prefix that differs only just before the group.
    """

    shape: Shape
    count: int

    def literal(self, index: int) -> str:
        """The url of route ``index`` up to its group."""
        if self.shape == "distinct":
            return f"/r{index}/"
        return f"{_COMMON_PREFIX}{index:04d}/"

    def scenario(self, index: int) -> Scenario:
        """A request that only route ``index`` matches, and its answer."""
        where = "first" if index == 0 else "last"
        return Scenario(
            f"{self.shape}-{self.count}-{where}",
            f"{self.shape} prefixes, {self.count} route{'s' * (self.count > 1)}, {where} route",
            f"{self.literal(index)}{ROUTE_ID}",
            f"r{index} {ROUTE_ID}".encode(),
        )


_AIOHTTP_MAIN: Final = """

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args()
    app = web.Application()
    add_routes(app.router)
    access_log = None
    if args.access_log:
        # aiohttp writes access lines only when its logger is enabled for INFO; the same
        # format as `typedsvc run`, to stderr.
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        access_log = logging.getLogger("aiohttp.access")
    loop = None
    if args.loop == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    web.run_app(
        app,
        host="127.0.0.1",
        port=args.port,
        keepalive_timeout={keepalive},
        access_log=access_log,
        print=None,
        loop=loop,
    )


if __name__ == "__main__":
    main()
"""

_AIOHTTP_HEADER: Final = '''\
"""Raw aiohttp: {what}. Run: python THIS_FILE --port N [--loop uvloop] [--access-log]"""

import argparse
import logging

from aiohttp import web

'''


def aiohttp_source() -> str:
    """Raw aiohttp with the routes of every scenario, plain ``add_get`` and handlers."""
    body = f"""
async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def resource(request: web.Request) -> web.Response:
    return web.Response(text=f"id = {{request.match_info['id']}}")


async def items(request: web.Request) -> web.Response:
    n = int(request.match_info["n"])
    return web.Response(text=f"n * 2 = {{n * 2}}")


async def headers(request: web.Request) -> web.Response:
    return web.Response(text="ok", headers={dict(BENCH_HEADERS)!r})


async def json(request: web.Request) -> web.Response:
    return web.json_response({JSON_DOCUMENT})


async def create_user(request: web.Request) -> web.Response:
    # By hand: parse, check each field, answer 422 listing the wrong ones.
    data = await request.json()
    if not isinstance(data, dict):
        return web.json_response({{"invalid": ["$"]}}, status=422)
    name, email = data.get("name"), data.get("email")
    age, country = data.get("age"), data.get("country")
    tags, newsletter = data.get("tags"), data.get("newsletter")
    invalid = []
    if not isinstance(name, str) or not name:
        invalid.append("name")
    if not isinstance(email, str) or "@" not in email:
        invalid.append("email")
    if not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 150:
        invalid.append("age")
    if not isinstance(country, str) or len(country) != 2:
        invalid.append("country")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        invalid.append("tags")
    if not isinstance(newsletter, bool):
        invalid.append("newsletter")
    if invalid:
        return web.json_response({{"invalid": invalid}}, status=422)
    user = {{
        "id": 1,
        "name": name,
        "email": email,
        "age": age,
        "country": country,
        "tags": tags,
        "newsletter": newsletter,
    }}
    return web.json_response(user, status=201)


async def search_users(request: web.Request) -> web.Response:
    query = request.query
    q = query.get("q")
    if q is None:
        return web.Response(status=400, text="q is required")
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        return web.Response(status=400, text="limit must be an int")
    tags = query.getall("tag", [])
    return web.Response(text=f"{{q}} {{limit}} {{','.join(tags)}}")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/health", health)
    router.add_get("/resource/{{id}}", resource)
    router.add_get("/items/{{n}}", items)
    router.add_get("/headers", headers)
    router.add_get("/json", json)
    router.add_post("/users", create_user)
    router.add_get("/users", search_users)
"""
    return (
        _AIOHTTP_HEADER.format(what="the routes of every scenario")
        + body
        + _AIOHTTP_MAIN.format(keepalive=KEEPALIVE_TIMEOUT_S)
    )


def aiohttp_routes_source(routes: RouteSet) -> str:
    """Raw aiohttp with ``routes.count`` routes, one handler each."""
    parts = [_AIOHTTP_HEADER.format(what=f"{routes.count} {routes.shape}-prefix routes")]
    for i in range(routes.count):
        parts.append(
            f"\nasync def r{i}(request: web.Request) -> web.Response:\n"
            f"    return web.Response(text=f\"r{i} {{request.match_info['id']}}\")\n\n"
        )
    parts.append("\ndef add_routes(router: web.UrlDispatcher) -> None:\n")
    parts.extend(
        f'    router.add_get("{routes.literal(i)}{{id}}", r{i})\n' for i in range(routes.count)
    )
    parts.append(_AIOHTTP_MAIN.format(keepalive=KEEPALIVE_TIMEOUT_S))
    return "".join(parts)


_TYPEDSVC_HEADER: Final = '''\
"""typedsvc: {what}. Run: typedsvc run THIS_FILE --port N [--loop uvloop]"""

from typing import Annotated

import msgspec
from aiohttp import web

import typedsvc
from typedsvc import {names}


class NewUser(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1)]
    email: Annotated[str, msgspec.Meta(pattern="@")]
    age: Annotated[int, msgspec.Meta(ge=0, le=150)]
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=2)]
    tags: list[str]
    newsletter: bool


class User(msgspec.Struct):
    id: int
    name: str
    email: str
    age: int
    country: str
    tags: list[str]
    newsletter: bool


class Bench(typedsvc.Service):
    name = "bench-typedsvc"
    options = Options(
        http=HttpOptions(
            host="127.0.0.1", port={port}, keepalive_timeout={keepalive}, access_log={access_log}
        )
    )
'''


def typedsvc_source(port: int, *, access_log: bool) -> str:
    """A typedsvc service with the routes of every scenario."""
    header = _TYPEDSVC_HEADER.format(
        what="the routes of every scenario",
        names="Body, HttpOptions, JsonResponse, Options, Query, ResponseDict",
        port=port,
        keepalive=KEEPALIVE_TIMEOUT_S,
        access_log=access_log,
    )
    return (
        header
        + f"""
    @typedsvc.http("GET", r"/health")
    async def health(self, request: web.Request) -> str:
        return "ok"

    @typedsvc.http("GET", r"/resource/(?P<id>[^/]+)")
    async def resource(self, request: web.Request, id: str) -> str:
        return f"id = {{id}}"

    @typedsvc.http("GET", r"/items/(?P<n>[^/]+)")
    async def items(self, request: web.Request, n: int) -> str:
        return f"n * 2 = {{n * 2}}"

    @typedsvc.http("GET", r"/headers")
    async def headers(self, request: web.Request) -> ResponseDict:
        return {{"body": "ok", "status": 200, "headers": {dict(BENCH_HEADERS)!r}}}

    @typedsvc.http("GET", r"/json")
    async def json(self, request: web.Request) -> web.Response:
        return web.json_response({JSON_DOCUMENT})

    @typedsvc.http("POST", r"/users")
    async def create_user(self, request: web.Request, user: Body[NewUser]) -> JsonResponse[User]:
        created = User(
            1, user.name, user.email, user.age, user.country, user.tags, user.newsletter
        )
        return JsonResponse(created, status=201)

    @typedsvc.http("GET", r"/users")
    async def search_users(
        self,
        request: web.Request,
        q: Query[str],
        limit: Query[int] = 20,
        tag: Query[list[str]] = [],
    ) -> str:
        return f"{{q}} {{limit}} {{','.join(tag)}}"
"""
    )


def typedsvc_routes_source(port: int, routes: RouteSet) -> str:
    """A typedsvc service with ``routes.count`` routes, one handler each."""
    parts = [
        _TYPEDSVC_HEADER.format(
            what=f"{routes.count} {routes.shape}-prefix routes",
            names="HttpOptions, Options",
            port=port,
            keepalive=KEEPALIVE_TIMEOUT_S,
            access_log=False,
        )
    ]
    for i in range(routes.count):
        parts.append(
            f'\n    @typedsvc.http("GET", r"{routes.literal(i)}(?P<id>[^/]+)")\n'
            f"    async def r{i}(self, request: web.Request, id: str) -> str:\n"
            f'        return f"r{i} {{id}}"\n'
        )
    return "".join(parts)


def tomodachi_source(port: int) -> str:
    """A tomodachi 0.29.0 service with the routes of every scenario.

    tomodachi passes url groups as str, so the int handler converts its value itself; a
    dict return value is its form of a body with status and headers.
    """
    return f'''\
"""tomodachi: the routes of every scenario. Run: tomodachi run --production THIS_FILE"""

import tomodachi
from aiohttp import web


class Bench(tomodachi.Service):
    name = "bench-tomodachi"
    options = tomodachi.Options(
        http=tomodachi.Options.HTTP(
            host="127.0.0.1", port={port}, keepalive_timeout={KEEPALIVE_TIMEOUT_S}, access_log=False
        )
    )

    @tomodachi.http("GET", r"/health")
    async def health(self, request: web.Request) -> str:
        return "ok"

    @tomodachi.http("GET", r"/resource/(?P<id>[^/]+)")
    async def resource(self, request: web.Request, id: str) -> str:
        return f"id = {{id}}"

    @tomodachi.http("GET", r"/items/(?P<n>[^/]+)")
    async def items(self, request: web.Request, n: str) -> str:
        return f"n * 2 = {{int(n) * 2}}"

    @tomodachi.http("GET", r"/headers")
    async def headers(self, request: web.Request) -> dict[str, object]:
        return {{"body": "ok", "status": 200, "headers": {dict(BENCH_HEADERS)!r}}}

    @tomodachi.http("GET", r"/json")
    async def json(self, request: web.Request) -> web.Response:
        return web.json_response({JSON_DOCUMENT})
'''
