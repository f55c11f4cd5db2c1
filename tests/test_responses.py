"""normalize(): every return form of a handler turned into an aiohttp response, without a server."""

from __future__ import annotations

import dataclasses
import re
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, NamedTuple

import pytest
from aiohttp import hdrs, web
from multidict import CIMultiDict

from typedsvc import JsonResponse, Response, ResponseValue
from typedsvc._normalize import Defaults, InvalidResponseError, UnencodableJsonError, normalize

DEFAULTS = Defaults()
# A reason of the wrong type, as untyped code could give one.
REASON_INT: Any = 5
TEXT_UTF8 = "text/plain; charset=utf-8"


class Case(NamedTuple):
    """A valid return value and the response normalize() must build from it.

    ``content_type`` None means no Content-Type header; ``headers`` lists every other
    header in order; ``reason`` None means the standard phrase of ``status``.
    """

    value: ResponseValue
    status: int
    content_type: str | None
    body: bytes | None
    headers: tuple[tuple[str, str], ...] = ()
    reason: str | None = None
    default_status: int = 200
    defaults: Defaults = DEFAULTS


def exactly(message: str) -> str:
    """A ``pytest.raises(match=...)`` pattern that accepts only ``message`` itself."""
    return f"^{re.escape(message)}$"


def normalize_untyped(value: Any) -> web.StreamResponse:
    """Call normalize() as untyped code can: with a value outside ``ResponseValue``."""
    return normalize(value, DEFAULTS)


COOKIES = (("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"))
JSON_AB = '{"a":[1,null],"b":"é"}'.encode()


@dataclasses.dataclass
class Point:
    x: int
    y: float


