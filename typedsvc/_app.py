"""create_app(): a Service as an aiohttp application; the only module that touches routing."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Final

from aiohttp import hdrs, web
from aiohttp.abc import AbstractMatchInfo
from aiohttp.web_urldispatcher import (
    AbstractResource,
    AbstractRoute,
    ResourceRoute,
    UrlMappingMatchInfo,
)
from yarl import URL

from typedsvc._access_log import AccessLogger, RouteLogging, file_logger
from typedsvc._client_ip import REAL_IP_KEY, RealIp
from typedsvc._decorators import RouteSpec
from typedsvc._middleware import through
from typedsvc._normalize import Defaults, InvalidResponseError, normalize
from typedsvc._options import HttpOptions
from typedsvc._service import Service, routes_of, run_hook
from typedsvc._static import StaticSpec
from typedsvc._types import ResponseValue
from typedsvc._urls import decode_path_value, literal_prefix
from typedsvc._websocket import OpenWebsockets, WebsocketSpec

LOGGER: Final = logging.getLogger("typedsvc")
SERVICE_KEY: Final = web.AppKey("typedsvc.service", Service)

# Headers that describe an exception's own body; an error handler's body replaces them.
_BODY_HEADERS: Final = frozenset(
    {hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH, hdrs.CONTENT_ENCODING, hdrs.TRANSFER_ENCODING}
)
_MAX_ECHOED_VALUE: Final = 60

AiohttpHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Matcher = Callable[[str], dict[str, str] | None]


def create_app(service: Service) -> web.Application:
    """The aiohttp application that serves ``service``, the same one ``typedsvc run`` serves."""
    if isinstance(service, type) and issubclass(service, Service):
        raise TypeError(
            "create_app() takes a Service instance, not the class; "
            f"write create_app({service.__name__}())."
        )
    if not isinstance(service, Service):
        raise TypeError(f"create_app() takes a typedsvc.Service, got {type(service).__name__}.")
    options = service.options.http
    errors = _ErrorHandlers(service)
    response_headers = _ResponseHeaders(options)
    access_log: logging.Logger | None = LOGGER.getChild("access") if options.access_log else None
    file_handler: logging.Handler | None = None
    if isinstance(options.access_log, str):
        access_log, file_handler = file_logger(options.access_log)
    app = web.Application(
        client_max_size=options.client_max_bytes,
        handler_args=_handler_args(options, access_log),
        middlewares=[errors.routing_middleware] if errors.handles_routing else [],
    )
    app[SERVICE_KEY] = service
    app[REAL_IP_KEY] = RealIp(options)
    resource = _ServiceResource()
    websockets = OpenWebsockets()
    for attr, spec in routes_of(type(service)).routes:
        if isinstance(spec, StaticSpec):
            handler = _with_error_handlers(spec.handle, errors)
            resource.add(spec.url, spec.match, spec.methods, handler)
        elif isinstance(spec, WebsocketSpec):
            handler = _with_error_handlers(websockets.handler(spec, getattr(service, attr)), errors)
            resource.add(spec.url, _regex_matcher(spec.pattern), spec.methods, handler)
        else:
            handler = _route_handler(spec, getattr(service, attr), errors, service)
            resource.add(
                spec.url, _regex_matcher(spec.pattern), spec.methods, handler, spec.ignore_logging
            )
    app.router.register_resource(resource)
    app.on_response_prepare.append(response_headers.on_prepare)

    # aiohttp runs on_startup before the server accepts requests, on_shutdown once it has
    # stopped accepting them, and on_cleanup after the requests in flight have drained.
    async def start(app: web.Application) -> None:
        await run_hook(service, "_start_service")

    async def stopping(app: web.Application) -> None:
        response_headers.stopping = True
        await websockets.close_all()
        await run_hook(service, "_stopping_service")

    async def stop(app: web.Application) -> None:
        try:
            await run_hook(service, "_stop_service")
        finally:
            if file_handler is not None:
                file_handler.close()

    app.on_startup.append(start)
    app.on_shutdown.append(stopping)
    app.on_cleanup.append(stop)
    return app


def _handler_args(options: HttpOptions, access_log: logging.Logger | None) -> dict[str, Any]:
    return {
        "access_log_class": AccessLogger,
        "access_log": access_log,
        # With keep-alive off every response closes the connection (see _ResponseHeaders),
        # so aiohttp's idle timeout only matters when it is on.
        "keepalive_timeout": options.keepalive_timeout or 75.0,
    }


class _PrefixIndex:
    """Which routes may match a path, found by their literal prefixes.

    Prefixes are kept by length: a path is looked up once per distinct prefix length
    (a slice and a dict lookup each), and only tried against the routes whose prefix it
    starts with. The cost grows with the number of distinct lengths, not of routes.
    """

    def __init__(self) -> None:
        self._by_length: dict[int, dict[str, list[int]]] = {}
        self._lengths: list[int] = []

    def add(self, prefix: str, index: int) -> None:
        table = self._by_length.setdefault(len(prefix), {})
        table.setdefault(prefix, []).append(index)
        self._lengths = sorted(self._by_length)

    def candidates(self, path: str) -> list[int]:
        """The routes that may match ``path``, in declaration order."""
        found: list[int] = []
        lists = 0
        size = len(path)
        by_length = self._by_length
        for length in self._lengths:
            if length > size:
                break
            routes = by_length[length].get(path[:length])
            if routes is not None:
                found.extend(routes)
                lists += 1
        if lists > 1:
            found.sort()
        return found


class _ServiceResource(AbstractResource):
    """All routes of one service, tried in declaration order against the whole path."""

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[tuple[Matcher, dict[str, AbstractRoute], frozenset[str]]] = []
        self._index = _PrefixIndex()
        self._prefix = ""

    def add(
        self,
        url: str,
        match: Matcher,
        methods: Sequence[str],
        handler: AiohttpHandler,
        ignore_logging: bool | frozenset[int] = False,
    ) -> None:
        """Add a route: ``match`` gives the match_info of a path it takes, or None."""
        self._index.add(literal_prefix(url), len(self._entries))
        answered = list(methods)
        if "GET" in answered and "HEAD" not in answered:
            answered.append("HEAD")
        logging_rule = RouteLogging(ignore_logging)
        routes: dict[str, AbstractRoute] = {
            method: _Route(method, handler, self, logging_rule) for method in answered
        }
        self._entries.append((match, routes, frozenset(routes)))

    @property
    def canonical(self) -> str:
        # Indexed at the root, so aiohttp tries resources added beside ours first.
        return self._prefix or "/"

    def url_for(self, **kwargs: str) -> URL:
        raise NotImplementedError("typedsvc routes are regexes and cannot build urls.")

    def add_prefix(self, prefix: str) -> None:
        self._prefix = prefix.rstrip("/") + self._prefix

    def raw_match(self, path: str) -> bool:
        return False

    def get_info(self) -> dict[str, Any]:  # type: ignore[override]  # aiohttp's _InfoDict is private  # pyright: ignore[reportIncompatibleMethodOverride]
        return {"prefix": self._prefix}

    def __len__(self) -> int:
        return sum(len(routes) for _, routes, _ in self._entries)

    def __iter__(self) -> Iterator[AbstractRoute]:
        for _, routes, _ in self._entries:
            yield from routes.values()

    async def resolve(self, request: web.Request) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        # path_safe is decoded except for %2F and %25, so an encoded slash stays
        # inside its segment while the regex is matched.
        path = request.rel_url.path_safe
        if self._prefix:
            if not path.startswith(self._prefix):
                return None, set()
            path = path[len(self._prefix) :] or "/"
        method = request.method
        allowed: set[str] = set()
        entries = self._entries
        for index in self._index.candidates(path):
            match, routes, methods = entries[index]
            values = match(path)
            if values is None:
                continue
            route = routes.get(method)
            if route is None:
                allowed |= methods
                continue
            return UrlMappingMatchInfo(values, route), allowed
        return None, allowed


def _regex_matcher(pattern: re.Pattern[str]) -> Matcher:
    """Match the whole path; the named groups, percent-decoded, are the match_info."""

    def match(path: str) -> dict[str, str] | None:
        found = pattern.fullmatch(path)
        if found is None:
            return None
        # A group that took no part in the match is left out, so its default applies.
        return {
            name: decode_path_value(value)
            for name, value in found.groupdict().items()
            if value is not None
        }

    return match


class _Route(ResourceRoute):
    """An aiohttp route that also carries its access-log rule."""

    def __init__(
        self,
        method: str,
        handler: AiohttpHandler,
        resource: AbstractResource,
        logging_rule: RouteLogging,
    ) -> None:
        super().__init__(method, handler, resource)
        self.typedsvc_logging = logging_rule


def _route_handler(
    spec: RouteSpec,
    call: Callable[..., Awaitable[ResponseValue]],
    errors: _ErrorHandlers,
    service: Service,
) -> AiohttpHandler:
    """The aiohttp handler for one route: convert groups, call, normalize, answer errors."""
    options = service.options.http
    middlewares = tuple(service.http_middleware)
    accepts = _accepted_names(call)
    conversions = spec.conversions
    defaults = Defaults(options.content_type, options.charset)
    max_size = options.client_max_bytes
    where = spec.where
    required = spec.required_groups
    group_count = len(spec.pattern.groupindex)

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            length = request.content_length
            if length is not None and length > max_size:
                raise web.HTTPRequestEntityTooLarge(max_size=max_size, actual_size=length)
            match_info = request.match_info
            kwargs: dict[str, object] = dict(match_info)
            if len(kwargs) < group_count:
                # An optional group without a default still gets a value: the empty string.
                for name in required:
                    kwargs.setdefault(name, "")
            for name, convert, type_name in conversions:
                if name in kwargs:
                    kwargs[name] = _convert(name, str(kwargs[name]), convert, type_name)
            if middlewares:
                value = await through(
                    middlewares,
                    service,
                    request,
                    lambda extra: call(request, **{**_pick(extra, accepts), **kwargs}),
                )
            else:
                value = await call(request, **kwargs)
            return normalize(value, defaults)
        except web.HTTPException as exc:
            return await errors.for_http_exception(request, exc)
        except Exception as exc:
            _log_failure(where, exc)
            return await errors.for_exception(request)
        except asyncio.CancelledError:
            # aiohttp cancels what still runs when a stop's grace period ends.
            LOGGER.warning('"%s" was cancelled before it answered.', where)
            raise

    return handle


def _accepted_names(call: Callable[..., object]) -> frozenset[str] | None:
    """The keyword parameters a handler declares after the request; None when it takes any."""
    parameters = list(inspect.signature(call).parameters.values())[1:]
    if any(param.kind is param.VAR_KEYWORD for param in parameters):
        return None
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return frozenset(param.name for param in parameters if param.kind in keyword)


def _pick(extra: dict[str, Any], accepts: frozenset[str] | None) -> dict[str, Any]:
    """The values a middleware passed on that the handler declares (url groups win)."""
    if accepts is None:
        return extra
    return {name: value for name, value in extra.items() if name in accepts}


def _with_error_handlers(inner: AiohttpHandler, errors: _ErrorHandlers) -> AiohttpHandler:
    """``inner``, with its HTTP errors (a static 404, a websocket's 426) sent to ``errors``."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await inner(request)
        except web.HTTPException as exc:
            return await errors.for_http_exception(request, exc)

    return handle


def _convert(name: str, text: str, convert: Callable[[str], object], type_name: str) -> object:
    try:
        return convert(text)
    except ValueError:
        shown = text if len(text) <= _MAX_ECHOED_VALUE else text[:_MAX_ECHOED_VALUE] + "..."
        raise web.HTTPBadRequest(
            text=f'400: url parameter "{name}" must be {type_name}, got {shown!r}.'
        ) from None


def _log_failure(where: str, exc: Exception) -> None:
    """Log why a handler's request was answered 500: a bad return value, or an exception."""
    if isinstance(exc, InvalidResponseError):
        LOGGER.error(
            '"%s" returned %s, which is not a typedsvc.ResponseValue; answered 500.', where, exc
        )
    else:
        LOGGER.error('"%s" raised an exception; answered 500.', where, exc_info=exc)


def _internal_error() -> web.Response:
    return web.Response(status=500, text="500: Internal Server Error")


class _ErrorHandlers:
    """The service's ``@http_error`` handlers and the rules for running them."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._middlewares = tuple(service.http_middleware)
        self._defaults = Defaults(service.options.http.content_type, service.options.http.charset)
        self._handlers: dict[int, tuple[str, Callable[..., Awaitable[ResponseValue]], bool]] = {
            spec.status: (spec.where, getattr(service, attr), spec.takes_status_code)
            for attr, spec in routes_of(type(service)).error_handlers
        }
        self._accepts = {
            status: _accepted_names(call) for status, (_, call, _) in self._handlers.items()
        }
        self.handles_routing = bool(self._handlers.keys() & {404, 405})

    @web.middleware
    async def routing_middleware(
        self, request: web.Request, handler: AiohttpHandler
    ) -> web.StreamResponse:
        """Answer aiohttp's 404 and 405 with the service's handlers for them."""
        match_info: AbstractMatchInfo = request.match_info
        exc = match_info.http_exception
        if exc is not None and exc.status in self._handlers:
            return await self._run(request, exc.status, exc)
        return await handler(request)

    async def for_http_exception(
        self, request: web.Request, exc: web.HTTPException
    ) -> web.StreamResponse:
        if exc.status not in self._handlers:
            # aiohttp renders the exception with its own body and headers.
            raise exc
        return await self._run(request, exc.status, exc)

    async def for_exception(self, request: web.Request) -> web.StreamResponse:
        if 500 not in self._handlers:
            return _internal_error()
        return await self._run(request, 500, None)

    async def _run(
        self, request: web.Request, status: int, exc: web.HTTPException | None
    ) -> web.StreamResponse:
        where, call, takes_status = self._handlers[status]
        given = {"status_code": status} if takes_status else {}
        try:
            if self._middlewares:
                accepts = self._accepts[status]
                value = await through(
                    self._middlewares,
                    self._service,
                    request,
                    lambda extra: call(request, **{**_pick(extra, accepts), **given}),
                )
            else:
                value = await call(request, **given)
            response = normalize(value, self._defaults, status)
        except web.HTTPException:
            raise
        except Exception as error:
            _log_failure(where, error)
            return _internal_error()
        if exc is not None and not response.prepared:
            for name, value in exc.headers.items():
                if name not in _BODY_HEADERS and name not in response.headers:
                    response.headers.add(name, value)
        return response


class _ResponseHeaders:
    """Sets the Server header and ends connections as the keep-alive options say."""

    def __init__(self, options: HttpOptions) -> None:
        # Set once the server stops accepting: responses still in flight close their connection.
        self.stopping = False
        self._server = options.server_header
        self._keepalive = options.keepalive_timeout > 0
        self._max_requests = options.max_keepalive_requests
        self._max_time = options.max_keepalive_time
        # Per connection: (requests answered, monotonic time of the first).
        self._connections: weakref.WeakKeyDictionary[object, list[float]] = (
            weakref.WeakKeyDictionary()
        )

    async def on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        if self._server:
            response.headers[hdrs.SERVER] = self._server
        if response.status == 101:
            # A websocket upgrade: its connection stays open for the socket's frames.
            return
        if not self._keepalive or self.stopping or self._limit_reached(request):
            # aiohttp computed Connection before this signal; set both the header and the state.
            response.force_close()
            response.headers[hdrs.CONNECTION] = "close"

    def _limit_reached(self, request: web.Request) -> bool:
        if self._max_requests is None and self._max_time is None:
            return False
        transport = request.transport
        if transport is None:  # pragma: no cover - the client is already gone
            return True
        state = self._connections.get(transport)
        if state is None:
            state = self._connections[transport] = [0, time.monotonic()]
        state[0] += 1
        if self._max_requests is not None and state[0] >= self._max_requests:
            return True
        return self._max_time is not None and time.monotonic() - state[1] >= self._max_time
