"""The JSON body of a ``Body[T]`` parameter: its Content-Type checked, then decoded and
validated by msgspec in one pass."""

from __future__ import annotations

from typing import Any, Final, TypeAlias

import msgspec
from aiohttp import hdrs, web
from aiohttp.http_exceptions import ContentEncodingError, HttpProcessingError

from typedsvc._problems import UNPROCESSABLE, UNSUPPORTED_MEDIA_TYPE, InputError

_TOO_DEEP: Final = "the request body is nested too deeply to decode."
# What msgspec 0.23 says of bytes that are not UTF-8 in a string, where 0.22 raised
# UnicodeDecodeError: one message, whichever is installed.
_NOT_UTF8: Final = "the request body is not valid JSON: Invalid UTF-8 encoded string."
# What reading a request's body raises when the client sent one that cannot be read (see
# unreadable()). A client that leaves while it is read raises ConnectionError, which the
# route's handler answers as it does a client that leaves at any other time (499).
_READ_ERRORS: Final = (HttpProcessingError, web.RequestPayloadError)


class JsonBody:
    """The JSON body: its Content-Type checked, decoded and validated by msgspec at once."""

    __slots__ = ("_decoder", "_name", "_required", "_type")

    def __init__(
        self, name: str, annotation: object, decoder: msgspec.json.Decoder[Any], required: bool
    ) -> None:
        self._name = name
        self._type = annotation
        self._decoder = decoder
        self._required = required

    async def read(
        self, request: web.Request, kwargs: dict[str, object], errors: list[InputError]
    ) -> None:
        if not request.body_exists:
            self._absent(errors)
            return
        media_type = request.content_type
        if not is_json(media_type):
            message = (
                "the request body must be JSON (Content-Type: application/json or a type "
                f'ending in "+json"), got "{media_type}".'
            )
            errors.append(InputError("header", "Content-Type", message, UNSUPPORTED_MEDIA_TYPE))
            return
        try:
            # Over client_max_size, this raises aiohttp's 413.
            data = await request.read()
        except _READ_ERRORS as exc:
            errors.append(InputError("body", "$", f"{unreadable(request, exc)}."))
            return
        if not data:
            # A chunked body of no chunks: no body, as a Content-Length of 0 is.
            self._absent(errors)
            return
        try:
            try:
                value = self._decoder.decode(data)
            except msgspec.ValidationError as exc:
                value = self._integral_floats(data, exc)
        except msgspec.ValidationError as exc:
            message, _, path = str(exc).partition(" - at `")
            path = path.rstrip("`") or "$"
            errors.append(InputError("body", path, f"{message}.", UNPROCESSABLE))
        except msgspec.DecodeError as exc:
            errors.append(InputError("body", "$", f"the request body is not valid JSON: {exc}."))
        except UnicodeDecodeError:
            # msgspec before 0.23, for bytes in a string that are not UTF-8.
            errors.append(InputError("body", "$", _NOT_UTF8))
        except RecursionError:
            # Only a type that takes any JSON (object, Any) follows nesting this deep.
            errors.append(InputError("body", "$", _TOO_DEEP))
        else:
            kwargs[self._name] = value

    def _absent(self, errors: list[InputError]) -> None:
        if self._required:
            errors.append(InputError("body", "$", "the request body is required."))

    def _integral_floats(self, data: bytes, error: msgspec.ValidationError) -> object:
        """The body decoded with its whole floats (``76.0``) read as ints; else ``error``.

        JSON has one number type, and JSON Schema's ``integer`` (what the OpenAPI document
        says of an int) takes 76.0; msgspec's strict decoding does not. Only a body that
        failed on a float goes this slower way.
        """
        if "got `float`" not in str(error):
            raise error
        decoded: JsonValue = msgspec.json.decode(data)
        return msgspec.convert(_whole_floats_as_ints(decoded), self._type)


def unreadable(request: web.Request, exc: Exception) -> str:
    """Why the body of ``request`` could not be read, as a sentence without its full stop.

    aiohttp's parser hands its error (a chunk that breaks off, a body that does not
    decompress) to the reader as the cause of a ``RequestPayloadError``, or for a broken
    chunk with its pure-Python parser, as it is.
    """
    cause = exc if isinstance(exc, HttpProcessingError) else exc.__cause__
    if isinstance(cause, ContentEncodingError):
        coding = request.headers.get(hdrs.CONTENT_ENCODING, "")
        return f'the request body could not be decoded from its Content-Encoding "{coding}"'
    if isinstance(cause, HttpProcessingError):
        return f"the request body could not be read: {cause.message}"
    return f"the request body could not be read: {exc}"


JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"


def _whole_floats_as_ints(value: JsonValue) -> JsonValue:
    """A decoded JSON value with its whole floats as ints."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, list):
        return [_whole_floats_as_ints(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole_floats_as_ints(item) for key, item in value.items()}
    return value


def is_json(media_type: str) -> bool:
    """Whether a Content-Type's media type is JSON: application/json or a ``+json`` type."""
    return media_type == "application/json" or (media_type.endswith("+json") and "/" in media_type)