@pytest.mark.parametrize(
    "case",
    [
        # str and bytes
        pytest.param(Case("héllo", 200, TEXT_UTF8, b"h\xc3\xa9llo"), id="str-default-charset"),
        pytest.param(
            Case(
                "héllo",
                200,
                "text/html; charset=latin-1",
                b"h\xe9llo",
                defaults=Defaults("text/html", "latin-1"),
            ),
            id="str-service-defaults",
        ),
        pytest.param(Case("", 200, TEXT_UTF8, b""), id="str-empty"),
        pytest.param(Case(b"\x00\xff", 200, TEXT_UTF8, b"\x00\xff"), id="bytes"),
        # None
        pytest.param(Case(None, 204, None, None), id="none-is-204"),
        pytest.param(Case(None, 404, None, None, default_status=404), id="none-keeps-error-status"),
        # ResponseDict, one key at a time
        pytest.param(Case({}, 200, TEXT_UTF8, b""), id="dict-empty"),
        pytest.param(Case({"body": "héllo"}, 200, TEXT_UTF8, b"h\xc3\xa9llo"), id="dict-body-str"),
        pytest.param(Case({"body": b"\x01"}, 200, TEXT_UTF8, b"\x01"), id="dict-body-bytes"),
        pytest.param(Case({"status": 201}, 201, TEXT_UTF8, b""), id="dict-status"),
        pytest.param(
            Case(
                {"headers": {"X-Request-Id": "r1"}}, 200, TEXT_UTF8, b"", (("X-Request-Id", "r1"),)
            ),
            id="dict-headers-mapping",
        ),
        pytest.param(
            Case({"headers": list(COOKIES)}, 200, TEXT_UTF8, b"", COOKIES),
            id="dict-headers-pairs-repeat-set-cookie",
        ),
        pytest.param(
            Case(
                {"body": "{}", "content_type": "application/json"},
                200,
                "application/json; charset=utf-8",
                b"{}",
            ),
            id="dict-content-type-text-body",
        ),
        pytest.param(
            Case(
                {"body": b"{}", "content_type": "application/json"}, 200, "application/json", b"{}"
            ),
            id="dict-content-type-bytes-body",
        ),
        pytest.param(
            Case({"body": "é", "charset": "latin-1"}, 200, "text/plain; charset=latin-1", b"\xe9"),
            id="dict-charset",
        ),
        pytest.param(
            Case(
                {
                    "body": "é",
                    "status": 202,
                    "headers": [("X-A", "1"), ("X-B", "2")],
                    "content_type": "text/csv",
                    "charset": "latin-1",
                },
                202,
                "text/csv; charset=latin-1",
                b"\xe9",
                (("X-A", "1"), ("X-B", "2")),
            ),
            id="dict-every-key",
        ),
        # Tuples
        pytest.param(Case((201, "created"), 201, TEXT_UTF8, b"created"), id="tuple-2-str"),
        pytest.param(Case((202, b"\x02"), 202, TEXT_UTF8, b"\x02"), id="tuple-2-bytes"),
        pytest.param(
            Case((201, "x", {"Location": "/x"}), 201, TEXT_UTF8, b"x", (("Location", "/x"),)),
            id="tuple-3-headers-mapping",
        ),
        pytest.param(
            Case((200, "x", list(COOKIES)), 200, TEXT_UTF8, b"x", COOKIES),
            id="tuple-3-headers-pairs",
        ),
        # typedsvc.Response
        pytest.param(Case(Response(), 200, TEXT_UTF8, b""), id="response-empty"),
        pytest.param(
            Case(
                Response(body="é", content_type="text/html", charset="latin-1"),
                200,
                "text/html; charset=latin-1",
                b"\xe9",
            ),
            id="response-content-type-and-charset-combine",
        ),
        pytest.param(
            Case(Response(body=b"x", charset="latin-1"), 200, "text/plain; charset=latin-1", b"x"),
            id="response-charset-keeps-default-type",
        ),
        pytest.param(
            Case(Response(body=b"\x89PNG", content_type="image/png"), 200, "image/png", b"\x89PNG"),
            id="response-binary-type-stays-bare",
        ),
        pytest.param(
            Case(
                Response(body="<p>", content_type="text/html"),
                200,
                "text/html; charset=utf-8",
                b"<p>",
            ),
            id="response-content-type-text-body-gets-charset",
        ),
        pytest.param(
            Case(
                Response(body="tea", status=418, reason="Short and stout"),
                418,
                TEXT_UTF8,
                b"tea",
                reason="Short and stout",
            ),
            id="response-status-and-reason",
        ),
        pytest.param(
            Case(Response(headers=COOKIES), 200, TEXT_UTF8, b"", COOKIES),
            id="response-headers-pairs",
        ),
        # A Content-Type header, and a content_type that names its own charset
        pytest.param(
            Case(
                {"body": "{}", "headers": {"Content-Type": "application/json"}},
                200,
                "application/json",
                b"{}",
            ),
            id="dict-headers-content-type-kept",
        ),
        pytest.param(
            Case(
                Response(body="a,b", headers={"content-type": "text/csv"}), 200, "text/csv", b"a,b"
            ),
            id="response-headers-content-type-kept-any-case",
        ),
        pytest.param(
            Case((200, "a,b", {"Content-Type": "text/csv"}), 200, "text/csv", b"a,b"),
            id="tuple-headers-content-type-kept",
        ),
        pytest.param(
            Case(
                {
                    "body": "{}",
                    "headers": {"Content-Type": "text/csv"},
                    "content_type": "application/json",
                },
                200,
                "application/json; charset=utf-8",
                b"{}",
            ),
            id="content-type-key-replaces-header",
        ),
        pytest.param(
            Case(
                {"body": "x", "headers": {"Content-Type": "text/csv"}, "charset": "latin-1"},
                200,
                "text/plain; charset=latin-1",
                b"x",
            ),
            id="charset-key-replaces-header-with-default-type",
        ),
        pytest.param(
            Case(
                Response(body="x", content_type="text/html; charset=ISO-8859-1"),
                200,
                "text/html; charset=ISO-8859-1",
                b"x",
            ),
            id="content-type-with-charset-left-as-is",
        ),
        pytest.param(
            Case(
                {"body": b"x", "content_type": "text/html; Charset=utf-16"},
                200,
                "text/html; Charset=utf-16",
                b"x",
            ),
            id="content-type-with-charset-any-case",
        ),
        # The error handler's status, where the value sets none
        pytest.param(
            Case("gone", 404, TEXT_UTF8, b"gone", default_status=404), id="error-status-str"
        ),
        pytest.param(
            Case(b"gone", 404, TEXT_UTF8, b"gone", default_status=404), id="error-status-bytes"
        ),
        pytest.param(
            Case({"body": "gone"}, 404, TEXT_UTF8, b"gone", default_status=404),
            id="error-status-dict-without-status",
        ),
        pytest.param(
            Case(Response(body="gone"), 404, TEXT_UTF8, b"gone", default_status=404),
            id="error-status-response-without-status",
        ),
        pytest.param(
            Case({"status": 410}, 410, TEXT_UTF8, b"", default_status=404),
            id="error-status-not-over-dict-status",
        ),
        pytest.param(
            Case(Response(status=200), 200, TEXT_UTF8, b"", default_status=404),
            id="error-status-not-over-response-status",
        ),
        pytest.param(
            Case((200, "found"), 200, TEXT_UTF8, b"found", default_status=404),
            id="error-status-not-over-tuple",
        ),
        # JsonResponse: msgspec's encoding, application/json
        pytest.param(
            Case(JsonResponse({"a": [1, None], "b": "é"}), 200, "application/json", JSON_AB),
            id="json",
        ),
        pytest.param(
            Case(
                JsonResponse(Point(1, 2.5), status=201, headers={"X-A": "1"}),
                201,
                "application/json",
                b'{"x":1,"y":2.5}',
                (("X-A", "1"),),
            ),
            id="json-dataclass-status-headers",
        ),
        pytest.param(
            Case(
                JsonResponse([], headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]),
                200,
                "application/json",
                b"[]",
                COOKIES,
            ),
            id="json-repeated-headers",
        ),
        # A Content-Length that is the body's is no harm.
        pytest.param(
            Case(
                Response("abc", headers={"Content-Length": "3"}),
                200,
                TEXT_UTF8,
                b"abc",
                (("Content-Length", "3"),),
            ),
            id="content-length-of-the-body",
        ),
        # A Content-Type of its headers is kept, as for the other forms (JSON of its own).
        pytest.param(
            Case(
                JsonResponse({"a": 1}, headers={"content-type": "application/problem+json"}),
                200,
                "application/problem+json",
                b'{"a":1}',
            ),
            id="json-content-type-of-its-headers",
        ),
        pytest.param(
            Case(
                JsonResponse([], headers=[("X-A", "1"), ("Content-Type", "application/x+json")]),
                200,
                "application/x+json",
                b"[]",
                (("X-A", "1"),),
            ),
            id="json-content-type-of-its-header-pairs",
        ),
        pytest.param(
            Case(JsonResponse("gone"), 404, "application/json", b'"gone"', default_status=404),
            id="json-error-status",
        ),
        pytest.param(
            Case(
                JsonResponse(None, status=410), 410, "application/json", b"null", default_status=404
            ),
            id="json-error-status-not-over-its-own",
        ),
    ],
)
def test_normalize_builds_response(case: Case) -> None:
    response = normalize(case.value, case.defaults, case.default_status)

    assert isinstance(response, web.Response)
    assert response.status == case.status
    assert response.reason == (case.reason or HTTPStatus(case.status).phrase)
    expected_content_type = [] if case.content_type is None else [case.content_type]
    assert response.headers.getall(hdrs.CONTENT_TYPE, []) == expected_content_type
    assert response.body == case.body
    others = [
        (name, value) for name, value in response.headers.items() if name.lower() != "content-type"
    ]
    assert others == list(case.headers)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param((HTTPStatus.CREATED, "made"), id="tuple"),
        pytest.param({"body": "made", "status": HTTPStatus.CREATED}, id="dict"),
        pytest.param(Response("made", status=HTTPStatus.CREATED), id="response"),
    ],
)
def test_normalize_takes_an_http_status(value: ResponseValue) -> None:
    # HTTPStatus is an IntEnum: an int, as the union's status is.
    response = normalize(value, DEFAULTS)
    assert isinstance(response, web.Response)
    assert (response.status, response.reason, response.body) == (201, "Created", b"made")


