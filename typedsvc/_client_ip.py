"""The client's address behind trusted proxies: ``get_forwarded_remote_ip``."""

from __future__ import annotations

import ipaddress
from typing import Final

from aiohttp import web
from aiohttp.web_urldispatcher import UrlMappingMatchInfo

from typedsvc._options import HttpOptions, IpNetwork


class RealIp:
    """Which peers may name the client in a header (``real_ip_from``), and which header."""

    __slots__ = ("_header", "_networks")

    def __init__(self, options: HttpOptions) -> None:
        self._networks: tuple[IpNetwork, ...] = options.real_ip_networks
        self._header = options.real_ip_header

    def of(self, request: web.BaseRequest) -> str | None:
        peer = request.remote
        if not self._networks or peer is None or not self._trusted(peer):
            return peer
        value = request.headers.get(self._header, "")
        # X-Forwarded-For lists the client first, then each proxy it went through.
        first = value.split(",", 1)[0].strip()
        try:
            return str(ipaddress.ip_address(first))
        except ValueError:
            return peer

    def _trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


REAL_IP_KEY: Final = web.AppKey("typedsvc.real_ip", RealIp)


def get_forwarded_remote_ip(request: web.BaseRequest) -> str | None:
    """The client's address: the first entry of ``real_ip_header`` when the peer is trusted.

    The header is believed only when the peer's address lies in a network of
    ``HttpOptions.real_ip_from``; otherwise, and for a header that holds no IP
    address, this is the peer's address (None when the transport has none).
    """
    match_info = match_info_of(request)
    resolver = match_info.current_app.get(REAL_IP_KEY) if match_info is not None else None
    return resolver.of(request) if resolver is not None else request.remote


def match_info_of(request: web.BaseRequest) -> UrlMappingMatchInfo | None:
    """``request.match_info``; None for a request that never reached routing.

    aiohttp answers a request it cannot parse (and logs it) without routing it: then
    ``request.match_info`` and ``request.app`` fail an assertion, or under ``python -O``
    an attribute lookup on None.
    """
    if not isinstance(request, web.Request):
        return None
    try:
        return request.match_info
    except (AssertionError, AttributeError):
        return None
