"""aiohttp's server log, with a request it cannot parse written as one line.

aiohttp answers a request it cannot parse (a broken request line, a header over its size
limit, a Content-Length beside a Transfer-Encoding) with 400 and closes the connection,
then logs the parser's exception with its traceback at ERROR. That is a client's mistake,
not the server's, and anyone can send them: a scanner would fill the error log. typedsvc
hands aiohttp this logger instead, which writes such a request as one INFO line with the
parser's reason, and passes every other record on as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp.http_exceptions import HttpProcessingError

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
            reason = exc_info.message.strip().splitlines()[0].rstrip(":")
            # aiohttp's own words ("Error handling request from %s") name the client.
            self.info(f"{msg}: answered %d, %s", *args, exc_info.code, reason)
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


SERVER_LOG: Final = ServerLog(logging.getLogger("aiohttp.server"))
