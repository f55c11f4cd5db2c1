"""HttpOptions and Options: defaults, immutability, size parsing and every validation message."""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import re
import sys
from typing import Any

import pytest

from typedsvc import HttpOptions, Options


def exactly(message: str) -> str:
    """A ``pytest.raises(match=...)`` pattern that accepts only ``message`` itself."""
    return f"^{re.escape(message)}$"


def test_http_options_defaults() -> None:
    options = HttpOptions()

    assert dataclasses.asdict(options) == {
        "host": "0.0.0.0",
        "port": 9700,
        "keepalive_timeout": 0,
        "max_keepalive_requests": None,
        "max_keepalive_time": None,
        "client_max_size": 100 * 1024 * 1024,
        "server_header": "typedsvc",
        "content_type": "text/plain",
        "charset": "utf-8",
        "access_log": True,
        "termination_grace_period_seconds": 30,
        "reuse_port": sys.platform == "linux",
        "real_ip_from": (),
        "real_ip_header": "X-Forwarded-For",
        "openapi_url": None,
        "readiness_url": None,
        "stop_delay_seconds": 0,
    }
    assert options.client_max_bytes == 104857600
    assert options.real_ip_networks == ()


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        pytest.param("linux", True, id="linux"),
        pytest.param("darwin", False, id="darwin"),
        pytest.param("win32", False, id="windows"),
    ],
)
def test_http_options_reuse_port_defaults_to_linux_only(
    monkeypatch: pytest.MonkeyPatch, platform: str, expected: bool
) -> None:
    monkeypatch.setattr(sys, "platform", platform)

    assert HttpOptions().reuse_port is expected


def test_options_defaults_to_default_http_options() -> None:
    assert Options().http == HttpOptions()
    assert Options(http=HttpOptions(port=8080)).http.port == 8080


def test_options_lifecycle_hook_timeout_defaults_to_a_minute() -> None:
    assert Options().lifecycle_hook_timeout_seconds == 60


@pytest.mark.parametrize(
    "seconds",
    [
        pytest.param(0.001, id="a-millisecond"),
        pytest.param(5, id="int"),
        pytest.param(math.inf, id="no-limit"),
    ],
)
def test_options_lifecycle_hook_timeout_accepts_positive_numbers(seconds: float) -> None:
    assert Options(lifecycle_hook_timeout_seconds=seconds).lifecycle_hook_timeout_seconds == seconds


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        pytest.param(
            0, "Options.lifecycle_hook_timeout_seconds must be positive, got 0.", id="zero"
        ),
        pytest.param(
            -1.5,
            "Options.lifecycle_hook_timeout_seconds must be positive, got -1.5.",
            id="negative",
        ),
        pytest.param(
            "60", "Options.lifecycle_hook_timeout_seconds must be a number, got '60'.", id="str"
        ),
        pytest.param(
            None, "Options.lifecycle_hook_timeout_seconds must be a number, got None.", id="none"
        ),
        pytest.param(
            True, "Options.lifecycle_hook_timeout_seconds must be a number, got True.", id="bool"
        ),
        pytest.param(
            math.nan,
            "Options.lifecycle_hook_timeout_seconds must be a number, got nan.",
            id="nan",
        ),
    ],
)
def test_options_lifecycle_hook_timeout_rejects(seconds: Any, message: str) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        Options(lifecycle_hook_timeout_seconds=seconds)


@pytest.mark.parametrize(
    ("options", "name", "value"),
    [
        pytest.param(HttpOptions(), "port", 1, id="http-options-port"),
        pytest.param(HttpOptions(), "real_ip_from", ("10.0.0.0/8",), id="http-options-real-ip"),
        pytest.param(Options(), "http", HttpOptions(), id="options-http"),
        pytest.param(Options(), "lifecycle_hook_timeout_seconds", 1, id="options-hook-timeout"),
    ],
)
def test_options_are_immutable(options: object, name: str, value: object) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(options, name, value)