def test_normalize_repeats_set_cookie_in_order() -> None:
    value: ResponseValue = {"headers": [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]}

    response = normalize(value, DEFAULTS)

    assert response.headers.getall("Set-Cookie") == ["a=1", "b=2"]


def test_normalize_keeps_every_value_of_a_multidict() -> None:
    # A Mapping other than a dict may repeat a name; each value goes out, defaults after.
    value: ResponseValue = {"headers": CIMultiDict([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])}

    response = normalize(value, Defaults(server="svc"))

    assert list(response.headers.items()) == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Server", "svc"),
        ("Content-Type", "text/plain; charset=utf-8"),
    ]


def test_normalize_dict_headers_go_over_the_defaults() -> None:
    # aiohttp's header names (hdrs.*) are istr, a str subclass: taken like any str. The
    # handler's headers come first, and a default goes after them only where they have none.
    value: ResponseValue = {"headers": {"server": "mine", hdrs.CACHE_CONTROL: "no-store"}}

    response = normalize(value, Defaults(server="svc"))

    assert list(response.headers.items()) == [
        ("server", "mine"),
        ("Cache-Control", "no-store"),
        ("Content-Type", "text/plain; charset=utf-8"),
    ]


@pytest.mark.parametrize("status", [200, 404])
def test_normalize_passes_an_aiohttp_response_through(status: int) -> None:
    original = web.Response(body=b"raw", status=201, content_type="application/octet-stream")

    response = normalize(original, DEFAULTS, status)

    assert response is original
    assert response.status == 201
    assert response.headers[hdrs.CONTENT_TYPE] == "application/octet-stream"


