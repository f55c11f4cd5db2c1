"""The service's ``@http_error`` handlers, and the answers to handlers that fail."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import hdrs, web
from aiohttp.abc import AbstractMatchInfo
from aiohttp.http_exceptions import HttpProcessingError

from typedsvc._access_log import CLIENT_CLOSED_REQUEST
from typedsvc._body import unreadable
from typedsvc._finish import Finish
from typedsvc._middleware import accepted_names, pick, through
from typedsvc._normalize import (
    FROM_DEFAULTS,
    Defaults,
    InvalidResponseError,
    UnsendableError,
    normalize,
    refusal,
    unsendable,
)
from typedsvc._routing import AiohttpHandler
from typedsvc._service import Service, routes_of
from typedsvc._types import ResponseValue
from typedsvc._websocket import went_away

LOGGER: Final = logging.getLogger("typedsvc")

# Headers that describe an exception's own body; an error handler's body replaces them.
_BODY_HEADERS: Final = frozenset(
    {hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH, hdrs.CONTENT_ENCODING, hdrs.TRANSFER_ENCODING}
)


async def failed(
    request: web.Request, where: str, exc: Exception, errors: ErrorHandlers
) -> web.StreamResponse:
    """The answer to a handler that raised ``exc``: a 500, unless the client caused it."""
    if went_away(exc, request):
        # The client closed the connection while the handler read its body or wrote a
        # stream to it: no fault of the service, and there is no one left to answer.
        LOGGER.debug('"%s": the client closed the connection before it was answered.', where)
        return web.Response(status=CLIENT_CLOSED_REQUEST, reason="Client Closed Request")
    if isinstance(exc, HttpProcessingError | web.RequestPayloadError):
        # A body that cannot be read (a broken chunk, one that does not decompress): the
        # client's mistake, answered as aiohttp answers a request it cannot parse, closing
        # the connection, whose next request cannot be told from the rest of this one.
        # (aiohttp's C parser never hands a broken chunk to the handler: see
        # tests/test_disconnects.py.)
        LOGGER.info('"%s": %s', where, unreadable(request, exc))
        refused = web.HTTPBadRequest()
        refused.force_close()
        return await errors.for_http_exception(request, refused)
    _log_failure(where, exc)
    return await errors.for_exception(request)


async def answer_unsendable(
    request: web.Request, where: str, exc: web.HTTPException, errors: ErrorHandlers
) -> web.StreamResponse | None:
    """The 500 for an ``HTTPException`` HTTP cannot carry; None for one it can.

    aiohttp would refuse it only as it wrote it, and the connection would end without an
    answer (a header built from the request that holds a line break, say).
    """
    why = unsendable(exc)
    if why is None:
        return None
    LOGGER.error('"%s" raised %s with %s; answered 500.', where, type(exc).__name__, why)
    return await errors.for_exception(request)


def _log_failure(where: str, exc: Exception) -> None:
    """Log why a handler's request was answered 500: a bad return value, or an exception."""
    if isinstance(exc, UnsendableError):
        LOGGER.error('"%s" returned %s; answered 500.', where, exc)
    elif isinstance(exc, InvalidResponseError):
        LOGGER.error(
            '"%s" returned %s, which is not a typedsvc.ResponseValue; answered 500.', where, exc
        )
    else:
        LOGGER.error('"%s" raised an exception; answered 500.', where, exc_info=exc)


def _internal_error() -> web.Response:
    return web.Response(status=500, text="500: Internal Server Error")


class ErrorHandlers:
    """The service's ``@http_error`` handlers and the rules for running them."""

    def __init__(self, service: Service, finish: Finish) -> None:
        self._service = service
        self._finish = finish
        self._middlewares = tuple(service.http_middleware)
        options = service.options.http
        # One for the whole service: every handler's plain responses share its headers.
        self.defaults = Defaults(options.content_type, options.charset, options.server_header)
        self._handlers: dict[int, tuple[str, Callable[..., Awaitable[ResponseValue]], bool]] = {
            spec.status: (spec.where, getattr(service, attr), spec.takes_status_code)
            for attr, spec in routes_of(type(service)).error_handlers
        }
        self._accepts = {
            status: accepted_names(call) if self._middlewares else None
            for status, (_, call, _) in self._handlers.items()
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
        # The rest of a body over client_max_size may still be on its way, and is not read:
        # the connection ends with this answer, and says so (aiohttp would otherwise read on
        # for up to 10 s, then close the connection unannounced).
        if exc.status == web.HTTPRequestEntityTooLarge.status_code:
            exc.force_close()
        if exc.status not in self._handlers:
            # aiohttp renders the exception with its own body and headers.
            raise exc
        response = await self._run(request, exc.status, exc)
        if exc.keep_alive is False:
            # The exception ends its connection (see above; a body that could not be read
            # too): the handler's answer does as well (_run() has had it say so, unless it
            # is the 500 of a handler that failed).
            response.force_close()
        return response

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
                    lambda extra: call(request, **{**pick(extra, accepts), **given}),
                )
            else:
                value = await call(request, **given)
            response = normalize(value, self.defaults, status)
        except web.HTTPException:
            raise
        except Exception as error:
            _log_failure(where, error)
            return _internal_error()
        if exc is not None and not response.prepared:
            for name, header in exc.headers.items():
                if name not in _BODY_HEADERS and name not in response.headers:
                    response.headers.add(name, header)
            if exc.keep_alive is False:
                # Before it is prepared below, so that its headers say so.
                response.force_close()
        if type(value) not in FROM_DEFAULTS:
            # Prepared here, as a route's handler prepares it (see typedsvc/_app.py), so that
            # aiohttp's refusal to send it is this handler's 500.
            self._finish(request, response)
            try:
                await response.prepare(request)
            except (ValueError, TypeError) as error:
                _log_failure(where, refusal(response) or error)
                return _internal_error()
        return response
