"""Requests that cannot be framed or break a limit: a clean 4xx, the connection closed, one
log line, and the service answering the next client."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging

import pytest
from aiohttp import web
from conftest import MakeClient
from rawhttp import TIMEOUT, exchange

import typedsvc
from typedsvc import JsonResponse

LIMIT = 1024


class Limited(typedsvc.Service):
    # Keep-alive on: a connection that stays usable after a response is the default there,
    # so "closed" below is the server's decision, not keep-alive being off.
    options = typedsvc.Options(
        http=typedsvc.HttpOptions(keepalive_timeout=30, client_max_size=LIMIT)
    )

    @typedsvc.http("GET", r"/ok")
    async def ok(self, request: web.Request) -> str:
        return "ok"

    @typedsvc.http("POST", r"/echo")
    async def echo(self, request: web.Request) -> bytes:
        return await request.read()

    @typedsvc.http("POST", r"/typed")
    async def typed(self, request: web.Request, value: typedsvc.Body[dict[str, int]]) -> str:
        return repr(value)


def post(headers: bytes, body: bytes = b"", path: bytes = b"/echo") -> bytes:
    return b"POST " + path + b" HTTP/1.1\r\nHost: t\r\n" + headers + b"\r\n" + body


CHUNKED = b"Transfer-Encoding: chunked\r\n"

MALFORMED = [
    pytest.param(b"GARBAGE\r\n\r\n", id="not-a-request-line"),
    pytest.param(b"GET /ok HTTP/9.9\r\nHost: t\r\n\r\n", id="unknown-version"),
    pytest.param(b"GET /ok HTTP/1.1\nHost: t\n\n", id="bare-lf"),
    pytest.param(b"GET /o\x00k HTTP/1.1\r\nHost: t\r\n\r\n", id="nul-in-path"),
    pytest.param(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", id="url-too-long"),
    pytest.param(
        b"GET /ok HTTP/1.1\r\nHost: t\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
        id="header-too-long",
    ),
    pytest.param(
        b"GET /ok HTTP/1.1\r\nHost: t\r\n"
        + b"".join(b"X-%d: 1\r\n" % i for i in range(200))
        + b"\r\n",
        id="too-many-headers",
    ),
    pytest.param(b"GET /ok HTTP/1.1\r\nHost : t\r\n\r\n", id="space-before-colon"),
    pytest.param(b"GET /ok HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n", id="obs-fold"),
    pytest.param(b"GET /ok HTTP/1.1\r\nHost: t\r\nX-A: a\x01b\r\n\r\n", id="control-in-value"),
    pytest.param(b"GET /ok HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n", id="two-hosts"),
    pytest.param(b"GET /ok HTTP/1.1\r\n\r\n", id="no-host"),
    pytest.param(post(b"Content-Length: 3\r\nContent-Length: 5\r\n", b"abcde"), id="two-lengths"),
    pytest.param(
        post(b"Content-Length: 3\r\nContent-Length: 3\r\n", b"abc"), id="same-length-twice"
    ),
    pytest.param(post(b"Content-Length: -1\r\n"), id="negative-length"),
    pytest.param(post(b"Content-Length: +3\r\n", b"abc"), id="signed-length"),
    pytest.param(
        post(b"Content-Length: 3\r\n" + CHUNKED, b"3\r\nabc\r\n0\r\n\r\n"),
        id="length-and-chunked",
    ),
    pytest.param(post(CHUNKED + CHUNKED, b"3\r\nabc\r\n0\r\n\r\n"), id="chunked-twice"),
    pytest.param(post(b"Transfer-Encoding: gzip\r\n", b"abc"), id="unknown-transfer-coding"),
    pytest.param(post(CHUNKED, b"ZZ\r\nabc\r\n0\r\n\r\n"), id="chunk-size-not-hex"),
    pytest.param(post(CHUNKED, b"3\r\nabcXX0\r\n\r\n"), id="chunk-without-crlf"),
]


@pytest.mark.parametrize("data", MALFORMED)
async def test_malformed_request_answered_400_and_closed(
    serve: MakeClient, data: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve(Limited())
    port = client.url("/").port
    assert port is not None
    with caplog.at_level(logging.INFO):
        answer = await exchange(port, data)
    assert answer.status == 400
    assert answer.closed
    assert b"Traceback" not in answer.body
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert not [record for record in caplog.records if record.exc_info]
    # The service goes on answering.
    assert (await exchange(port, b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\n", wait=0.1)).status == 200


async def test_bad_method_first_on_a_connection_is_one_debug_line(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    # What TLS sent to the HTTP port looks like to aiohttp, which logs it at DEBUG.
    client = await serve(Limited())
    port = client.url("/").port
    assert port is not None
    with caplog.at_level(logging.DEBUG, logger="aiohttp.server"):
        answer = await exchange(port, b"G\x16ET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert answer.status == 400
    lines = [
        (record.levelname, record.getMessage(), record.exc_info)
        for record in caplog.records
        if record.name == "aiohttp.server" and "Error handling request" in record.getMessage()
    ]
    assert lines == [
        (
            "DEBUG",
            "Error handling request from 127.0.0.1: answered 400, Invalid method encountered",
            None,
        )
    ]


async def test_malformed_request_logged_as_one_line_with_the_reason(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve(Limited())
    port = client.url("/").port
    assert port is not None
    with caplog.at_level(logging.INFO):
        await exchange(port, post(b"Content-Length: 3\r\nContent-Length: 5\r\n", b"abcde"))
    lines = [
        (record.name, record.levelname, record.getMessage())
        for record in caplog.records
        if record.name == "aiohttp.server"
    ]
    assert lines == [
        (
            "aiohttp.server",
            "INFO",
            "Error handling request from 127.0.0.1: answered 400, Duplicate Content-Length",
        )
    ]


class LimitedWithHandler(Limited):
    @typedsvc.http_error(413)
    async def too_large(self, request: web.Request, status_code: int) -> str:
        return f"{status_code}: at most {LIMIT} bytes"


class LimitedWithJsonHandler(Limited):
    # A response typedsvc prepares before the handler returns, which says so all the same.
    @typedsvc.http_error(413)
    async def too_large(self, request: web.Request) -> JsonResponse[dict[str, int]]:
        return JsonResponse({"limit": LIMIT})


@pytest.mark.parametrize(
    ("service", "body"),
    [
        pytest.param(Limited, b"Maximum request body size 1024 exceeded.", id="aiohttp"),
        # The rest of the body is not read with a handler either: the connection still ends.
        pytest.param(LimitedWithHandler, b"413: at most 1024 bytes", id="http_error-handler"),
        pytest.param(LimitedWithJsonHandler, b'{"limit":1024}', id="http_error-json-handler"),
    ],
)
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            post(b"Content-Length: %d\r\n" % (LIMIT + 1), b"a" * (LIMIT + 1)), id="declared"
        ),
        pytest.param(
            post(CHUNKED, b"%x\r\n%s\r\n0\r\n\r\n" % (LIMIT + 1, b"a" * (LIMIT + 1))),
            id="chunked",
        ),
    ],
)
async def test_body_over_client_max_size_answered_413_and_closed(
    serve: MakeClient,
    service: type[typedsvc.Service],
    body: bytes,
    data: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await serve(service())
    port = client.url("/").port
    assert port is not None
    answer = await exchange(port, data)
    assert (answer.status, answer.body) == (413, body)
    assert answer.headers["Connection"] == "close"
    assert answer.closed
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


class LimitedEverywhere(Limited):
    # The directory of this file, which is all the route needs.
    @typedsvc.http_static(".", r"/files")
    async def files(self) -> None: ...

    @typedsvc.websocket(r"/socket")
    async def socket(self, websocket: web.WebSocketResponse) -> None: ...


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(b"GET /files/rawhttp.py", id="static"),
        pytest.param(b"GET /socket", id="websocket"),
        pytest.param(b"GET /nowhere", id="no-route"),
        pytest.param(b"PUT /ok", id="other-method"),
    ],
)
async def test_body_over_client_max_size_answered_413_on_routes_that_do_not_read_it(
    serve: MakeClient, target: bytes
) -> None:
    client = await serve(LimitedEverywhere())
    port = client.url("/").port
    assert port is not None
    head = b" HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % (LIMIT + 1)
    answer = await exchange(port, target + head + b"a" * (LIMIT + 1))
    assert (answer.status, answer.body) == (413, b"Maximum request body size 1024 exceeded.")
    assert answer.headers["Connection"] == "close"
    assert answer.closed


async def test_body_over_client_max_size_answered_before_it_is_sent(serve: MakeClient) -> None:
    client = await serve(Limited())
    port = client.url("/").port
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(post(b"Content-Length: %d\r\n" % (LIMIT + 1)))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert head.startswith(b"HTTP/1.1 413 ")
        assert b"\r\nConnection: close\r\n" in head
        # The server reads what the client had begun to send (closing on unread data
        # would reset the connection, and could lose the 413), then closes.
        writer.write(b"a" * (LIMIT + 1))
        rest = await asyncio.wait_for(reader.read(), TIMEOUT)
        assert rest == b"Maximum request body size 1024 exceeded."
    finally:
        writer.close()
        await writer.wait_closed()


async def test_body_within_client_max_size_keeps_the_connection(serve: MakeClient) -> None:
    client = await serve(Limited())
    port = client.url("/").port
    assert port is not None
    answer = await exchange(port, post(b"Content-Length: 3\r\n", b"abc"), wait=0.2)
    assert (answer.status, answer.body, answer.closed) == (200, b"abc", False)


def encoded(coding: bytes, body: bytes, path: bytes) -> bytes:
    """A JSON request whose body says it has ``coding`` applied."""
    return post(
        b"Content-Type: application/json\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n"
        % (coding, len(body)),
        body,
        path,
    )


async def test_body_decoded_from_its_content_encoding(serve: MakeClient) -> None:
    client = await serve(Limited())
    port = client.url("/").port
    assert port is not None
    answer = await exchange(port, encoded(b"gzip", gzip.compress(b'{"a": 1}'), b"/typed"), wait=0.2)
    assert (answer.status, answer.body, answer.closed) == (200, b"{'a': 1}", False)


@pytest.mark.parametrize("coding", [b"gzip", b"deflate"])
@pytest.mark.parametrize("path", [b"/echo", b"/typed"])
async def test_body_that_does_not_decode_from_its_content_encoding_is_a_400_and_closed(
    serve: MakeClient, coding: bytes, path: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    # Depending on the coding and aiohttp's parser, aiohttp answers on its own or hands the
    # error to the body's reader; either way the client is at fault, and told so.
    client = await serve(Limited())
    port = client.url("/").port
    assert port is not None
    with caplog.at_level(logging.INFO):
        answer = await exchange(port, encoded(coding, b'{"a": 1}', path))
    assert answer.status == 400
    assert answer.closed
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert not [record for record in caplog.records if record.exc_info]
    assert (await exchange(port, b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\n", wait=0.1)).status == 200


async def test_body_that_does_not_decode_into_a_body_parameter_is_a_problem(
    serve: MakeClient,
) -> None:
    client = await serve(Limited())
    port = client.url("/").port
    assert port is not None
    answer = await exchange(port, encoded(b"gzip", b'{"a": 1}', b"/typed"))
    message = 'the request body could not be decoded from its Content-Encoding "gzip".'
    assert (answer.status, answer.headers["Content-Type"]) == (400, "application/problem+json")
    assert json.loads(answer.body) == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": message,
        "errors": [{"in": "body", "name": "$", "message": message}],
    }
    assert answer.headers["Connection"] == "close"


class LimitedWithBadRequestHandler(Limited):
    @typedsvc.http_error(400)
    async def bad_request(self, request: web.Request) -> str:
        return "bad request, handled"


@pytest.mark.parametrize(
    ("service", "body"),
    [
        pytest.param(Limited, b"400: Bad Request", id="aiohttp"),
        pytest.param(
            LimitedWithBadRequestHandler, b"bad request, handled", id="http_error-handler"
        ),
    ],
)
async def test_body_that_does_not_decode_for_a_handler_that_reads_it_is_a_400(
    serve: MakeClient,
    service: type[typedsvc.Service],
    body: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await serve(service())
    port = client.url("/").port
    assert port is not None
    with caplog.at_level(logging.DEBUG):
        answer = await exchange(port, encoded(b"gzip", b'{"a": 1}', b"/echo"))
    assert (answer.status, answer.body) == (400, body)
    assert answer.headers["Connection"] == "close"
    assert answer.closed
    lines = [
        (record.name, record.levelname, record.getMessage())
        for record in caplog.records
        if record.name in ("typedsvc", "aiohttp.server")
    ]
    assert lines == [
        (
            "typedsvc",
            "INFO",
            '"Limited.echo": the request body could not be decoded from its '
            'Content-Encoding "gzip"',
        ),
        # aiohttp fails to read the rest of the body after the response, and closes.
        (
            "aiohttp.server",
            "DEBUG",
            "A request body that could not be read ended its connection: "
            "Can not decode content-encoding: gzip",
        ),
    ]
