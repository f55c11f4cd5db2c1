"""Invalid inputs and the RFC 9457 problem details a client gets for them.

Every invalid input of a request is collected, then answered at once: 400 when an input
is missing or malformed (the body not JSON included), else 415 for a body that is not
JSON by its Content-Type, else 422 for a JSON body that does not fit its type. An
``@http_error`` handler for that status replaces the response and reads the errors with
:func:`input_errors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final, Literal, TypeAlias

import msgspec
from aiohttp import web

InputLocation: TypeAlias = Literal["path", "query", "header", "cookie", "body"]

PROBLEM_CONTENT_TYPE: Final = "application/problem+json"
# The statuses of invalid inputs, the first that applies wins (see the module docstring).
BAD_REQUEST: Final = 400
UNSUPPORTED_MEDIA_TYPE: Final = 415
UNPROCESSABLE: Final = 422


@dataclass(frozen=True, slots=True)
class InputError:
    """One invalid input: where it is, its name there, and what is wrong with it.

    ``name`` is the name on the wire (``X-Request-Id``), or for the body the JSON path
    msgspec reports (``$.address.zip``). ``status`` is what it asks for: 400, 415 or 422.
    """

    location: InputLocation
    name: str
    message: str
    status: int = BAD_REQUEST


class InvalidInput(msgspec.Struct, rename={"location": "in"}):
    """One invalid input, as the problem details list it."""

    location: InputLocation
    name: str
    message: str


class Problem(msgspec.Struct):
    """RFC 9457 problem details, with the invalid inputs."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[InvalidInput]


_ENCODER: Final = msgspec.json.Encoder()
_ERRORS_KEY: Final = web.RequestKey("typedsvc.input_errors", tuple[InputError, ...])


def input_errors(request: web.Request) -> tuple[InputError, ...]:
    """The invalid inputs of ``request``, for an ``@http_error(400/415/422)`` handler.

    Empty when the request's error did not come from its inputs (a handler's own 400).
    """
    # Not request.get(): the Mapping method is not typed by the key, as [] is.
    if _ERRORS_KEY in request:
        return request[_ERRORS_KEY]
    return ()


def status_of(errors: Sequence[InputError]) -> int:
    """The response status for these errors: 400 over 415 over 422."""
    return min(error.status for error in errors) if errors else BAD_REQUEST


def problem(request: web.Request, errors: Sequence[InputError]) -> web.HTTPException:
    """The HTTP error that answers a request with these invalid inputs.

    It carries an ``application/problem+json`` body listing every error; raised, it goes
    through the service's ``@http_error`` handlers like any other.
    """
    kept = tuple(errors)
    request[_ERRORS_KEY] = kept
    status = status_of(kept)
    title = HTTPStatus(status).phrase
    if len(kept) == 1:
        detail = kept[0].message
    else:
        detail = f"{len(kept)} inputs are invalid: " + " ".join(e.message for e in kept)
    body = _ENCODER.encode(
        Problem(
            "about:blank",
            title,
            status,
            detail,
            [InvalidInput(e.location, e.name, e.message) for e in kept],
        )
    )
    exc = _EXCEPTIONS[status](headers={"Content-Type": PROBLEM_CONTENT_TYPE})
    # Set after: aiohttp's text (and its default one) adds a charset, which JSON has none of.
    exc.body = body
    exc.charset = None
    return exc


_EXCEPTIONS: Final[dict[int, type[web.HTTPException]]] = {
    BAD_REQUEST: web.HTTPBadRequest,
    UNSUPPORTED_MEDIA_TYPE: web.HTTPUnsupportedMediaType,
    UNPROCESSABLE: web.HTTPUnprocessableEntity,
}
