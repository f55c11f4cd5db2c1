"""The access log: one line per request, skipped per route as ``ignore_logging`` says."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from typedsvc._client_ip import get_forwarded_remote_ip, match_info_of

ACCESS_LOGGER: Final = logging.getLogger("typedsvc.access")
# What the access log shows for a request whose client left before the answer (nginx's 499).
CLIENT_CLOSED_REQUEST: Final = 499


class RouteLogging:
    """Which statuses of one route are left out of the access log."""

    __slots__ = ("_ignore",)

    def __init__(self, ignore: bool | frozenset[int]) -> None:
        self._ignore = ignore

    def should_log(self, status: int) -> bool:
        if self._ignore is True:
            return status >= 500
        if self._ignore is False:
            return True
        return status not in self._ignore


class AccessLogger(AbstractAccessLogger):
    """Logs ``remote "METHOD path" status size duration "user agent"``, fields also as extras."""

    @property
    def enabled(self) -> bool:
        # Checked by aiohttp before it measures anything: no work when INFO is filtered out.
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        status = response.status
        if request.transport is None:
            # The client left before its answer, which aiohttp dropped: a handler that ran
            # to its end (one reading the body or writing a stream ends with a 499 already).
            status = CLIENT_CLOSED_REQUEST
        match_info = match_info_of(request)
        route = match_info.route if match_info is not None else None
        logging_rule = getattr(route, "typedsvc_logging", None)
        if isinstance(logging_rule, RouteLogging) and not logging_rule.should_log(status):
            return
        remote = get_forwarded_remote_ip(request) or "-"
        user_agent = request.headers.get("User-Agent", "-")
        size = response.body_length
        duration_ms = round(time * 1000, 3)
        self.logger.info(
            '%s "%s %s" %d %dB %.2fms "%s"',
            remote,
            request.method,
            request.path,
            status,
            size,
            duration_ms,
            user_agent,
            extra={
                "remote": remote,
                "method": request.method,
                "path": request.path,
                "status": status,
                "size": size,
                "duration_ms": duration_ms,
                "user_agent": user_agent,
            },
        )


# The fields AccessLogger puts on each record, in the order the JSON lines list them.
FIELDS: Final = ("remote", "method", "path", "status", "size", "duration_ms", "user_agent")


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per access-log record: its time and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        }
        entry.update({name: getattr(record, name, None) for name in FIELDS})
        return json.dumps(entry, ensure_ascii=False)


def file_logger(path: str) -> tuple[logging.Logger, logging.Handler]:
    """A logger of its own that writes JSON lines to ``path``, and its handler (to close)."""
    # Not from logging.getLogger: the manager would keep it, and its file, forever.
    logger = logging.Logger(f"typedsvc.access[{path}]", logging.INFO)
    # delay: the file is created by the first request, not by building the application.
    # backslashreplace: aiohttp keeps the bytes of a header that are not UTF-8 as lone
    # surrogates, which UTF-8 cannot encode; written as \udcff, they stay JSON.
    handler = logging.FileHandler(path, encoding="utf-8", delay=True, errors="backslashreplace")
    handler.setFormatter(JsonLinesFormatter())
    logger.addHandler(handler)
    logger.propagate = False
    return logger, handler
