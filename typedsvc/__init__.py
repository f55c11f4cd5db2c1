"""typedsvc: HTTP services on aiohttp whose routes are checked at import and by mypy."""

from typedsvc._app import create_app
from typedsvc._decorators import http, http_error
from typedsvc._errors import DefinitionError
from typedsvc._options import HttpOptions, Options
from typedsvc._response import Response
from typedsvc._service import Service
from typedsvc._types import Headers, HttpMethod, ResponseDict, ResponseValue

__version__ = "0.1.0"

__all__ = [
    "DefinitionError",
    "Headers",
    "HttpMethod",
    "HttpOptions",
    "Options",
    "Response",
    "ResponseDict",
    "ResponseValue",
    "Service",
    "create_app",
    "http",
    "http_error",
]
