"""Clients that leave mid-request or mid-response, and clients that send slowly: no error
log, no leaked task, and every other client served meanwhile."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Final

import pytest
from aiohttp import web
from conftest import MakeClient
from rawhttp import TIMEOUT, exchange
from served import Start, write

import typedsvc

HEAD = b"Host: t\r\n"


class Slow(typedsvc.Service):
    options = typedsvc.Options(http=typedsvc.HttpOptions(keepalive_timeout=1))

    def __init__(self) -> None:
        super().__init__()
        self.finished: list[str] = []
        self.started = asyncio.Event()

    @typedsvc.http("GET", r"/ok")
    async def ok(self, request: web.Request) -> str:
        return "ok"

    @typedsvc.http("POST", r"/upload")
    async def upload(self, request: web.Request) -> str:
        self.started.set()
        body = await request.read()
        self.finished.append("upload")
        return str(len(body))

    @typedsvc.http("POST", r"/typed")
    async def typed(self, request: web.Request, numbers: typedsvc.Body[list[int]]) -> str:
        self.finished.append("typed")
        return str(sum(numbers))

    @typedsvc.http("GET", r"/stream")
    async def stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        self.started.set()
        for _ in range(200):
            await response.write(b"x" * 65536)
            await asyncio.sleep(0.005)
        self.finished.append("stream")
        return response

    @typedsvc.http("GET", r"/sleep")
    async def sleep(self, request: web.Request) -> str:
        self.started.set()
        await asyncio.sleep(0.3)
        self.finished.append("sleep")
        return "slept"


async def settled(count: int) -> int:
    """The number of tasks once it has come back to ``count`` (or after TIMEOUT)."""
    for _ in range(int(TIMEOUT / 0.02)):
        if len(asyncio.all_tasks()) <= count:
            break
        await asyncio.sleep(0.02)
    return len(asyncio.all_tasks())


async def leave(port: int, data: bytes, service: Slow, *, read: int = 0) -> None:
    """Send ``data``, wait for the handler to start, read ``read`` bytes, and reset."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await asyncio.wait_for(service.started.wait(), TIMEOUT)
    service.started.clear()
    if read:
        await asyncio.wait_for(reader.readexactly(read), TIMEOUT)
    writer.transport.abort()


@pytest.mark.parametrize(
    ("data", "read"),
    [
        pytest.param(b"POST /upload HTTP/1.1\r\n" + HEAD + b"Content-Length: 1000\r\n\r\nabc", 0),
        pytest.param(b"GET /stream HTTP/1.1\r\n" + HEAD + b"\r\n", 100_000),
    ],
    ids=["mid-request", "mid-response"],
)
async def test_disconnect_leaves_no_error_and_no_task(
    serve: MakeClient, caplog: pytest.LogCaptureFixture, data: bytes, read: int
) -> None:
    service = Slow()
    client = await serve(service)
    port = client.url("/").port
    assert port is not None
    before = len(asyncio.all_tasks())
    with caplog.at_level(logging.DEBUG, logger="typedsvc"):
        for _ in range(20):
            await leave(port, data, service, read=read)
        assert await settled(before) == before
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    handler = "Slow.upload" if read == 0 else "Slow.stream"
    gone = [r.getMessage() for r in caplog.records if r.name == "typedsvc"]
    assert gone == [f'"{handler}": the client closed the connection before it was answered.'] * 20
    assert service.finished == []
    # The access log says what nginx says of such a request.
    statuses = {getattr(r, "status", None) for r in caplog.records if r.name == "typedsvc.access"}
    assert statuses == {499}
    assert (await client.get("/ok")).status == 200


