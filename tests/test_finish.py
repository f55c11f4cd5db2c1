"""may_return_prepared(): which declared return types admit a response prepared by hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any, Literal, Never, TypeVar

import pytest
from aiohttp import web

import typedsvc
from typedsvc._finish import may_return_prepared

T = TypeVar("T")


class OwnStream(web.StreamResponse):
    pass


class OwnResponse(web.Response):
    pass


def returning(annotation: object) -> Callable[..., Awaitable[object]]:
    async def handler(request: web.Request) -> None: ...

    handler.__annotations__ = {"request": web.Request, "return": annotation}
    return handler


async def unannotated(request):  # type: ignore[no-untyped-def]  # no return type on purpose  # pyright: ignore[reportMissingParameterType, reportUnknownParameterType]
    return "x"


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        pytest.param(str, False, id="str"),
        pytest.param(bytes, False, id="bytes"),
        pytest.param(None, False, id="None"),
        pytest.param(typedsvc.ResponseDict, False, id="ResponseDict"),
        pytest.param(tuple[int, str], False, id="tuple"),
        pytest.param(typedsvc.Response, False, id="typedsvc.Response"),
        pytest.param(web.Response, False, id="web.Response"),
        pytest.param(OwnResponse, False, id="a web.Response subclass"),
        pytest.param(str | web.Response | None, False, id="a union without streams"),
        pytest.param(Never, False, id="Never"),
        pytest.param(Literal["a"], False, id="Literal"),
        pytest.param(web.StreamResponse, True, id="web.StreamResponse"),
        pytest.param(web.FileResponse, True, id="web.FileResponse"),
        pytest.param(web.WebSocketResponse, True, id="web.WebSocketResponse"),
        pytest.param(OwnStream, True, id="a StreamResponse subclass"),
        pytest.param(str | web.FileResponse, True, id="a union with a stream"),
        pytest.param(Annotated[web.StreamResponse, "x"], True, id="Annotated stream"),
        pytest.param(Annotated[str, "x"], False, id="Annotated str"),
        pytest.param(typedsvc.ResponseValue, True, id="ResponseValue"),
        pytest.param(Any, True, id="Any"),
        pytest.param(object, True, id="object"),
        pytest.param(MutableMapping[str, str], True, id="an ABC a StreamResponse is"),
        pytest.param(T, True, id="a TypeVar"),
        pytest.param("web.StreamResponse", True, id="a string naming a stream"),
        pytest.param("str | None", False, id="a string naming str"),
        pytest.param("NotDefinedAnywhere", True, id="a string that does not resolve"),
    ],
)
def test_may_return_prepared(annotation: object, expected: bool) -> None:
    assert may_return_prepared(returning(annotation)) is expected


def test_may_return_prepared_without_a_return_annotation() -> None:
    assert may_return_prepared(unannotated) is True  # pyright: ignore[reportUnknownArgumentType]


class Plain(typedsvc.Service):
    @typedsvc.http("GET", r"/text")
    async def text(self, request: web.Request) -> str:
        return "x"

    @typedsvc.http("GET", r"/json")
    async def json(self, request: web.Request) -> web.Response:
        return web.json_response({})

    @typedsvc.http_error(status_code=404)
    async def missing(self, request: web.Request) -> tuple[int, str]:
        return 404, "missing"


class Streams(Plain):
    @typedsvc.http("GET", r"/stream")
    async def stream(self, request: web.Request) -> web.StreamResponse:
        return web.StreamResponse()


class StreamingErrors(Plain):
    @typedsvc.http_error(status_code=500)
    async def failed(self, request: web.Request) -> web.StreamResponse:
        return web.StreamResponse()


async def passing(
    next: typedsvc.Next, service: Any, request: web.Request
) -> typedsvc.ResponseValue:
    return await next()


class WithMiddleware(Plain):
    http_middleware = (passing,)


@pytest.mark.parametrize(
    ("service", "receivers"),
    [
        pytest.param(Plain(), 0, id="no handler may prepare"),
        pytest.param(Streams(), 1, id="a route may"),
        pytest.param(StreamingErrors(), 1, id="an error handler may"),
        pytest.param(WithMiddleware(), 1, id="a middleware may"),
    ],
)
def test_create_app_listens_at_prepare_only_when_a_handler_may_prepare(
    service: typedsvc.Service, receivers: int
) -> None:
    # The signal runs on every request: services that cannot need it must not pay it.
    app = typedsvc.create_app(service)
    assert len(app.on_response_prepare) == receivers
