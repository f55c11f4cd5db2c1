"""Keep-alive follows HttpOptions, observed on a raw connection and through a pooled client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

import aiohttp
import pytest
from aiohttp import web
from aiohttp.http import SERVER_SOFTWARE
from conftest import Client, MakeClient
from served import Start, write

import typedsvc
from typedsvc import HttpOptions, Options

TIMEOUT = 5.0
SERVER = "keepalive-test/1"
FILE = Path(__file__)


class Connection:
    """One raw HTTP/1.1 connection: send requests, read responses, see whether it closed."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def get(self, path: str) -> dict[str, str]:
        """GET ``path``; the response's status and headers (lower-case names), body read."""
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        await self.writer.drain()
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        status_line, *lines = head.decode().split("\r\n")
        headers = {"status": status_line.split()[1]}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding") == "chunked":
            await asyncio.wait_for(self.reader.readuntil(b"\r\n0\r\n\r\n"), TIMEOUT)
        else:
            length = int(headers["content-length"])
            await asyncio.wait_for(self.reader.readexactly(length), TIMEOUT)
        return headers

    async def closed_by_server(self) -> bool:
        try:
            return await asyncio.wait_for(self.reader.read(1), TIMEOUT) == b""
        except TimeoutError:
            return False

    def close(self) -> None:
        self.writer.close()


