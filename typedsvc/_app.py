"""create_app(): a Service as an aiohttp application, and the handlers aiohttp calls."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from aiohttp import hdrs, web

from typedsvc._access_log import AccessLogger, file_logger
from typedsvc._client_ip import REAL_IP_KEY, RealIp
from typedsvc._error_handlers import ErrorHandlers, answer_unsendable, failed
from typedsvc._extract import Reader, group_arguments, groups_caller
from typedsvc._finish import Finish, may_return_prepared
from typedsvc._middleware import accepted_names, pick, through
from typedsvc._normalize import (
    FROM_DEFAULTS,
    normalize,
    refusal,
)
from typedsvc._openapi import openapi
from typedsvc._options import HttpOptions
from typedsvc._readiness import READINESS_KEY, Readiness
from typedsvc._routing import AiohttpHandler, ServiceResource, regex_matcher, unmatched
from typedsvc._server_log import SERVER_LOG
from typedsvc._service import Service, routes_of, run_hook
from typedsvc._specs import RouteSpec, StaticSpec, WebsocketSpec
from typedsvc._static import static_handler, static_match
from typedsvc._types import ResponseValue
from typedsvc._urls import compile_url
from typedsvc._websocket import OpenWebsockets

LOGGER: Final = logging.getLogger("typedsvc")
SERVICE_KEY: Final = web.AppKey("typedsvc.service", Service)

_NO_GROUPS: Final[Mapping[str, object]] = MappingProxyType({})
# Seconds a connection has to send its request head when keep-alive is off (see
# _handler_args): nginx allows 60, uvicorn 5 between requests; a request head takes
# milliseconds unless the client is stalling on purpose.
REQUEST_HEAD_TIMEOUT: Final = 15.0


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
    finish = Finish(options)
    errors = ErrorHandlers(service, finish)
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
    max_size = options.client_max_bytes
    resource = ServiceResource(
        app.router, _with_error_handlers(unmatched, errors, finish, max_size)
    )
    websockets = OpenWebsockets(finish)
    for attr, spec in routes_of(type(service)).routes:
        if isinstance(spec, StaticSpec):
            handler = _with_error_handlers(static_handler(spec), errors, finish, max_size)
            resource.add(spec.url, static_match(spec), spec.methods, handler, whole_path=False)
        elif isinstance(spec, WebsocketSpec):
            call = getattr(service, attr)
            handler = _with_error_handlers(websockets.handler(spec, call), errors, finish, max_size)
            resource.add(spec.url, regex_matcher(compile_url(spec.url)), spec.methods, handler)
        else:
            handler = _route_handler(spec, getattr(service, attr), errors, finish, service)
            resource.add(
                spec.url,
                regex_matcher(compile_url(spec.url)),
                spec.methods,
                handler,
                spec.ignore_logging,
            )
    if options.openapi_url is not None:
        # After the service's own routes: a route of the service at that path comes first.
        document = _openapi_handler(service, options.openapi_url)
        handler = _with_error_handlers(document, errors, finish, max_size)
        url = re.escape(options.openapi_url)
        resource.add(url, regex_matcher(compile_url(url)), ("GET",), handler)
    readiness = app[READINESS_KEY] = Readiness()
    if options.readiness_url is not None:
        handler = _with_error_handlers(readiness.handler(), errors, finish, max_size)
        url = re.escape(options.readiness_url)
        # Probes come every few seconds, and 503 is what a stopping service should say.
        quiet = frozenset({200, 503})
        resource.add(url, regex_matcher(compile_url(url)), ("GET",), handler, quiet)
    app.router.register_resource(resource)
    for shortcut in resource.shortcuts():
        app.router.register_resource(shortcut)
    if _may_return_prepared(service):
        app.on_response_prepare.append(finish.on_prepare(resource))

    # aiohttp runs on_startup before the server accepts requests, on_shutdown once it has
    # stopped accepting them, and on_cleanup after the requests in flight have drained.
    async def start(app: web.Application) -> None:
        await run_hook(service, "_start_service")

    async def stopping(app: web.Application) -> None:
        # Already told by typedsvc run at the stop signal; by web.run_app only now.
        readiness.stop()
        finish.stop()
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


def _openapi_handler(service: Service, url: str) -> AiohttpHandler:
    """The handler that serves the service's OpenAPI document, made once at start-up."""
    body = json.dumps(openapi(service), indent=2).encode()

    async def document(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, content_type="application/json")

    return document


