"""The JSON body of a ``Body[T]`` parameter: its Content-Type checked, then decoded and
validated by msgspec in one pass."""

from __future__ import annotations

from typing import Any, Final, TypeAlias

import msgspec
import msgspec.inspect as mi
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

    __slots__ = ("_decoder", "_info", "_name", "_required", "_type")

    def __init__(
        self, name: str, annotation: object, decoder: msgspec.json.Decoder[Any], required: bool
    ) -> None:
        self._name = name
        self._type = annotation
        self._decoder = decoder
        self._required = required
        # msgspec's description of the type, for the rare body that needs it.
        self._info: mi.Type | None = None

    async def read(
        self, request: web.Request, kwargs: dict[str, object], errors: list[InputError]
    ) -> None:
        if not request.body_exists:
            self._absent(errors)
            return
        if not is_json(request.content_type):
            # As sent: aiohttp takes a header it cannot parse, or none, for
            # application/octet-stream.
            given = request.headers.get(hdrs.CONTENT_TYPE)
            shown = "none" if given is None else f'"{given}"'
            message = (
                "the request body must be JSON (Content-Type: application/json or a type "
                f'ending in "+json"), got {shown}.'
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
            message, path = _where(str(exc))
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
        """The body decoded with its whole floats (``76.0``) read as ints where ``T`` takes
        an int; else ``error``.

        JSON has one number type, and JSON Schema's ``integer`` (what the OpenAPI document
        says of an int) takes 76.0; msgspec's strict decoding does not. Only a body that
        failed on a float goes this slower way.
        """
        if "got `float`" not in str(error):
            raise error
        if self._info is None:
            self._info = msgspec.inspect.type_info(self._type)
        decoded: JsonValue = msgspec.json.decode(data)
        # str_keys: as the JSON decoder, take "7" for an int key.
        return msgspec.convert(_ints_where_taken(decoded, self._info), self._type, str_keys=True)


def _where(error: str) -> tuple[str, str]:
    """msgspec's message without its location, and the JSON path of that location.

    msgspec writes "Expected `int`, got `str` - at `$.age`", or of an object's key, "... -
    at `key` in `$.slots`".
    """
    message, _, where = error.partition(" - at `")
    where = where.removesuffix("`")
    if where.startswith("key` in `"):
        return f"{message}, in a key", where.removeprefix("key` in `")
    return message, where or "$"


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


def _ints_where_taken(value: JsonValue, typ: mi.Type) -> JsonValue:
    """``value`` with each whole float that ``typ`` reads as an int turned into that int.

    Only where an int is taken: a float, ``Any`` or ``int | float`` keeps what was sent.
    Only floats that are exact integers (up to 2**53): 1e23 is no integer a client wrote.
    """
    while isinstance(typ, mi.Metadata):
        typ = typ.type
    if isinstance(value, float):
        if value.is_integer() and abs(value) <= _EXACT and _takes_int(typ):
            return int(value)
        return value
    if isinstance(value, list):
        items = _items(typ, len(value))
        if items is None:
            return value
        return [_ints_where_taken(item, t) for item, t in zip(value, items, strict=True)]
    if isinstance(value, dict):
        fields = _fields(typ, value)
        if fields is None:
            return value
        return {
            key: _ints_where_taken(item, fields[key]) if key in fields else item
            for key, item in value.items()
        }
    return value


# Every integer up to 2**53 is a float exactly; beyond, a float stands for several.
_EXACT: Final = 2**53


def _takes_int(typ: mi.Type) -> bool:
    if isinstance(typ, mi.UnionType):
        kinds = [member for member in typ.types if isinstance(member, mi.IntType | mi.FloatType)]
        return len(kinds) == 1 and isinstance(kinds[0], mi.IntType)
    return isinstance(typ, mi.IntType)


def _one(typ: mi.Type, kinds: tuple[type[mi.Type], ...]) -> mi.Type | None:
    """``typ``, or its one member of ``kinds`` if it is a union; else None."""
    if isinstance(typ, mi.UnionType):
        found = [member for member in typ.types if isinstance(member, kinds)]
        return found[0] if len(found) == 1 else None
    return typ if isinstance(typ, kinds) else None


_ARRAYS: Final = (
    mi.ListType,
    mi.SetType,
    mi.FrozenSetType,
    mi.VarTupleType,
    mi.TupleType,
    mi.NamedTupleType,
    mi.StructType,
)
_OBJECTS: Final = (mi.DictType, mi.StructType, mi.TypedDictType, mi.DataclassType)


def _items(typ: mi.Type, count: int) -> list[mi.Type] | None:
    """The type of each item of a JSON array of ``count`` items read as ``typ``."""
    found = _one(typ, _ARRAYS)
    if isinstance(found, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        return [found.item_type] * count
    if isinstance(found, mi.TupleType) and len(found.item_types) == count:
        return list(found.item_types)
    if isinstance(found, mi.NamedTupleType) or (
        isinstance(found, mi.StructType) and found.array_like
    ):
        types = [field.type for field in found.fields]
        return types if len(types) >= count else None
    return None


def _fields(typ: mi.Type, value: dict[str, JsonValue]) -> dict[str, mi.Type] | None:
    """The type of each member of a JSON object read as ``typ``, by its key."""
    objects = [typ] if not isinstance(typ, mi.UnionType) else list(typ.types)
    structs = [t for t in objects if isinstance(t, mi.StructType) and t.tag_field is not None]
    if len(structs) > 1:
        # A tagged union: the tag says which.
        tagged = [t for t in structs if value.get(t.tag_field or "") == t.tag]
        found: mi.Type | None = tagged[0] if len(tagged) == 1 else None
    else:
        found = _one(typ, _OBJECTS)
    if isinstance(found, mi.DictType):
        return dict.fromkeys(value, found.value_type)
    if isinstance(found, mi.StructType | mi.TypedDictType | mi.DataclassType):
        return {field.encode_name: field.type for field in found.fields}
    return None


def is_json(media_type: str) -> bool:
    """Whether a Content-Type's media type is JSON: application/json or a ``+json`` type."""
    if media_type == "application/json":
        return True
    kind, _, subtype = media_type.partition("/")
    # A type and a subtype with something before its suffix: not "/+json" nor "x/+json".
    return bool(kind) and subtype.endswith("+json") and len(subtype) > len("+json")