async def test_disconnect_while_a_body_parameter_is_read_is_a_499(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve(Slow())
    port = client.url("/").port
    assert port is not None
    with caplog.at_level(logging.DEBUG, logger="typedsvc"):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /typed HTTP/1.1\r\n"
            + HEAD
            + b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n[1, "
        )
        # The body is read before the handler runs: nothing of the service's to wait on.
        await asyncio.sleep(0.1)
        writer.transport.abort()
        for _ in range(int(TIMEOUT / 0.02)):
            if any(r.name == "typedsvc.access" for r in caplog.records):
                break
            await asyncio.sleep(0.02)
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [r.getMessage() for r in caplog.records if r.name == "typedsvc"] == [
        '"Slow.typed": the client closed the connection before it was answered.'
    ]
    statuses = [getattr(r, "status", None) for r in caplog.records if r.name == "typedsvc.access"]
    assert statuses == [499]


async def test_disconnect_does_not_cancel_the_handler(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    service = Slow()
    client = await serve(service)
    port = client.url("/").port
    assert port is not None
    before = len(asyncio.all_tasks())
    with caplog.at_level(logging.INFO):
        await leave(port, b"GET /sleep HTTP/1.1\r\n" + HEAD + b"\r\n", service)
        assert await settled(before) == before
    # aiohttp does not cancel a handler whose client has gone: it finishes its work, and
    # its answer is dropped, which the access log says as nginx does.
    assert service.finished == ["sleep"]
    assert [
        (r.name, getattr(r, "status", None), getattr(r, "size", None)) for r in caplog.records
    ] == [("typedsvc.access", 499, 0)]


async def test_slow_client_does_not_hold_up_others_and_is_closed(serve: MakeClient) -> None:
    client = await serve(Slow())
    port = client.url("/").port
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    start = time.monotonic()

    async def trickle() -> None:
        for byte in b"GET /ok HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 100:
            writer.write(bytes([byte]))
            await asyncio.sleep(0.05)

    trickling = asyncio.create_task(trickle())
    try:
        for _ in range(20):
            answer = await exchange(port, b"GET /ok HTTP/1.1\r\n" + HEAD + b"\r\n", wait=0)
            assert answer.status == 200
        served = time.monotonic() - start
        # The trickling connection is closed by keepalive_timeout (1 s) after it opened.
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        closed = time.monotonic() - start
    finally:
        trickling.cancel()
        writer.close()
    assert served < 1.0
    assert 0.9 < closed < 3.0


@pytest.mark.xfail(
    not os.environ.get("AIOHTTP_NO_EXTENSIONS"),
    reason="aiohttp's C parser queues the error as a request of its own behind this one and "
    "never hands it to the handler's read, which waits until the client leaves; its "
    "pure-Python parser (AIOHTTP_NO_EXTENSIONS=1, PyPy) does",
)
async def test_body_that_breaks_off_while_read_is_a_400(
    serve: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    service = Slow()
    client = await serve(service)
    port = client.url("/").port
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"POST /upload HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
        writer.write(b"3\r\nabc\r\n")
        await asyncio.wait_for(service.started.wait(), TIMEOUT)
        with caplog.at_level(logging.INFO):
            writer.write(b"ZZ\r\n")
            # Not the usual TIMEOUT: with the C parser no answer comes (see above).
            answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 1)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"\r\nConnection: close\r\n" in answer
    assert [r.getMessage() for r in caplog.records if r.name == "typedsvc"] == [
        '"Slow.upload": the request body could not be read: ZZ'
    ]


UPLOADS: Final = r"""
    import sys

    from aiohttp import web

    import typedsvc
    from typedsvc import HttpOptions, Options


    class Uploads(typedsvc.Service):
        options = Options(http=HttpOptions(host="127.0.0.1", port=0, keepalive_timeout=30))

        @typedsvc.http("POST", r"/upload")
        async def upload(self, request: web.Request) -> str:
            print("started", file=sys.stderr, flush=True)
            return str(len(await request.read()))
"""


async def test_body_that_breaks_off_is_a_400_with_the_pure_python_parser(
    tmp_path: Path, start: Start
) -> None:
    # What the test above asks of aiohttp's C parser, where its pure-Python one (PyPy's)
    # already gives it.
    python = ("env", "AIOHTTP_NO_EXTENSIONS=1", sys.executable, "-m", "typedsvc")
    served = await start(str(write(tmp_path / "uploads.py", UPLOADS)), command=python)
    reader, writer = await asyncio.open_connection("127.0.0.1", await served.port())
    try:
        writer.write(b"POST /upload HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
        writer.write(b"3\r\nabc\r\n")
        await served.wait_for_lines(re.compile("^started$"))
        writer.write(b"ZZ\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"\r\nConnection: close\r\n" in head
    await served.wait_for_lines(
        re.compile(r'INFO typedsvc: "Uploads.upload": the request body could not be read: ZZ$')
    )
