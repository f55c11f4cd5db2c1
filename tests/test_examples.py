"""Every example runs: each is served and answers as its comments say."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from conftest import MakeClient

import typedsvc

EXAMPLES = Path(__file__).parent.parent / "examples"


def load(name: str) -> ModuleType:
    """Import ``examples/NAME.py`` once, as ``typedsvc run`` does (in ``sys.modules``)."""
    module_name = f"example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # msgspec and typing resolve the annotations of its classes through sys.modules.
    sys.modules[module_name] = module
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


async def test_example_json_api(serve: MakeClient) -> None:
    client = await serve(service(load("json_api"), "UsersApi"))
    created = await client.post(
        "/users", json={"name": "Ada Lovelace", "email": "ada@example.com", "tags": ["math"]}
    )
    assert created.status == 201
    user = await created.json()
    assert (user["id"], user["name"], user["age"], user["tags"]) == (
        1,
        "Ada Lovelace",
        None,
        ["math"],
    )
    found = await client.get("/users?q=Ada&tag=math", headers={"X-Request-Id": "r1"})
    assert (await found.json(), found.headers["X-Request-Id"]) == ([user], "r1")
    assert await (await client.get("/users?page-size=0")).json() == []
    assert await (await client.get("/users/1")).json() == user
    assert (await client.get("/users/2")).status == 404
    assert (await client.delete("/users/1")).status == 204
    invalid = await client.post("/users", json={"name": "", "email": "x", "age": 200})
    assert invalid.status == 422
    assert (await invalid.json())["errors"] == [
        {"in": "body", "name": "$.name", "message": "Expected `str` of length >= 1."}
    ]
    document = await client.get("/openapi.json")
    assert (await document.json())["info"]["title"] == "users-api"