def test_normalize_passes_a_stream_response_through() -> None:
    original = web.StreamResponse(status=206)

    assert normalize(original, DEFAULTS) is original


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(5, "int", id="int"),
        pytest.param(1.5, "float", id="float"),
        pytest.param([b"x"], "list", id="list"),
        pytest.param(bytearray(b"x"), "bytearray", id="bytearray"),
        pytest.param((), "a tuple of length 0", id="tuple-0"),
        pytest.param((200,), "a tuple of length 1", id="tuple-1"),
        pytest.param((200, "x", {"X-A": "1"}, "extra"), "a tuple of length 4", id="tuple-4"),
        pytest.param(
            {"body": "x", "stauts": 201},
            "a dict with unknown keys ['stauts']",
            id="dict-unknown-key",
        ),
        pytest.param(
            {"b": 1, "a": 2}, "a dict with unknown keys ['a', 'b']", id="dict-unknown-keys-sorted"
        ),
        pytest.param({"status": "200"}, "a response with status '200'", id="dict-status-str"),
        pytest.param(
            {"status": 1000}, "a response with status 1000, outside 200-599", id="dict-status-1000"
        ),
        pytest.param(
            {"status": 99}, "a response with status 99, outside 200-599", id="dict-status-99"
        ),
        pytest.param(
            {"status": 101},
            "a response with status 101, an interim status that is no answer (200-599)",
            id="dict-status-101",
        ),
        pytest.param(
            web.Response(status=100),
            "a response with status 100, an interim status that is no answer (200-599)",
            id="aiohttp-100",
        ),
        pytest.param({"status": True}, "a response with status True", id="dict-status-bool"),
        pytest.param({"status": None}, "a response with status None", id="dict-status-none"),
        pytest.param((True, "x"), "a response with status True", id="tuple-status-bool"),
        pytest.param(("200", "x"), "a response with status '200'", id="tuple-status-str"),
        pytest.param(
            Response(status=600),
            "a response with status 600, outside 200-599",
            id="response-status-600",
        ),
        pytest.param({"body": 1}, "a response with a body of type int", id="dict-body-int"),
        pytest.param((200, None), "a response with a body of type NoneType", id="tuple-body-none"),
        pytest.param(
            {"headers": {1: "x"}},
            "headers whose names and values are not all str",
            id="headers-name-int",
        ),
        pytest.param(
            {"headers": ["Set-Cookie: a=1"]},
            "headers with an entry that is not a (name, value) pair",
            id="headers-strings",
        ),
        pytest.param(
            {"headers": [["Set-Cookie", "a=1"]]},
            "headers with an entry that is not a (name, value) pair",
            id="headers-lists",
        ),
        pytest.param(
            {"headers": [("X-A", "1", "2")]},
            "headers with an entry that is not a (name, value) pair",
            id="headers-triples",
        ),
        pytest.param(
            (200, "x", [1]),
            "headers with an entry that is not a (name, value) pair",
            id="tuple-headers-ints",
        ),
        pytest.param(
            {"headers": MappingProxyType({b"X-A": "1"})},
            "headers whose names and values are not all str",
            id="mapping-headers-name-bytes",
        ),
        pytest.param(
            Response(reason="Fine\x7f"),
            "a reason 'Fine\\x7f' that holds a line break or another control character, which "
            "HTTP forbids there",
            id="reason-del",
        ),
        pytest.param({"content_type": ["text/plain"]}, "a content_type of type list", id="ct-list"),
        pytest.param({"charset": 8}, "a charset of type int", id="charset-int"),
        pytest.param(
            web.Response(status=700),
            "a response with status 700, outside 200-599",
            id="aiohttp-700",
        ),
        pytest.param(
            web.Response(status=99), "a response with status 99, outside 200-599", id="aiohttp-99"
        ),
        pytest.param(
            {"body": "x", "headers": {"Content-Type": 5}},
            "headers whose names and values are not all str",
            id="content-type-int-for-a-str-body",
        ),
        pytest.param(
            (200, "x", [(1, "a")]),
            "headers whose names and values are not all str",
            id="tuple-header-name-int",
        ),
        pytest.param({"headers": 5}, "headers of type int", id="headers-int"),
        pytest.param({"headers": "X-A: 1"}, "headers of type str", id="headers-str"),
        pytest.param(
            Response(reason="a\nb"),
            "a reason 'a\\nb' that holds a line break or another control character, which "
            "HTTP forbids there",
            id="reason-with-newline",
        ),
        pytest.param(Response(reason=REASON_INT), "a reason of type int", id="reason-int"),
        pytest.param(
            Response(body="é", charset="ascii"),
            "a str body that cannot be sent as ascii: 'ascii' codec can't encode character "
            "'\\xe9' in position 0: ordinal not in range(128)",
            id="body-not-encodable",
        ),
        pytest.param(
            {"body": "x", "charset": "\0"},
            "a header 'Content-Type' whose value holds a line break or another control "
            "character, which HTTP forbids there (a line break would start a header of its own)",
            id="charset-nul-names-no-codec",
        ),
        pytest.param(
            Response(body="x", charset="no-such-codec"),
            "a str body that cannot be sent as no-such-codec: unknown encoding: no-such-codec",
            id="unknown-charset",
        ),
    ],
)
def test_normalize_rejects_values_outside_the_union(value: object, message: str) -> None:
    with pytest.raises(InvalidResponseError, match=exactly(message)):
        normalize_untyped(value)


