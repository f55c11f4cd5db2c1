"""normalize(): the one place where a handler's return value becomes an aiohttp response."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Never

import msgspec
from aiohttp import hdrs, web
from multidict import CIMultiDict, CIMultiDictProxy

from typedsvc._response import JsonResponse, Response
from typedsvc._types import Headers, ResponseValue

_DICT_KEYS: Final = frozenset({"body", "status", "headers", "content_type", "charset"})
JSON_CONTENT_TYPE: Final = "application/json"
_JSON_ENCODER: Final = msgspec.json.Encoder()
# The values whose response normalize() makes of the defaults alone: nothing in it that
# aiohttp could refuse to send. The others are prepared before their handler returns.
FROM_DEFAULTS: Final[frozenset[type]] = frozenset({str, bytes, type(None)})


class InvalidResponseError(TypeError):
    """A handler returned something outside ``ResponseValue`` (possible from untyped code)."""


class UnsendableError(InvalidResponseError):
    """A handler returned a value of the union that HTTP cannot carry as it is."""


class UnencodableJsonError(UnsendableError):
    """A handler returned a ``JsonResponse`` whose value msgspec cannot encode."""


class UnsafeHeaderError(UnsendableError):
    """A handler returned a header or reason with a control character such as a line break."""


@dataclass(frozen=True, slots=True)
class Defaults:
    """The service-wide Content-Type, charset and Server header, from ``HttpOptions``."""

    content_type: str = "text/plain"
    charset: str = "utf-8"
    server: str = ""
    # Worked out once: the Content-Type of a plain str or bytes body, how str is encoded,
    # and the headers of such a response and of an empty one (aiohttp copies them).
    header: str = field(init=False, compare=False)
    encoding: str = field(init=False, compare=False)
    headers: CIMultiDictProxy[str] = field(init=False, compare=False)
    empty_headers: CIMultiDictProxy[str] = field(init=False, compare=False)
    json_headers: CIMultiDictProxy[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        header = _content_type(None, None, True, self)
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "encoding", _charset_of(header) or self.charset)
        server = {hdrs.SERVER: self.server} if self.server else {}
        plain = CIMultiDict({hdrs.CONTENT_TYPE: header, **server})
        object.__setattr__(self, "headers", CIMultiDictProxy(plain))
        object.__setattr__(self, "empty_headers", CIMultiDictProxy(CIMultiDict(server)))
        json = CIMultiDict({hdrs.CONTENT_TYPE: JSON_CONTENT_TYPE, **server})
        object.__setattr__(self, "json_headers", CIMultiDictProxy(json))


def normalize(value: ResponseValue, defaults: Defaults, status: int = 200) -> web.StreamResponse:
    """Turn any ``ResponseValue`` into an aiohttp response.

    ``status`` is used where the value sets none: 200 for handlers, the error's
    status for ``http_error`` handlers. Every response returned carries the
    ``Server`` header of ``defaults`` unless the value gave its own, an aiohttp
    response the handler made included. Raises :class:`InvalidResponseError` for a
    value outside the union. A control character in a header the value gives is
    refused by aiohttp as it writes the headers: see :func:`refusal`.
    """
    if isinstance(value, str):
        # The common case, kept short: it runs for most requests.
        try:
            body = value.encode(defaults.encoding)
        except UnicodeEncodeError as exc:
            message = f"a str body that cannot be sent as {defaults.encoding}: {exc}"
            raise UnsendableError(message) from None
        return web.Response(body=body, status=status, headers=defaults.headers)
    # An aiohttp response of a type seen before is returned as it is, before the other
    # forms are tried: a set lookup spares a json_response() six isinstance() calls.
    if type(value) in _RESPONSE_TYPES:
        return _checked(value, defaults)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]  # the set holds StreamResponse subclasses only
    # The dict next: after str, the form most handlers return.
    if isinstance(value, dict):
        if not _DICT_KEYS.issuperset(value):
            unknown = sorted(map(str, value.keys() - _DICT_KEYS))
            raise InvalidResponseError(f"a dict with unknown keys {unknown}")
        return _build(
            value.get("body", b""),
            value.get("status", status),
            None,
            value.get("headers"),
            value.get("content_type"),
            value.get("charset"),
            defaults,
        )
    if isinstance(value, bytes):
        return web.Response(body=value, status=status, headers=defaults.headers)
    if value is None:
        return web.Response(status=204 if status == 200 else status, headers=defaults.empty_headers)
    if isinstance(value, Response):
        return _build(
            value.body,
            value.status if value.status is not None else status,
            value.reason,
            value.headers,
            value.content_type,
            value.charset,
            defaults,
        )
    if isinstance(value, JsonResponse):
        return _json(value, status, defaults)
    if isinstance(value, tuple):
        if len(value) == 2:
            return _build(value[1], value[0], None, None, None, None, defaults)
        if len(value) == 3:
            return _build(value[1], value[0], None, value[2], None, None, defaults)
        raise InvalidResponseError(f"a tuple of length {len(value)}")
    # Checked last: aiohttp responses are MutableMappings, so isinstance() against them
    # goes through the ABC machinery, a microsecond that the other forms need not pay.
    # The types it said yes to are remembered (see above).
    kind = type(value)
    if isinstance(value, web.StreamResponse):
        if len(_RESPONSE_TYPES) < _MAX_RESPONSE_TYPES:
            _RESPONSE_TYPES.add(kind)
        return _checked(value, defaults)
    raise _unsupported(value)


# The StreamResponse subclasses handlers have returned (a few: aiohttp's and the user's own).
_RESPONSE_TYPES: Final[set[type]] = set()
# Only a program that makes classes as it runs could get near; the check still answers then.
_MAX_RESPONSE_TYPES: Final = 64


def _checked(response: web.StreamResponse, defaults: Defaults) -> web.StreamResponse:
    """An aiohttp response the handler made, with the service's Server header unless it has
    its own; refused if its status is outside 200-599.

    aiohttp sends any status up to 999. (What it refuses to send, a control character in a
    header or the reason, the route's handler finds out by preparing the response.) A
    response the handler prepared itself has had its say already.
    """
    status = response.status
    if not 200 <= status <= 599 and not response.prepared:
        raise _bad_status(status)
    if defaults.server:
        # On a response the handler prepared itself this changes nothing that is sent (its
        # headers are out), and costs less than asking whether it was prepared.
        response.headers.setdefault(hdrs.SERVER, defaults.server)
    return response


def _unsupported(value: Never) -> InvalidResponseError:
    # Typed code cannot get here (mypy checks the union is exhausted); untyped code can.
    return InvalidResponseError(type(value).__name__)


def _json(value: JsonResponse[object], status: int, defaults: Defaults) -> web.Response:
    try:
        body = _JSON_ENCODER.encode(value.value)
    except (TypeError, ValueError, msgspec.EncodeError) as exc:
        raise UnencodableJsonError(
            f"a JsonResponse whose value msgspec cannot encode as JSON ({exc})"
        ) from None
    if value.status != 200:
        status = value.status
    headers = value.headers
    if headers is None and type(status) is int and 200 <= status <= 599:
        return web.Response(body=body, status=status, headers=defaults.json_headers)
    # A Content-Type among its headers (application/problem+json) is kept, as for the
    # other forms; JSON's otherwise.
    content_type = (
        None if headers is not None and _names_content_type(headers) else JSON_CONTENT_TYPE
    )
    return _build(body, status, None, headers, content_type, None, defaults)


def _names_content_type(headers: Headers) -> bool:
    """Whether ``headers`` hold a Content-Type. Checked as an object: untyped code can pass
    anything, which _build() then refuses with its reason."""
    given: object = headers
    names: Iterable[object]
    if isinstance(given, Mapping):
        names = given.keys()
    elif isinstance(given, list | tuple):
        names = (pair[0] for pair in given if isinstance(pair, tuple) and len(pair) == 2)
    else:
        return False
    return any(isinstance(name, str) and name.lower() == "content-type" for name in names)


def _build(
    body: object,
    status: object,
    reason: str | None,
    headers: Headers | None,
    content_type: str | None,
    charset: str | None,
    defaults: Defaults,
) -> web.Response:
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise _bad_status(status)
    if reason is not None:
        # Checked as an object: untyped code can pass anything here.
        if not isinstance(reason, str):
            raise InvalidResponseError(f"a reason of type {type(reason).__name__}")
        if _FORBIDDEN.search(reason):
            raise _forbidden_reason(reason)
    # The handler's headers are copied as they are: aiohttp refuses a control character in
    # them as it writes them, and the route's handler prepares such a response to hear it
    # (see refusal()), so the common case scans them once, in C.
    if headers is None:
        merged: CIMultiDict[str] = CIMultiDict()
    elif isinstance(headers, dict):
        try:
            merged = CIMultiDict(headers)
        except TypeError:
            # multidict takes only str names.
            raise _not_str_headers() from None
    else:
        # Pairs may repeat a name (two Set-Cookie).
        merged = _headers(headers)
    if content_type is not None or charset is not None:
        # Checked as objects: untyped code can pass anything here.
        for field_name, given_value in (("content_type", content_type), ("charset", charset)):
            if not isinstance(given_value, str | None):
                raise InvalidResponseError(f"a {field_name} of type {type(given_value).__name__}")
        merged[hdrs.CONTENT_TYPE] = _content_type(
            content_type, charset, isinstance(body, str), defaults
        )
    # The defaults go under the handler's own headers: set only where it gave none.
    if defaults.server:
        merged.setdefault(hdrs.SERVER, defaults.server)
    announced = merged.setdefault(hdrs.CONTENT_TYPE, defaults.header)
    if isinstance(body, str):
        # Encode with the charset the Content-Type header announces, wherever it came from.
        if announced is defaults.header:
            encoding = defaults.encoding
        elif isinstance(announced, str):
            encoding = _charset_of(announced) or defaults.charset
        else:
            raise _not_str_headers()
        try:
            body = body.encode(encoding)
        except (LookupError, ValueError) as exc:
            if _FORBIDDEN.search(announced):
                # A charset such as "\0" names no codec, and is no header either.
                raise _forbidden_header(hdrs.CONTENT_TYPE) from None
            raise UnsendableError(f"a str body that cannot be sent as {encoding}: {exc}") from None
    elif not isinstance(body, bytes):
        raise InvalidResponseError(f"a response with a body of type {type(body).__name__}")
    if hdrs.CONTENT_LENGTH in merged or hdrs.TRANSFER_ENCODING in merged:
        _check_framing(merged, len(body))
    # Made with its headers and body complete: setting either on a response costs more.
    return web.Response(body=body, status=status, reason=reason, headers=merged)


def _check_framing(headers: CIMultiDict[str], length: int) -> None:
    """Refuse headers that say the answer ends elsewhere than its body does.

    aiohttp sends them as they are, so a client reading a keep-alive connection would take
    the start of the next answer for the rest of this one, or this one's end for the next.
    """
    if hdrs.TRANSFER_ENCODING in headers:
        raise UnsendableError(
            "a header 'Transfer-Encoding', which a body given whole does not have; leave it "
            "out (for a stream, return a web.StreamResponse)"
        )
    given = headers.getall(hdrs.CONTENT_LENGTH)
    if given != [str(length)]:
        raise UnsendableError(
            f"a header 'Content-Length' of {', '.join(map(repr, given))} for a body of "
            f"{length} bytes; leave it out: the body's length is sent"
        )


def unsendable(response: web.StreamResponse) -> InvalidResponseError | None:
    """Why HTTP cannot carry ``response``, one aiohttp has not prepared; None if it can.

    For a response typedsvc did not make (an ``HTTPException`` a handler raised): its status
    outside 200-599, or what :func:`refusal` finds.
    """
    status = response.status
    if not 200 <= status <= 599:
        return _bad_status(status)
    return refusal(response)


def refusal(response: web.StreamResponse) -> InvalidResponseError | None:
    """Why HTTP cannot carry ``response``'s status line or headers; None if it can.

    aiohttp checks every character it writes there, in C, and raises ValueError (TypeError
    for a value that is no str) without saying where; this names the header or the reason.
    """
    reason = response.reason
    if _FORBIDDEN.search(reason):
        return _forbidden_reason(reason)
    try:
        _check_headers(response.headers.items())
    except InvalidResponseError as error:
        return error
    return None


def _check_headers(items: Iterable[tuple[object, object]]) -> None:
    """Raise unless every name and value is a str (an istr is one) without the control
    characters HTTP forbids in headers.

    Typed code passes only str, but any str: a value taken from a request could carry
    "\r\n" and a header of the client's making. Untyped code can pass anything. aiohttp
    refuses both as it writes the headers; this finds which header it was.
    """
    for name, value in items:
        if not (isinstance(name, str) and isinstance(value, str)):
            raise _not_str_headers()
        if _FORBIDDEN.search(name) or _FORBIDDEN.search(value):
            raise _forbidden_header(name)


# The characters aiohttp refuses while it writes a header (RFC 9110, 5.5): every C0 control
# but the tab, and DEL.
_FORBIDDEN: Final = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def _forbidden_header(name: str) -> UnsafeHeaderError:
    where = "name" if _FORBIDDEN.search(name) else "value"
    return UnsafeHeaderError(
        f"a header {name!r} whose {where} holds a line break or another control character, "
        "which HTTP forbids there (a line break would start a header of its own)"
    )


def _bad_status(status: object) -> InvalidResponseError:
    if type(status) is int and 100 <= status <= 199:
        # A client reads a 1xx as an interim answer and waits on for the real one.
        return UnsendableError(
            f"a response with status {status}, an interim status that is no answer (200-599)"
        )
    if isinstance(status, int) and not isinstance(status, bool):
        return UnsendableError(f"a response with status {status!r}, outside 200-599")
    return InvalidResponseError(f"a response with status {status!r}")


def _forbidden_reason(reason: str) -> UnsafeHeaderError:
    return UnsafeHeaderError(
        f"a reason {reason!r} that holds a line break or another control character, which "
        "HTTP forbids there"
    )


def _not_str_headers() -> InvalidResponseError:
    return InvalidResponseError("headers whose names and values are not all str")


@functools.lru_cache(maxsize=256)
def _charset_of(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


@functools.lru_cache(maxsize=256)
def _content_type(
    content_type: str | None, charset: str | None, text: bool, defaults: Defaults
) -> str:
    """One Content-Type header from the value's content_type and charset and the defaults.

    A charset is added when the body was text, when one was asked for, or for the
    default type; a binary type given without a charset stays bare.
    """
    media_type = content_type or defaults.content_type
    if "charset=" in media_type.lower():
        return media_type
    if charset is not None or text or content_type is None:
        return f"{media_type}; charset={charset or defaults.charset}"
    return media_type


def _headers(headers: Headers) -> CIMultiDict[str]:
    """Headers other than a dict (_build() copies a dict itself), in the order given."""
    merged: CIMultiDict[str] = CIMultiDict()
    if isinstance(headers, Mapping):
        try:
            merged.extend(headers.items())
        except TypeError:
            # multidict takes only str names.
            raise _not_str_headers() from None
        return merged
    # Checked as an object: untyped code can pass anything here.
    given: object = headers
    if isinstance(given, Sequence) and not isinstance(given, str | bytes):
        pairs = given
    else:
        raise InvalidResponseError(f"headers of type {type(given).__name__}")
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise InvalidResponseError("headers with an entry that is not a (name, value) pair")
        if not isinstance(pair[0], str):
            raise _not_str_headers()
        merged.add(*pair)
    return merged