def _may_return_prepared(service: Service) -> bool:
    """Whether a handler, error handler or middleware of ``service`` is declared so that
    it may return a response it prepared itself (see typedsvc/_finish.py)."""
    declared = routes_of(type(service))
    calls: list[Callable[..., object]] = [
        getattr(service, attr) for attr, spec in declared.routes if isinstance(spec, RouteSpec)
    ]
    calls.extend(getattr(service, attr) for attr, _ in declared.error_handlers)
    calls.extend(service.http_middleware)
    return any(may_return_prepared(call) for call in calls)


def _handler_args(options: HttpOptions, access_log: logging.Logger | None) -> dict[str, Any]:
    return {
        "access_log_class": AccessLogger,
        "access_log": access_log,
        "logger": SERVER_LOG,
        # aiohttp closes a connection that has not sent a whole request head this long
        # after it opened or after its last response: with keep-alive on, that is the idle
        # timeout; with it off, the one bound on a client that trickles its headers.
        "keepalive_timeout": options.keepalive_timeout or REQUEST_HEAD_TIMEOUT,
    }


def _route_handler(
    spec: RouteSpec,
    call: Callable[..., Awaitable[ResponseValue]],
    errors: ErrorHandlers,
    finish: Finish,
    service: Service,
) -> AiohttpHandler:
    """The aiohttp handler for one route: convert groups, call, normalize, answer errors."""
    defaults = errors.defaults
    max_size = service.options.http.client_max_bytes
    where = spec.where
    invoke = _invoker(spec, call, service)

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            try:
                # _refuse_too_large(), written out: a call less on every request. aiohttp
                # has read (and kept) request.headers before any handler runs;
                # request.content_length or request.body_exists would be a call too.
                length = request.headers.get(hdrs.CONTENT_LENGTH)
                if length is not None and int(length) > max_size:
                    raise web.HTTPRequestEntityTooLarge(max_size=max_size, actual_size=int(length))
                value = await invoke(request)
                response = normalize(value, defaults)
                if finish.every_response:
                    # normalize() has set the Server header; this is the keep-alive verdict.
                    finish(request, response)
                if type(value) in FROM_DEFAULTS:
                    return response
                # aiohttp refuses a control character in a header or the reason only while
                # it writes them, and after the handler has returned the connection would
                # end without an answer, in a log that names no handler. Prepared here (as
                # aiohttp would next; for a response prepared already this does nothing),
                # the refusal is this handler's 500.
                try:
                    await response.prepare(request)
                except (ValueError, TypeError):
                    why = refusal(response)
                    if why is None:
                        raise
                    raise why from None
                return response
            except web.HTTPException as exc:
                refused = await answer_unsendable(request, where, exc, errors)
                if refused is None:
                    refused = await errors.for_http_exception(request, exc)
                response = refused
            except Exception as exc:
                response = await failed(request, where, exc, errors)
        except web.HTTPException as exc:
            # One an error handler raised, or one without an error handler.
            refused = await answer_unsendable(request, where, exc, errors)
            if refused is None:
                # Left for aiohttp to send as it is (an exception is a response in aiohttp 3).
                finish(request, exc)
                raise
            response = refused
        except asyncio.CancelledError:
            # aiohttp cancels what still runs when a stop's grace period ends.
            LOGGER.warning('"%s" was cancelled before it answered.', where)
            raise
        finish(request, response)
        return response

    return handle


