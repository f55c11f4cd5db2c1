"""Fuzzed requests against a service with typed routes, typed inputs and static files.

Whatever the path and query: never a 500, never a traceback in a body; a route either
matches with the values converted as they were sent, or the answer is 404, 405 or 400. A
static file is one of the directory's own. The requests go over a plain socket as they
were generated: aiohttp's client would normalise "..", "%2e" and "//" away. ``bench/fuzz``
runs them with more examples.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import msgspec
import pytest
from aiohttp import web
from conftest import MakeClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rawhttp import exchange

import typedsvc
from typedsvc import Body, Header, Query
from typedsvc._normalize import Defaults, InvalidResponseError, normalize

FILES: Final = {"a.txt": b"alpha", "sub/b.txt": b"beta", "caf\u00e9 1.txt": b"cafe"}


def public_directory() -> Path:
    """A directory of FILES, made at import: http_static checks it exists at decoration."""
    directory = Path(tempfile.mkdtemp(prefix="typedsvc-fuzz-"))
    for name, data in FILES.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return directory


PUBLIC: Final = public_directory()


class User(msgspec.Struct):
    name: str
    age: int


class Fuzzed(typedsvc.Service):
    @typedsvc.http("GET", r"/items/(?P<n>-?\d+)")
    async def item(self, request: web.Request, n: int) -> str:
        return json.dumps({"n": n})

    @typedsvc.http("GET", r"/names/(?P<name>[^/]+)")
    async def by_name(self, request: web.Request, name: str) -> str:
        return json.dumps({"name": name})

    @typedsvc.http("GET", r"/search")
    async def search(
        self,
        request: web.Request,
        q: Query[str],
        limit: Query[int] = 20,
        tag: Query[list[str]] = [],  # noqa: B006 - typedsvc passes a list of its own when given
        exact: Query[bool] = False,
        x_trace: Header[str | None] = None,
    ) -> str:
        return json.dumps({"q": q, "limit": limit, "tag": tag, "exact": exact})

    @typedsvc.http("POST", r"/users")
    async def create(self, request: web.Request, user: Body[User]) -> str:
        return json.dumps({"name": user.name, "age": user.age})

    @typedsvc.http_static(PUBLIC, r"/static/")
    async def files(self) -> None: ...


@pytest.fixture(scope="module", autouse=True)
def remove_public() -> Iterator[None]:
    yield
    shutil.rmtree(PUBLIC)


async def send(port: int, request: bytes) -> tuple[int, bytes]:
    """The status and body of the answer to ``request``."""
    answer = await exchange(port, request)
    # Keep-alive is off: every answer ends its connection, and says so.
    assert answer.closed
    return answer.status, answer.body


def get(target: bytes) -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: t\r\n\r\n"


_SERVED: dict[object, int] = {}


async def port_of(serve: MakeClient) -> int:
    """One server for all the examples of a test (hypothesis calls the test many times)."""
    port = _SERVED.get(serve)
    if port is None:
        client = await serve(Fuzzed())
        assert client.port is not None
        port = _SERVED[serve] = client.port
    return port


def assert_sound(status: int, body: bytes) -> None:
    assert status < 500, body
    assert b"Traceback" not in body
    assert b'File "' not in body


# bench/fuzz runs them with many more examples.
FUZZ: Final = settings(
    max_examples=int(os.environ.get("TYPEDSVC_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
TEXT: Final = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
# Pieces that paths are made of, and the ones that break them.
PIECES: Final = st.sampled_from(
    [
        "/",
        "//",
        ".",
        "..",
        "%2e",
        "%2E%2e",
        "%2f",
        "%2F",
        "%00",
        "%",
        "%G0",
        "%e9",
        "%C3%A9",
        "\u00e9",
        "\u2028",
        "\\",
        "?",
        "&",
        "=",
        "#",
        ";",
        "items",
        "names",
        "static",
        "search",
        "users",
        "a.txt",
        "sub",
        "b.txt",
        "-1",
        "12",
        "q=",
        "tag=",
        "limit=",
        "exact=",
        "9" * 40,
        "x" * 300,
    ]
)


@FUZZ
@given(target=st.lists(PIECES | TEXT, max_size=12).map("".join))
async def test_fuzz_any_target_is_answered_soundly(serve: MakeClient, target: str) -> None:
    port = await port_of(serve)
    status, body = await send(port, get(b"/" + target.encode()))
    assert_sound(status, body)
    assert status in (200, 400, 404, 405), (target, status, body)
    if status == 200 and target.startswith("static/"):
        assert body in FILES.values()


@FUZZ
@given(n=st.integers(min_value=-(10**30), max_value=10**30), name=TEXT.filter(bool))
async def test_fuzz_url_groups_arrive_as_sent(serve: MakeClient, n: int, name: str) -> None:
    port = await port_of(serve)
    status, body = await send(port, get(f"/items/{n}".encode()))
    assert (status, json.loads(body)) == (200, {"n": n})
    # A dot segment too: aiohttp routes the path as it came, and the group takes it as it is.
    status, body = await send(port, get(b"/names/" + quote(name, safe="").encode()))
    assert (status, json.loads(body)) == (200, {"name": name})


@FUZZ
@given(
    q=TEXT,
    limit=st.one_of(st.integers(-(10**6), 10**6).map(str), TEXT),
    tags=st.lists(TEXT, max_size=4),
    exact=st.sampled_from(["true", "FALSE", "1", "0", "yes", ""]),
)
async def test_fuzz_query_values_convert_or_answer_400(
    serve: MakeClient, q: str, limit: str, tags: list[str], exact: str
) -> None:
    port = await port_of(serve)
    pairs = [("q", q), ("limit", limit), *(("tag", tag) for tag in tags), ("exact", exact)]
    query = "&".join(f"{key}={quote(value, safe='')}" for key, value in pairs)
    status, body = await send(port, get(f"/search?{query}".encode()))
    assert_sound(status, body)
    # ASCII digits only: int() would also take "\u0e51" (a Thai one), " 1" and "1_0".
    expected_limit = int(limit) if re.fullmatch("-?[0-9]+", limit) else None
    expected_exact = {"true": True, "false": False, "1": True, "0": False}.get(exact.lower())
    if expected_limit is None or expected_exact is None:
        assert status == 400
        problem = json.loads(body)
        assert {error["name"] for error in problem["errors"]} <= {"limit", "exact"}
    else:
        assert (status, json.loads(body)) == (
            200,
            {"q": q, "limit": expected_limit, "tag": tags, "exact": expected_exact},
        )


@FUZZ
@given(body=st.binary(max_size=200) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
).map(lambda value: json.dumps(value).encode())
# Any bytes inside a string: JSON text is UTF-8, and msgspec checks it there.
| st.binary(max_size=20).map(lambda raw: b'{"name": "' + raw + b'", "age": 1}'))  # fmt: skip
async def test_fuzz_json_bodies_are_read_or_answered_4xx(serve: MakeClient, body: bytes) -> None:
    port = await port_of(serve)
    request = (
        b"POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    status, answer = await send(port, request)
    assert_sound(status, answer)
    assert status in (200, 400, 422), (body, status, answer)
    if status == 200:
        decoded = json.loads(body)
        assert json.loads(answer) == {"name": decoded["name"], "age": decoded["age"]}


class Untyped(typedsvc.Service):
    """Returns whatever the test put in ``value``, as untyped code could."""

    value: object = None

    @typedsvc.http("GET", r"/value")
    async def give(self, request: web.Request) -> Any:
        return self.value


HEADER_TEXT: Final = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
ANY_VALUE: Final = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.tuples(st.integers(-10, 1000), st.text(max_size=8) | st.binary(max_size=8) | st.none()),
    st.tuples(
        st.integers(-10, 1000),
        st.text(max_size=8),
        st.dictionaries(HEADER_TEXT, HEADER_TEXT | st.integers(), max_size=2),
    ),
    st.dictionaries(
        st.sampled_from(["body", "status", "headers", "content_type", "charset", "other"]),
        st.none()
        | st.integers(-10, 1000)
        | HEADER_TEXT
        | st.binary(max_size=8)
        | st.dictionaries(HEADER_TEXT, HEADER_TEXT, max_size=2)
        | st.lists(st.tuples(HEADER_TEXT, HEADER_TEXT), max_size=2),
        max_size=4,
    ),
    st.builds(
        typedsvc.Response,
        body=st.text(max_size=8) | st.binary(max_size=8),
        status=st.none() | st.integers(-10, 1000),
        headers=st.none() | st.dictionaries(HEADER_TEXT, HEADER_TEXT, max_size=2),
        content_type=st.none() | HEADER_TEXT,
        charset=st.none() | HEADER_TEXT,
        reason=st.none() | HEADER_TEXT,
    ),
)
_UNTYPED: dict[object, tuple[Untyped, int]] = {}
INTERNAL_ERROR: Final = web.Response(status=500, text="500: Internal Server Error")
# RFC 9110, 5.5: no control character but the tab in a field, nor in the reason phrase.
_CONTROL: Final = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def sendable(response: web.Response) -> bool:
    """Whether HTTP can carry the status line and headers of ``response``."""
    fields: list[object] = [response.reason]
    for name, value in response.headers.items():
        fields += (name, value)
    return all(isinstance(field, str) and not _CONTROL.search(field) for field in fields)


@FUZZ
@given(value=ANY_VALUE)
async def test_fuzz_any_return_value_is_sent_or_answered_500(
    serve: MakeClient, value: object
) -> None:
    served = _UNTYPED.get(serve)
    if served is None:
        service = Untyped()
        client = await serve(service)
        assert client.port is not None
        served = _UNTYPED[serve] = (service, client.port)
    service, port = served
    service.value = value
    untyped: Any = value
    try:
        expected = normalize(untyped, Defaults())
    except InvalidResponseError:
        expected = INTERNAL_ERROR
    assert isinstance(expected, web.Response)
    if not sendable(expected):
        expected = INTERNAL_ERROR
    # An answer always comes, the one normalize() makes of the value: a value aiohttp
    # refuses while writing it is the handler's 500.
    status, body = await send(port, get(b"/value"))
    # HTTP gives 204 and 304 no body: aiohttp leaves out any the value had.
    sent = b"" if expected.status in (204, 304) else expected.body
    assert (status, body) == (expected.status, sent or b"")