def test_http_options_compare_and_hash_by_value() -> None:
    a = HttpOptions(port=1, real_ip_from=["10.0.0.0/8"])
    b = HttpOptions(port=1, real_ip_from=("10.0.0.0/8",))

    assert a == b
    assert hash(a) == hash(b)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        pytest.param("2K", 2048, id="kilo"),
        pytest.param("10M", 10 * 1024**2, id="mega"),
        pytest.param("1G", 1024**3, id="giga"),
        pytest.param("512kb", 512 * 1024, id="lower-case-with-b"),
        pytest.param("2KiB", 2048, id="kib"),
        pytest.param(" 3 M ", 3 * 1024**2, id="spaces"),
        pytest.param("100", 100, id="digits"),
        pytest.param("7B", 7, id="bytes-unit"),
        pytest.param(1, 1, id="int-one"),
        pytest.param(4096, 4096, id="int"),
    ],
)
def test_http_options_client_max_size(size: int | str, expected: int) -> None:
    options = HttpOptions(client_max_size=size)

    assert options.client_max_size == size
    assert options.client_max_bytes == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"port": 0}, id="port-0"),
        pytest.param({"port": 65535}, id="port-65535"),
        pytest.param({"keepalive_timeout": 0.5}, id="keepalive-fraction"),
        pytest.param(
            {"keepalive_timeout": 5, "max_keepalive_requests": 1, "max_keepalive_time": 0.5},
            id="keepalive-limits",
        ),
        pytest.param({"termination_grace_period_seconds": 0}, id="grace-0"),
        pytest.param(
            {"charset": "latin-1", "content_type": "text/html"}, id="charset-content-type"
        ),
        pytest.param({"host": "::"}, id="host-ipv6"),
    ],
)
def test_http_options_accept_boundary_values(kwargs: dict[str, Any]) -> None:
    options = HttpOptions(**kwargs)

    assert {name: getattr(options, name) for name in kwargs} == kwargs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"readiness_url": "ready"},
            "HttpOptions.readiness_url must be a path such as \"/ready\", got 'ready'.",
            id="readiness-url-relative",
        ),
        pytest.param(
            {"readiness_url": "/ready?x"},
            "HttpOptions.readiness_url must be a path such as \"/ready\", got '/ready?x'.",
            id="readiness-url-query",
        ),
        pytest.param(
            {"readiness_url": "/meta", "openapi_url": "/meta"},
            "HttpOptions.readiness_url and openapi_url are both '/meta'; give them two paths.",
            id="readiness-url-is-openapi-url",
        ),
        pytest.param(
            {"stop_delay_seconds": -1},
            "HttpOptions.stop_delay_seconds must not be negative, got -1.",
            id="stop-delay-negative",
        ),
        pytest.param(
            {"stop_delay_seconds": "5"},
            "HttpOptions.stop_delay_seconds must be a number, got '5'.",
            id="stop-delay-str",
        ),
    ],
)
def test_http_options_readiness_and_stop_delay(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        HttpOptions(**kwargs)


NOT_A_SIZE = 'is not a size; write bytes as an int or a string such as "512K", "10M" or "1G".'


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"host": ""},
            "HttpOptions.host must not be empty; use '0.0.0.0' for every address.",
            id="host-empty",
        ),
        pytest.param(
            {"port": -1}, "HttpOptions.port must be from 0 to 65535, got -1.", id="port-negative"
        ),
        pytest.param(
            {"port": 65536}, "HttpOptions.port must be from 0 to 65535, got 65536.", id="port-high"
        ),
        pytest.param(
            {"port": True}, "HttpOptions.port must be from 0 to 65535, got True.", id="port-bool"
        ),
        pytest.param(
            {"keepalive_timeout": -1},
            "HttpOptions.keepalive_timeout must be 0 (off) or positive, got -1.",
            id="keepalive-timeout-negative",
        ),
        pytest.param(
            {"max_keepalive_requests": 10},
            "HttpOptions.max_keepalive_requests needs keep-alive; set keepalive_timeout above 0.",
            id="max-requests-without-keepalive",
        ),
        pytest.param(
            {"max_keepalive_time": 60.0},
            "HttpOptions.max_keepalive_time needs keep-alive; set keepalive_timeout above 0.",
            id="max-time-without-keepalive",
        ),
        pytest.param(
            {"keepalive_timeout": 5, "max_keepalive_requests": 0},
            "HttpOptions.max_keepalive_requests must be positive, got 0.",
            id="max-requests-zero",
        ),
        pytest.param(
            {"max_keepalive_requests": -1},
            "HttpOptions.max_keepalive_requests must be positive, got -1.",
            id="max-requests-negative-checked-before-keepalive",
        ),
        pytest.param(
            {"keepalive_timeout": 5, "max_keepalive_time": 0.0},
            "HttpOptions.max_keepalive_time must be positive, got 0.0.",
            id="max-time-zero",
        ),
        pytest.param(
            {"keepalive_timeout": 5, "max_keepalive_time": -1.5},
            "HttpOptions.max_keepalive_time must be positive, got -1.5.",
            id="max-time-negative",
        ),
        pytest.param(
            {"client_max_size": "lots"},
            f"HttpOptions.client_max_size 'lots' {NOT_A_SIZE}",
            id="size-word",
        ),
        pytest.param(
            {"client_max_size": "10T"},
            f"HttpOptions.client_max_size '10T' {NOT_A_SIZE}",
            id="size-unit",
        ),
        pytest.param(
            {"client_max_size": "1.5M"},
            f"HttpOptions.client_max_size '1.5M' {NOT_A_SIZE}",
            id="size-fraction",
        ),
        pytest.param(
            {"client_max_size": "-1K"},
            f"HttpOptions.client_max_size '-1K' {NOT_A_SIZE}",
            id="size-negative-str",
        ),
        pytest.param(
            {"client_max_size": ""}, f"HttpOptions.client_max_size '' {NOT_A_SIZE}", id="size-empty"
        ),
        pytest.param(
            {"client_max_size": "M"},
            f"HttpOptions.client_max_size 'M' {NOT_A_SIZE}",
            id="size-no-digits",
        ),
        pytest.param(
            {"client_max_size": "0K"},
            "HttpOptions.client_max_size must be positive, got '0K'.",
            id="size-zero-str",
        ),
        pytest.param(
            {"client_max_size": 0},
            "HttpOptions.client_max_size must be positive, got 0.",
            id="size-zero",
        ),
        pytest.param(
            {"client_max_size": -1},
            "HttpOptions.client_max_size must be positive, got -1.",
            id="size-negative",
        ),
        pytest.param(
            {"client_max_size": True},
            "HttpOptions.client_max_size must be a number of bytes, got True.",
            id="size-bool",
        ),
        pytest.param(
            {"charset": "utf-9"},
            "HttpOptions.charset 'utf-9' is not a known text encoding.",
            id="charset",
        ),
        pytest.param(
            {"content_type": "json"},
            "HttpOptions.content_type 'json' is not a media type such as 'text/plain'.",
            id="content-type-without-slash",
        ),
        pytest.param(
            {"termination_grace_period_seconds": -1},
            "HttpOptions.termination_grace_period_seconds must not be negative, got -1.",
            id="grace-period-negative",
        ),
        pytest.param(
            {"real_ip_from": ["10.0.0.0/8", "not-an-ip"]},
            "HttpOptions.real_ip_from entry 'not-an-ip' is not an IP address or network.",
            id="real-ip-from-entry",
        ),
        pytest.param(
            {"real_ip_from": "10.0.0.300"},
            "HttpOptions.real_ip_from entry '10.0.0.300' is not an IP address or network.",
            id="real-ip-from-lone-string",
        ),
        pytest.param(
            {"charset": "rot13"},
            "HttpOptions.charset 'rot13' is not a known text encoding.",
            id="charset-not-text",
        ),
        pytest.param(
            {"server_header": "x\r\nSet-Cookie: a=1"},
            "HttpOptions.server_header must not contain line breaks or NUL.",
            id="server-header-crlf",
        ),
        pytest.param(
            {"keepalive_timeout": float("nan")},
            "HttpOptions.keepalive_timeout must be a number, got nan.",
            id="keepalive-nan",
        ),
        pytest.param(
            {"keepalive_timeout": True},
            "HttpOptions.keepalive_timeout must be a number, got True.",
            id="keepalive-bool",
        ),
        pytest.param(
            {"termination_grace_period_seconds": float("nan")},
            "HttpOptions.termination_grace_period_seconds must be a number, got nan.",
            id="grace-period-nan",
        ),
        pytest.param(
            {"keepalive_timeout": 5, "max_keepalive_requests": True},
            "HttpOptions.max_keepalive_requests must be a number, got True.",
            id="max-requests-bool",
        ),
        pytest.param(
            {"client_max_size": "10iB"},
            f"HttpOptions.client_max_size '10iB' {NOT_A_SIZE}",
            id="size-stray-i",
        ),
        pytest.param(
            {"client_max_size": 1.5},
            "HttpOptions.client_max_size must be a number of bytes, got 1.5.",
            id="size-float",
        ),
        pytest.param(
            {"real_ip_from": [5]},
            "HttpOptions.real_ip_from entry 5 is not an IP address or network.",
            id="real-ip-from-int",
        ),
        pytest.param(
            {"real_ip_header": ""},
            "HttpOptions.real_ip_header must not be empty.",
            id="real-ip-header-empty",
        ),
    ],
)
def test_http_options_rejects_invalid_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        HttpOptions(**kwargs)


def test_http_options_real_ip_from_lone_string_becomes_a_tuple() -> None:
    assert HttpOptions(real_ip_from="10.0.0.1").real_ip_from == ("10.0.0.1",)


def test_http_options_real_ip_from_list_becomes_a_tuple() -> None:
    assert HttpOptions(real_ip_from=["10.0.0.1", "::1"]).real_ip_from == ("10.0.0.1", "::1")


def test_http_options_real_ip_networks_parses_cidrs() -> None:
    options = HttpOptions(
        real_ip_from=("10.0.0.0/8", "192.168.1.7", "10.1.2.3/16", "2001:db8::/32")
    )

    assert options.real_ip_networks == (
        ipaddress.IPv4Network("10.0.0.0/8"),
        ipaddress.IPv4Network("192.168.1.7/32"),
        ipaddress.IPv4Network("10.1.0.0/16"),
        ipaddress.IPv6Network("2001:db8::/32"),
    )
