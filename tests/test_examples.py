"""Every example runs: each is served and answers as its comments say."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from conftest import MakeClient

import typedsvc

EXAMPLES = Path(__file__).parent.parent / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def service(module: ModuleType, name: str) -> typedsvc.Service:
    cls: object = getattr(module, name)
    assert isinstance(cls, type)
    assert issubclass(cls, typedsvc.Service)
    return cls()


async def test_example_http_service(serve: MakeClient) -> None:
    client = await serve(service(load("http_service"), "ExampleService"))
    assert await (await client.get("/resource/abc")).text() == "id = abc"
    assert await (await client.get("/health")).text() == "Healthy"
    assert (await client.get("/items/abc")).status == 400
    assert await (await client.get("/missing")).text() == "error 404"


async def test_example_transport_service(serve: MakeClient) -> None:
    client = await serve(service(load("transport_service"), "TransportService"))
    page = await client.get("/public/index.html")
    assert page.status == 200
    assert "http_static" in await page.text()
    denied = await client.get("/private/hello")
    assert (denied.status, await denied.text()) == (401, "401: send Authorization: Bearer secret")
    allowed = await client.get("/private/hello", headers={"Authorization": "Bearer secret"})
    assert await allowed.text() == "hello ada"
    async with client.ws_connect("/echo/news") as ws:
        assert await ws.receive_str(timeout=5) == "joined news"
        await ws.send_str("hi")
        assert await ws.receive_str(timeout=5) == "news: hi"