def _invoker(
    spec: RouteSpec, call: Callable[..., Awaitable[ResponseValue]], service: Service
) -> Callable[[web.Request], Awaitable[ResponseValue]]:
    """How a route calls its handler: with its url groups, inputs and body, through the
    service's middleware. Chosen once per route, so that a request pays only for what its
    route declares: a route with none of them calls the handler itself."""
    middlewares = tuple(service.http_middleware)
    conversions = spec.conversions
    required = spec.required_groups
    group_count = len(spec.groups)
    reader = Reader(conversions, required, group_count, spec.inputs) if spec.inputs else None
    body_reader = reader if reader is not None and reader.has_body else None
    if reader is not None and body_reader is None and not middlewares:
        # Code written for the route reads its inputs and calls the handler by name.
        caller = reader.caller(call)
        if caller is not None:
            return caller

    def arguments(request: web.Request) -> Mapping[str, object]:
        """The handler's keyword arguments but a body."""
        # A url without groups has nothing in match_info: reading it is a call.
        match_info: Mapping[str, object] = request.match_info if group_count else _NO_GROUPS
        if reader is not None:
            return reader.read(request, match_info)
        if conversions or len(match_info) < group_count:
            return group_arguments(match_info, conversions, required, group_count, request)
        return match_info

    if middlewares:
        # Only a middleware can pass extra arguments; without one, the handler's
        # signature is never looked at.
        accepts = accepted_names(call)

        async def through_middleware(request: web.Request) -> ResponseValue:
            # The inputs are read inside the middleware, as the handler's own first step: a
            # middleware that answers itself (one that authenticates) does so before a body
            # is read, and one around the handler sees an invalid input's 400 come out of it.
            async def innermost(extra: dict[str, Any]) -> ResponseValue:
                if body_reader is None:
                    kwargs = arguments(request)
                else:
                    match_info = request.match_info if group_count else _NO_GROUPS
                    kwargs = await body_reader.read_body(request, match_info)
                return await call(request, **{**pick(extra, accepts), **kwargs})

            return await through(middlewares, service, request, innermost)

        return through_middleware
    if body_reader is not None:
        read_body = body_reader.read_body

        async def call_with_body(request: web.Request) -> ResponseValue:
            match_info = request.match_info if group_count else _NO_GROUPS
            return await call(request, **await read_body(request, match_info))

        return call_with_body
    if reader is None:
        if not group_count:
            return call
        # Code written for the route reads its url groups and calls the handler by name.
        caller = groups_caller(conversions, required, spec.groups, call)
        if caller is not None:
            return caller

    # Inputs whose defaults a decorator hid (see inputs_caller()), or a url group named
    # like a Python keyword (see groups_caller()).
    def with_arguments(request: web.Request) -> Awaitable[ResponseValue]:
        return call(request, **arguments(request))

    return with_arguments


def _refuse_too_large(request: web.Request, max_size: int) -> None:
    """Raise aiohttp's 413 for a request whose declared body is over ``max_size``."""
    length = request.headers.get(hdrs.CONTENT_LENGTH)
    if length is not None and int(length) > max_size:
        raise web.HTTPRequestEntityTooLarge(max_size=max_size, actual_size=int(length))


def _with_error_handlers(
    inner: AiohttpHandler, errors: ErrorHandlers, finish: Finish, max_size: int
) -> AiohttpHandler:
    """``inner``, with its HTTP errors (a static 404, a websocket's 426) sent to ``errors``,
    and a declared body over ``max_size`` refused as a route's handler refuses it."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            try:
                # None of these read a body: aiohttp would read on after the answer, for up
                # to 10 s, then close the connection unannounced.
                _refuse_too_large(request, max_size)
                response = await inner(request)
            except web.HTTPException as exc:
                response = await errors.for_http_exception(request, exc)
        except web.HTTPException as exc:
            finish(request, exc)
            raise
        finish(request, response)
        return response

    return handle
