"""Options and HttpOptions: immutable service settings, validated when constructed."""

from __future__ import annotations

import ipaddress
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

DEFAULT_CLIENT_MAX_SIZE: Final = 100 * 1024 * 1024
_SIZE_RE: Final = re.compile(r"(?i)\s*(\d+)\s*(?:([KMG])(?:I?B)?|B)?\s*")
_SIZE_UNITS: Final = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_size(value: int | str) -> int:
    """A byte count from an int or a string such as ``"2K"``, ``"10M"`` or ``"1G"``."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"HttpOptions.client_max_size must be a number of bytes, got {value!r}.")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"HttpOptions.client_max_size must be positive, got {value}.")
        return value
    match = _SIZE_RE.fullmatch(value)
    if match is None:
        raise ValueError(
            f"HttpOptions.client_max_size {value!r} is not a size; write bytes as an int "
            'or a string such as "512K", "10M" or "1G".'
        )
    size = int(match[1]) * _SIZE_UNITS[(match[2] or "").upper()]
    if size <= 0:
        raise ValueError(f"HttpOptions.client_max_size must be positive, got {value!r}.")
    return size


def _check_number(name: str, value: object, owner: str = "HttpOptions") -> None:
    # bool is an int and NaN compares false with everything: both would slip through.
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{owner}.{name} must be a number, got {value!r}.")


def _check_path(name: str, url: object, example: str) -> None:
    # Checked as an object: untyped code can pass anything.
    if url is not None and (
        not isinstance(url, str) or not url.startswith("/") or any(c in url for c in "?#")
    ):
        raise ValueError(f'HttpOptions.{name} must be a path such as "{example}", got {url!r}.')


def _default_reuse_port() -> bool:
    return sys.platform == "linux"


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpOptions:
    """How the HTTP server listens and answers. Every field is validated on construction."""

    host: str = "0.0.0.0"
    port: int = 9700
    keepalive_timeout: float = 0
    max_keepalive_requests: int | None = None
    max_keepalive_time: float | None = None
    client_max_size: int | str = DEFAULT_CLIENT_MAX_SIZE
    server_header: str = "typedsvc"
    content_type: str = "text/plain"
    charset: str = "utf-8"
    # True: a line per request on the "typedsvc.access" logger; a str: JSON lines to that file.
    access_log: bool | str = True
    termination_grace_period_seconds: float = 30
    reuse_port: bool = field(default_factory=_default_reuse_port)
    real_ip_from: Sequence[str] = ()
    real_ip_header: str = "X-Forwarded-For"
    # A path to serve the service's OpenAPI document at (GET), or None for none.
    openapi_url: str | None = None
    # A path that answers 200 while serving and 503 once a stop signal arrives (GET).
    readiness_url: str | None = None
    # How long to go on serving after a stop signal, readiness answering 503, before the
    # listener closes and requests in flight drain.
    stop_delay_seconds: float = 0

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("HttpOptions.host must not be empty; use '0.0.0.0' for every address.")
        if isinstance(self.port, bool) or not 0 <= self.port <= 65535:
            raise ValueError(f"HttpOptions.port must be from 0 to 65535, got {self.port!r}.")
        for name in ("keepalive_timeout", "termination_grace_period_seconds", "stop_delay_seconds"):
            _check_number(name, getattr(self, name))
        if self.keepalive_timeout < 0:
            raise ValueError(
                f"HttpOptions.keepalive_timeout must be 0 (off) or positive, "
                f"got {self.keepalive_timeout!r}."
            )
        for name in ("max_keepalive_requests", "max_keepalive_time"):
            value = getattr(self, name)
            if value is None:
                continue
            _check_number(name, value)
            if value <= 0:
                raise ValueError(f"HttpOptions.{name} must be positive, got {value!r}.")
            if not self.keepalive_timeout:
                raise ValueError(
                    f"HttpOptions.{name} needs keep-alive; set keepalive_timeout above 0."
                )
        parse_size(self.client_max_size)
        try:
            # Encoding (not just lookup) rejects codecs such as rot13 that are not text encodings.
            "".encode(self.charset)
        except LookupError:
            raise ValueError(
                f"HttpOptions.charset {self.charset!r} is not a known text encoding."
            ) from None
        if any(char in self.server_header for char in "\r\n\0"):
            raise ValueError("HttpOptions.server_header must not contain line breaks or NUL.")
        if "/" not in self.content_type:
            raise ValueError(
                f"HttpOptions.content_type {self.content_type!r} is not a media type "
                "such as 'text/plain'."
            )
        if self.termination_grace_period_seconds < 0:
            raise ValueError(
                "HttpOptions.termination_grace_period_seconds must not be negative, "
                f"got {self.termination_grace_period_seconds!r}."
            )
        if isinstance(self.real_ip_from, str):
            # A lone string would otherwise be read as a sequence of characters.
            object.__setattr__(self, "real_ip_from", (self.real_ip_from,))
        for network in self.real_ip_from:
            try:
                if not isinstance(network, str):
                    raise ValueError(network)
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"HttpOptions.real_ip_from entry {network!r} is not an IP address or network."
                ) from None
        object.__setattr__(self, "real_ip_from", tuple(self.real_ip_from))
        if self.access_log == "":
            raise ValueError("HttpOptions.access_log must be True, False or a file path.")
        if not self.real_ip_header:
            raise ValueError("HttpOptions.real_ip_header must not be empty.")
        if self.stop_delay_seconds < 0:
            raise ValueError(
                "HttpOptions.stop_delay_seconds must not be negative, "
                f"got {self.stop_delay_seconds!r}."
            )
        _check_path("openapi_url", self.openapi_url, "/openapi.json")
        _check_path("readiness_url", self.readiness_url, "/ready")
        if self.readiness_url is not None and self.readiness_url == self.openapi_url:
            raise ValueError(
                f"HttpOptions.readiness_url and openapi_url are both {self.readiness_url!r}; "
                "give them two paths."
            )

    @property
    def client_max_bytes(self) -> int:
        """``client_max_size`` in bytes."""
        return parse_size(self.client_max_size)

    @property
    def real_ip_networks(self) -> tuple[IpNetwork, ...]:
        """``real_ip_from`` parsed into networks."""
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.real_ip_from)


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """All options of a service."""

    http: HttpOptions = field(default_factory=HttpOptions)
    # How long each lifecycle hook may run before it is cancelled: one that hangs (a database
    # that never answers) must not keep a service from starting, or from stopping, for ever.
    lifecycle_hook_timeout_seconds: float = 60

    def __post_init__(self) -> None:
        seconds = self.lifecycle_hook_timeout_seconds
        _check_number("lifecycle_hook_timeout_seconds", seconds, "Options")
        if seconds <= 0:
            raise ValueError(
                f"Options.lifecycle_hook_timeout_seconds must be positive, got {seconds!r}."
            )