@pytest.mark.parametrize(
    ("value", "content_type"),
    [
        pytest.param(
            Response(body="é", content_type="text/plain; charset=latin-1"),
            "text/plain; charset=latin-1",
            id="charset-inside-content-type",
        ),
        pytest.param(
            {"body": "é", "headers": {"Content-Type": 'text/html; charset="latin-1"'}},
            'text/html; charset="latin-1"',
            id="charset-inside-header",
        ),
    ],
)
def test_normalize_encodes_with_the_announced_charset(value: object, content_type: str) -> None:
    response = normalize_untyped(value)
    assert response.headers.getall("Content-Type") == [content_type]
    assert isinstance(response, web.Response)
    assert response.body == "é".encode("latin-1")


def test_normalize_encodes_with_a_default_content_type_charset() -> None:
    response = normalize("é", Defaults(content_type="text/plain; charset=latin-1", charset="utf-8"))
    assert response.headers["Content-Type"] == "text/plain; charset=latin-1"
    assert isinstance(response, web.Response)
    assert response.body == b"\xe9"


def test_normalize_refuses_a_str_the_default_charset_cannot_encode() -> None:
    with pytest.raises(
        InvalidResponseError,
        match=exactly(
            "a str body that cannot be sent as ascii: 'ascii' codec can't encode character "
            "'\\xe9' in position 0: ordinal not in range(128)"
        ),
    ):
        normalize("é", Defaults(charset="ascii"))


def test_normalize_takes_a_tab_in_a_header_value() -> None:
    response = normalize_untyped({"body": "", "headers": {"X-A": "a\tb"}})
    assert response.headers["X-A"] == "a\tb"


def test_invalid_response_error_is_a_type_error() -> None:
    assert issubclass(InvalidResponseError, TypeError)


SERVED = Defaults(server="svc/1")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("text", id="str"),
        pytest.param(b"bytes", id="bytes"),
        pytest.param(None, id="none"),
        pytest.param({"body": "x"}, id="dict"),
        pytest.param((201, "x"), id="tuple"),
        pytest.param(Response("x"), id="response"),
    ],
)
def test_normalize_built_responses_carry_the_server_header(value: ResponseValue) -> None:
    assert normalize(value, SERVED).headers.getall(hdrs.SERVER) == ["svc/1"]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"body": "x", "headers": {"server": "mine"}}, id="dict"),
        pytest.param((200, "x", [("Server", "mine")]), id="tuple"),
        pytest.param(Response("x", headers={"Server": "mine"}), id="response"),
        pytest.param(web.Response(text="x", headers={"Server": "mine"}), id="aiohttp"),
    ],
)
def test_normalize_keeps_a_server_header_the_value_sets(value: ResponseValue) -> None:
    assert normalize(value, SERVED).headers.getall(hdrs.SERVER) == ["mine"]


def test_normalize_shares_no_headers_between_responses() -> None:
    first = normalize("a", SERVED)
    first.headers["X-Only-Here"] = "1"
    assert hdrs.SERVER in first.headers
    assert "X-Only-Here" not in normalize("b", SERVED).headers
    assert "X-Only-Here" not in SERVED.headers


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            JsonResponse(object()),
            "a JsonResponse whose value msgspec cannot encode as JSON (Encoding objects of type "
            "object is unsupported)",
            id="object",
        ),
        pytest.param(
            JsonResponse({(1, 2): "x"}),
            "a JsonResponse whose value msgspec cannot encode as JSON (Only dicts with str-like "
            "or number-like keys are supported)",
            id="tuple-keys",
        ),
    ],
)
def test_normalize_json_value_msgspec_cannot_encode(value: ResponseValue, message: str) -> None:
    with pytest.raises(UnencodableJsonError, match=exactly(message)):
        normalize(value, DEFAULTS)