def service_with(options: HttpOptions) -> typedsvc.Service:
    class KeepAlive(typedsvc.Service):
        @typedsvc.http("GET", r"/ping")
        async def ping(self, request: web.Request) -> str:
            return "pong"

        @typedsvc.http("GET", r"/stream")
        async def stream(self, request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse()
            response.content_length = 6
            await response.prepare(request)
            await response.write(b"stream")
            await response.write_eof()
            return response

        @typedsvc.http("GET", r"/chunked")
        async def chunked(self, request: web.Request) -> web.StreamResponse:
            # Left for aiohttp to finish, as most streaming handlers do.
            response = web.StreamResponse()
            await response.prepare(request)
            await response.write(b"part1")
            return response

        @typedsvc.http("GET", r"/file")
        async def file(self, request: web.Request) -> web.FileResponse:
            response = web.FileResponse(FILE)
            await response.prepare(request)
            return response

    KeepAlive.options = Options(http=options)
    return KeepAlive()


def port_of(client: Client) -> int:
    port = client.port
    assert port is not None
    return port


async def open_connection(serve: MakeClient, options: HttpOptions) -> Connection:
    client = await serve(service_with(options))
    return await Connection.open(port_of(client))


async def test_keepalive_off_closes_every_connection(serve: MakeClient) -> None:
    connection = await open_connection(serve, HttpOptions(keepalive_timeout=0))
    try:
        headers = await connection.get("/ping")
        assert headers["connection"] == "close"
        assert await connection.closed_by_server()
    finally:
        connection.close()


async def test_keepalive_off_closes_after_a_path_no_route_takes(serve: MakeClient) -> None:
    connection = await open_connection(serve, HttpOptions(keepalive_timeout=0))
    try:
        headers = await connection.get("/nowhere")
        assert (headers["status"], headers["connection"]) == ("404", "close")
        assert await connection.closed_by_server()
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/stream", "/chunked", "/file"])
async def test_keepalive_off_a_response_the_handler_prepared_says_close(
    serve: MakeClient, path: str
) -> None:
    connection = await open_connection(serve, HttpOptions(server_header=SERVER))
    try:
        headers = await connection.get(path)
        assert (headers["status"], headers["connection"]) == ("200", "close")
        assert headers["server"] == SERVER
        assert await connection.closed_by_server()
    finally:
        connection.close()


async def test_keepalive_limit_a_response_the_handler_prepared_says_close(
    serve: MakeClient,
) -> None:
    options = HttpOptions(keepalive_timeout=5, max_keepalive_requests=2, server_header=SERVER)
    connection = await open_connection(serve, options)
    try:
        first = await connection.get("/chunked")
        second = await connection.get("/chunked")
        assert ("connection" in first, first["server"]) == (False, SERVER)
        assert (second["connection"], second["server"]) == ("close", SERVER)
        assert await connection.closed_by_server()
    finally:
        connection.close()


STREAMS: Final = """
    import asyncio

    from aiohttp import web

    import typedsvc
    from typedsvc import HttpOptions, Options


    class Streams(typedsvc.Service):
        options = Options(http=HttpOptions(host="127.0.0.1", port=0, {options}))

        @typedsvc.http("GET", r"/chunked")
        async def chunked(self, request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse()
            await response.prepare(request)
            await response.write(b"part1")
            return response

        @typedsvc.http("GET", r"/finished")
        async def finished(self, request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse()
            await response.prepare(request)
            await response.write_eof(b"done")
            # Work after the response is complete: the client has it and sends on.
            await asyncio.sleep(0.01)
            return response

        @typedsvc.http(["GET", "POST"], r"/ping")
        async def ping(self, request: web.Request) -> str:
            return "pong"
"""


@pytest.mark.parametrize(
    "options",
    [
        pytest.param("keepalive_timeout=0", id="keepalive-off"),
        pytest.param("keepalive_timeout=5, max_keepalive_requests=2", id="limit-2"),
    ],
)
async def test_keepalive_pooled_client_alternating_streams_and_plain_responses(
    tmp_path: Path, start: Start, options: str
) -> None:
    # Its own process, as in production: the client reads a response while the server
    # goes on to close the connection, instead of in turns on one event loop.
    source = STREAMS.format(options=options)
    served = await start(str(write(tmp_path / "streams.py", source)))
    port = await served.port()
    # One pooled connection, reused whenever the last response allowed it.
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        for index in range(50):
            # A POST: aiohttp's client sends an idempotent request once more when a reused
            # connection drops, which would hide a close that nothing announced.
            async with session.post(f"http://127.0.0.1:{port}/ping") as response:
                assert (response.status, await response.read()) == (200, b"pong")
            # With a limit of 2 requests, the stream is the one that ends its connection.
            path, body = ("/chunked", b"part1") if index % 2 else ("/finished", b"done")
            async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                assert (response.status, await response.read()) == (200, body)


class Draining(typedsvc.Service):
    """Streams and plain text; a stream can be held until the test lets it go."""

    options = Options(http=HttpOptions(keepalive_timeout=5, server_header=SERVER))

    def __init__(self) -> None:
        self.hold = False
        self.held = asyncio.Event()
        self.release = asyncio.Event()
        self.stopping = asyncio.Event()

    async def _stopping_service(self) -> None:
        self.stopping.set()

    @typedsvc.http("GET", r"/chunked")
    async def chunked(self, request: web.Request) -> web.StreamResponse:
        if self.hold:
            self.held.set()
            await self.release.wait()
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"part1")
        return response

    @typedsvc.http(["GET", "POST"], r"/ping")
    async def ping(self, request: web.Request) -> str:
        return "pong"


