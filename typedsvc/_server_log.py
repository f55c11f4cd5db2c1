"""aiohttp's server log, with a request it cannot parse written as one line.

aiohttp answers a request it cannot parse (a broken request line, a header over its size
limit, a Content-Length beside a Transfer-Encoding) with 400 and closes the connection,
then logs the parser's exception with its traceback at ERROR. That is a client's mistake,
not the server's, and anyone can send them: a scanner would fill the error log. typedsvc
hands aiohttp this logger instead, which writes such a request as one INFO line with the
parser's reason (one DEBUG line where aiohttp logs it at DEBUG), a body it could not read
as one DEBUG line (see below), and passes every other record on as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web import RequestPayloadError

if TYPE_CHECKING:
    _Adapter = logging.LoggerAdapter[logging.Logger]
else:
    _Adapter = logging.LoggerAdapter


class ServerLog(_Adapter):
    """The ``logger`` of aiohttp's request handlers (the ``aiohttp.server`` logger)."""

    def exception(
        self,
        msg: object,
        *args: object,
        exc_info: Any = True,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
        **kwargs: object,
    ) -> None:
        if isinstance(exc_info, HttpProcessingError):
            # aiohttp's own words ("Error handling request from %s") name the client.
            self.info(f"{msg}: answered %d, %s", *args, exc_info.code, _reason(exc_info))
            return
        if isinstance(exc_info, RequestPayloadError):
            # After a response, aiohttp reads what is left of the request's body so that the
            # connection can carry the next request. A body that could not be read (a route
            # that read it has answered 400 and said it closes: see unreadable()) fails again
            # there, and aiohttp closes the connection.
            cause = exc_info.__cause__
            reason = _reason(cause) if isinstance(cause, HttpProcessingError) else exc_info
            self.debug("A request body that could not be read ended its connection: %s", reason)
            return
        super().exception(
            msg,
            *args,
            exc_info=exc_info,
            stack_info=stack_info,
            stacklevel=stacklevel,
            extra=extra,
            **kwargs,
        )

    def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        if isinstance(exc_info, HttpProcessingError):
            # A bad method in a connection's first request (TLS sent to the HTTP port, say),
            # which aiohttp keeps at DEBUG as the noise it is: one line too.
            self.log(
                logging.DEBUG, f"{msg}: answered %d, %s", *args, exc_info.code, _reason(exc_info)
            )
            return
        super().debug(msg, *args, **kwargs)


def _reason(error: HttpProcessingError) -> str:
    return error.message.strip().splitlines()[0].rstrip(":")


SERVER_LOG: Final = ServerLog(logging.getLogger("aiohttp.server"))
