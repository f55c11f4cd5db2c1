"""Keep-alive follows HttpOptions, observed on a raw connection to a real server."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from conftest import Client, MakeClient

import typedsvc
from typedsvc import HttpOptions, Options

TIMEOUT = 5.0


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
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        await self.writer.drain()
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        status_line, *lines = head.decode().split("\r\n")
        headers = {"status": status_line.split()[1]}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        await asyncio.wait_for(self.reader.readexactly(int(headers["content-length"])), TIMEOUT)
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

    KeepAlive.options = Options(http=options)
    return KeepAlive()


def port_of(client: Client) -> int:
    port = client.make_url("/").port
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


async def test_keepalive_off_closes_after_a_response_the_handler_prepared(
    serve: MakeClient,
) -> None:
    connection = await open_connection(serve, HttpOptions(keepalive_timeout=0))
    try:
        headers = await connection.get("/stream")
        # Its headers went out before typedsvc saw it, so only the connection says it.
        assert (headers["status"], "connection" in headers) == ("200", False)
        assert await connection.closed_by_server()
    finally:
        connection.close()


async def test_keepalive_on_reuses_the_connection(serve: MakeClient) -> None:
    connection = await open_connection(serve, HttpOptions(keepalive_timeout=5))
    try:
        for _ in range(3):
            headers = await connection.get("/ping")
            assert headers["status"] == "200"
            assert "connection" not in headers
    finally:
        connection.close()


async def test_keepalive_closes_after_max_requests(serve: MakeClient) -> None:
    options = HttpOptions(keepalive_timeout=5, max_keepalive_requests=3)
    connection = await open_connection(serve, options)
    try:
        first = await connection.get("/ping")
        second = await connection.get("/ping")
        third = await connection.get("/ping")
        assert ("connection" in first, "connection" in second) == (False, False)
        assert third["connection"] == "close"
        assert await connection.closed_by_server()
    finally:
        connection.close()


async def test_keepalive_closes_after_max_time(serve: MakeClient) -> None:
    options = HttpOptions(keepalive_timeout=5, max_keepalive_time=0.2)
    connection = await open_connection(serve, options)
    try:
        first = await connection.get("/ping")
        await asyncio.sleep(0.3)
        second = await connection.get("/ping")
        assert "connection" not in first
        assert second["connection"] == "close"
        assert await connection.closed_by_server()
    finally:
        connection.close()


@pytest.mark.parametrize("limit", [1, 2])
async def test_keepalive_limits_are_per_connection(serve: MakeClient, limit: int) -> None:
    options = HttpOptions(keepalive_timeout=5, max_keepalive_requests=limit + 1)
    client = await serve(service_with(options))
    connections = [await Connection.open(port_of(client)) for _ in range(2)]
    try:
        for connection in connections:
            for _ in range(limit):
                assert "connection" not in await connection.get("/ping")
    finally:
        for connection in connections:
            connection.close()