async def start_on(service: typedsvc.Service, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(typedsvc.create_app(service), shutdown_timeout=TIMEOUT)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, runner.addresses[0][1]


async def test_keepalive_drain_pooled_client_alternating_streams_and_plain_responses() -> None:
    # A restart: the old server drains while a new one listens on the same port.
    old = Draining()
    old_runner, port = await start_on(old, 0)
    new_runner: web.AppRunner | None = None
    drained: asyncio.Task[None] | None = None
    connector = aiohttp.TCPConnector(limit=1)
    try:
        async with aiohttp.ClientSession(connector=connector) as session:

            async def send(method: str, path: str) -> aiohttp.ClientResponse:
                url = f"http://127.0.0.1:{port}{path}"
                async with session.request(method, url) as response:
                    await response.read()
                    return response

            for index in range(50):
                if index == 10:
                    # A stream in flight when the stop begins is prepared during the drain.
                    old.hold = True
                    held = asyncio.create_task(send("GET", "/chunked"))
                    await asyncio.wait_for(old.held.wait(), TIMEOUT)
                    drained = asyncio.create_task(old_runner.cleanup())
                    await asyncio.wait_for(old.stopping.wait(), TIMEOUT)
                    new_runner, _ = await start_on(Draining(), port)
                    old.release.set()
                    stream = await asyncio.wait_for(held, TIMEOUT)
                    assert stream.headers["Connection"] == "close"
                    assert stream.headers["Server"] == SERVER
                else:
                    stream = await send("GET", "/chunked")
                # Not retried by the client, as a GET would be (see above).
                plain = await send("POST", "/ping")
                assert (stream.status, plain.status) == (200, 200)
        assert drained is not None
        await asyncio.wait_for(drained, TIMEOUT)
    finally:
        await old_runner.cleanup()
        if new_runner is not None:
            await new_runner.cleanup()


class PreparesAResponse(typedsvc.Service):
    options = Options(http=HttpOptions())

    # Declared as a web.Response, which typedsvc expects to be returned unprepared.
    @typedsvc.http("GET", r"/prepared")
    async def prepared(self, request: web.Request) -> web.Response:
        response = web.Response(text="by hand")
        await response.prepare(request)
        return response

    @typedsvc.http("GET", r"/ping")
    async def ping(self, request: web.Request) -> str:
        return "pong"


async def test_keepalive_off_a_prepared_web_response_keeps_the_connection_it_promised(
    serve: MakeClient,
) -> None:
    client = await serve(PreparesAResponse())
    connection = await Connection.open(port_of(client))
    try:
        prepared = await connection.get("/prepared")
        assert ("connection" in prepared, prepared["server"]) == (False, SERVER_SOFTWARE)
        # Still open, as the response said: the next request is answered, then closed.
        ping = await connection.get("/ping")
        assert (ping["status"], ping["connection"], ping["server"]) == ("200", "close", "typedsvc")
        assert await connection.closed_by_server()
    finally:
        connection.close()


async def test_keepalive_other_resources_of_the_application_keep_aiohttp_headers() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    app = typedsvc.create_app(service_with(HttpOptions(server_header=SERVER)))

    async def other(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"other")
        return response

    app.router.add_get("/other", other)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        ours = await client.get("/chunked")
        theirs = await client.get("/other")
        assert (ours.headers["Server"], ours.headers["Connection"]) == (SERVER, "close")
        assert theirs.headers["Server"] == SERVER_SOFTWARE
        assert "Connection" not in theirs.headers


class Events(typedsvc.Service):
    options = Options(http=HttpOptions(keepalive_timeout=5))

    @typedsvc.http("GET", r"/events")
    async def events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: hello\n\n")
        return response

    @typedsvc.http("GET", r"/text")
    async def text(self, request: web.Request) -> str:
        return "text"


async def everything_sent(port: int, data: bytes) -> bytes:
    """What the server sends for ``data`` until it closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_keepalive_head_of_a_stream_sends_no_body(serve: MakeClient) -> None:
    # Else the client reads the stream's bytes as the start of the next answer.
    client = await serve(Events())
    port = client.url("/").port
    assert port is not None
    sent = await everything_sent(
        port,
        b"HEAD /events HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET /text HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    head, _, rest = sent.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")
    assert rest.endswith(b"\r\n\r\ntext")
    assert b"data: hello" not in sent


async def test_keepalive_stream_to_http_1_0_ends_with_its_connection(serve: MakeClient) -> None:
    # HTTP/1.0 has no chunks: a body without a length ends when the connection does.
    client = await serve(Events())
    port = client.url("/").port
    assert port is not None
    sent = await everything_sent(port, b"GET /events HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert sent.startswith(b"HTTP/1.0 200 OK\r\n")
    assert sent.endswith(b"\r\n\r\ndata: hello\n\n")
