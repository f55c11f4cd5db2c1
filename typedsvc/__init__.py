"""typedsvc: HTTP services on aiohttp whose routes are checked at import and by mypy."""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from typedsvc._app import create_app
    from typedsvc._client_ip import get_forwarded_remote_ip
    from typedsvc._decorators import http, http_error
    from typedsvc._errors import DefinitionError, LifecycleHookTimeoutError
    from typedsvc._gunicorn import gunicorn_app
    from typedsvc._middleware import Middleware, Next
    from typedsvc._openapi import openapi
    from typedsvc._options import HttpOptions, Options
    from typedsvc._params import Body, Cookie, Header, Query, cookie, header, query
    from typedsvc._problems import InputError, input_errors
    from typedsvc._response import JsonResponse, Response
    from typedsvc._service import Service
    from typedsvc._static import http_static
    from typedsvc._types import Headers, HttpMethod, ResponseDict, ResponseValue
    from typedsvc._url_for import url_for
    from typedsvc._websocket import WebsocketCallbacks, websocket

__version__ = "0.1.0"

__all__ = [
    "Body",
    "Cookie",
    "DefinitionError",
    "Header",
    "Headers",
    "HttpMethod",
    "HttpOptions",
    "InputError",
    "JsonResponse",
    "LifecycleHookTimeoutError",
    "Middleware",
    "Next",
    "Options",
    "Query",
    "Response",
    "ResponseDict",
    "ResponseValue",
    "Service",
    "WebsocketCallbacks",
    "cookie",
    "create_app",
    "get_forwarded_remote_ip",
    "gunicorn_app",
    "header",
    "http",
    "http_error",
    "http_static",
    "input_errors",
    "openapi",
    "query",
    "url_for",
    "websocket",
]

# Public names are imported on first use. The mypy plugin imports typedsvc._urls, which
# runs this file: importing aiohttp here would add about half a second to every mypy run.
_HOMES: _typing.Final = {
    "Body": "typedsvc._params",
    "Cookie": "typedsvc._params",
    "DefinitionError": "typedsvc._errors",
    "Header": "typedsvc._params",
    "Headers": "typedsvc._types",
    "HttpMethod": "typedsvc._types",
    "HttpOptions": "typedsvc._options",
    "InputError": "typedsvc._problems",
    "LifecycleHookTimeoutError": "typedsvc._errors",
    "JsonResponse": "typedsvc._response",
    "Middleware": "typedsvc._middleware",
    "Next": "typedsvc._middleware",
    "Options": "typedsvc._options",
    "Query": "typedsvc._params",
    "Response": "typedsvc._response",
    "ResponseDict": "typedsvc._types",
    "ResponseValue": "typedsvc._types",
    "Service": "typedsvc._service",
    "WebsocketCallbacks": "typedsvc._websocket",
    "cookie": "typedsvc._params",
    "create_app": "typedsvc._app",
    "get_forwarded_remote_ip": "typedsvc._client_ip",
    "gunicorn_app": "typedsvc._gunicorn",
    "header": "typedsvc._params",
    "http": "typedsvc._decorators",
    "http_error": "typedsvc._decorators",
    "http_static": "typedsvc._static",
    "input_errors": "typedsvc._problems",
    "openapi": "typedsvc._openapi",
    "query": "typedsvc._params",
    "url_for": "typedsvc._url_for",
    "websocket": "typedsvc._websocket",
}


if not _typing.TYPE_CHECKING:
    # Hidden from type checkers, which would otherwise accept any attribute of typedsvc.

    def __getattr__(name: str) -> object:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module 'typedsvc' has no attribute {name!r}")
        value = getattr(_importlib.import_module(home), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
