"""openapi(): the OpenAPI 3.1 document of a service, from its routes and their types.

It only reads: the route specs the decorators recorded, the handlers' annotations and
docstrings. Schemas come from msgspec, with every named type (a TypedDict, a dataclass, a
Struct, an Enum) in ``components/schemas`` once.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable, Iterator
from typing import Any, Final, NamedTuple, Union, get_args, get_origin

import msgspec

from typedsvc._json_schema import described
from typedsvc._problems import Problem
from typedsvc._response import JsonResponse
from typedsvc._service import Service, routes_of
from typedsvc._signature import UNDECLARED, declared_return, describe
from typedsvc._specs import RouteSpec
from typedsvc._template import template

OPENAPI_VERSION: Final = "3.1.0"
_REF_TEMPLATE: Final = "#/components/schemas/{name}"
_PROBLEM_TYPE: Final = "application/problem+json"
# A path parameter's group pattern, kept on it until its schema is known.
_PATTERN: Final = "x-typedsvc-group-pattern"

Document = dict[str, Any]


class _Operation(NamedTuple):
    """One route and method, and the types its schemas come from, in order."""

    path: str
    method: str
    regex: str
    operation: Document
    # Where each type's schema goes: (the dict, the key), filled once all are known.
    slots: list[tuple[Document, str, object]]


def openapi(
    service: Service | type[Service], *, title: str | None = None, version: str = "0.1.0"
) -> Document:
    """The OpenAPI 3.1 document of ``service`` (an instance or the class), as a dict.

    One operation per ``@http`` route and method; ``title`` defaults to the service's name.
    """
    cls = service if isinstance(service, type) else type(service)
    declared = routes_of(cls)
    slots: list[tuple[Document, str, object]] = []
    errors = _error_responses(cls, slots)
    operations = [
        op
        for attr, spec in declared.routes
        if isinstance(spec, RouteSpec)
        for op in _operations(spec, getattr(cls, attr), errors, cls.options.http.content_type)
    ]
    slots.extend(slot for op in operations for slot in op.slots)
    schemas, components = msgspec.json.schema_components(
        [typ for _, _, typ in slots], schema_hook=described, ref_template=_REF_TEMPLATE
    )
    for (target, key, _), schema in zip(slots, schemas, strict=True):
        target[key] = schema
    for op in operations:
        for parameter in op.operation.get("parameters", ()):
            pattern = parameter.pop(_PATTERN, None)
            schema = parameter["schema"]
            # A text value is matched by the group's own pattern; a converted one (an int,
            # a UUID, an Enum) is described by its type, and one of its own by that.
            if (
                pattern is not None
                and schema.get("type") == "string"
                and not schema.keys() & {"format", "pattern"}
            ):
                schema["pattern"] = f"^(?:{pattern})$"
    _unique_operation_ids(operations)
    paths: dict[str, Document] = {}
    # OpenAPI forbids two templates that differ in their parameters' names alone
    # (/b/{n} and /b/{s}): such routes share the first one's, their parameters renamed.
    templates: dict[str, str] = {}
    for op in operations:
        path = templates.setdefault(_shape(op.path), op.path)
        if path != op.path:
            _rename_path_parameters(op.operation, op.path, path)
        item = paths.setdefault(path, {})
        first = item.setdefault(op.method, op.operation)
        if first is not op.operation:
            # One operation per path and method: the routes that also take it (by their
            # regexes) are named on the first one declared.
            also = first.setdefault("x-typedsvc-also", [])
            also.append({"operationId": op.operation["operationId"], "x-typedsvc-regex": op.regex})
    document: Document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title or cls.name, "version": version},
        "paths": paths,
    }
    if components:
        document["components"] = {"schemas": dict(sorted(components.items()))}
    return document


def _operations(
    spec: RouteSpec, handler: Callable[..., object], errors: dict[int, Document], text_type: str
) -> Iterator[_Operation]:
    """The operations of one route, one per method; ``text_type`` is that of str bodies."""
    url = template(spec.url)
    _, resolved = describe(handler, spec.where)
    for method in spec.methods:
        slots: list[tuple[Document, str, object]] = []
        operation: Document = {
            "operationId": spec.where if len(spec.methods) == 1 else f"{spec.where}.{method}"
        }
        summary, description = _docstring(handler)
        if summary:
            operation["summary"] = summary
        if description:
            operation["description"] = description
        if not url.plain:
            operation["x-typedsvc-regex"] = spec.url
        parameters: list[Document] = []
        patterns = {group.name: group.pattern for group in url.groups}
        for name in spec.groups:
            if name not in patterns:
                # An optional group: no path template can leave a parameter out.
                continue
            parameter: Document = {"name": name, "in": "path", "required": True}
            # Annotated as it is: msgspec writes its constraints and leaves other metadata.
            slots.append((parameter, "schema", _wire_type(resolved.get(name, str))))
            parameter[_PATTERN] = patterns[name]
            parameters.append(parameter)
        body = None
        for entry in spec.inputs:
            if entry.source.location == "body":
                body = entry
                continue
            parameter = {
                "name": entry.source.wire,
                "in": entry.source.location,
                "required": not entry.has_default,
            }
            slots.append((parameter, "schema", _wire_type(entry.annotation)))
            parameters.append(parameter)
        if parameters:
            operation["parameters"] = parameters
        if body is not None:
            media: Document = {}
            slots.append((media, "schema", body.annotation))
            operation["requestBody"] = {
                "required": not body.has_default,
                "content": {"application/json": media},
            }
        responses: Document = {}
        for status, response in _success_responses(handler, slots, text_type):
            responses[status] = response
        if spec.groups:
            responses["404"] = errors.get(404) or _plain("No route takes the path.")
        if spec.conversions or spec.inputs:
            responses["400"] = errors.get(400) or _problem("An input is missing or malformed.")
        if body is not None:
            responses["413"] = errors.get(413) or _plain("The body is over client_max_size.")
            responses["415"] = errors.get(415) or _problem("The body is not JSON.")
            responses["422"] = errors.get(422) or _problem("The body does not fit its schema.")
        for code, answer in errors.items():
            responses.setdefault(str(code), answer)
        operation["responses"] = dict(sorted(responses.items()))
        # The problem schema's slots come last, so that their $refs are the shared ones.
        for response in operation["responses"].values():
            media_type = response.get("content", {}).get(_PROBLEM_TYPE)
            if media_type is not None and "schema" not in media_type:
                slots.append((media_type, "schema", Problem))
        yield _Operation(url.path, method.lower(), spec.url, operation, slots)


def _unique_operation_ids(operations: list[_Operation]) -> None:
    """Number the operationIds a handler of several ``@http`` routes repeats: .2, .3, ..."""
    seen: dict[str, int] = {}
    for op in operations:
        ident = op.operation["operationId"]
        seen[ident] = seen.get(ident, 0) + 1
        if seen[ident] > 1:
            op.operation["operationId"] = f"{ident}.{seen[ident]}"


_PARAMETER: Final = re.compile(r"\{([^}]*)\}")


def _shape(path: str) -> str:
    """A path template without its parameters' names: /b/{} for /b/{n} and /b/{s}."""
    return _PARAMETER.sub("{}", path)


def _rename_path_parameters(operation: Document, path: str, shared: str) -> None:
    """Give ``operation``'s path parameters the names they have in ``shared``, in order."""
    names = dict(zip(_PARAMETER.findall(path), _PARAMETER.findall(shared), strict=True))
    for parameter in operation.get("parameters", ()):
        if parameter["in"] == "path":
            parameter["name"] = names[parameter["name"]]


def _docstring(handler: Callable[..., object]) -> tuple[str, str]:
    """The summary (first line) and description (the rest) of a handler's docstring.

    Its own: not one inherited from the method it overrides, which may do another thing.
    """
    doc = inspect.cleandoc(handler.__doc__) if handler.__doc__ else None
    if not doc:
        return "", ""
    summary, _, rest = doc.partition("\n")
    return summary.strip(), rest.strip()


def _success_responses(
    handler: Callable[..., object], slots: list[tuple[Document, str, object]], text_type: str
) -> list[tuple[str, Document]]:
    """The responses a handler's return annotation describes."""
    declared = declared_return(handler)
    members = _members(declared) if declared is not UNDECLARED else [UNDECLARED]
    found: dict[str, Document] = {}
    for member in members:
        if member is str or member is bytes:
            found.setdefault("200", _plain("The handler's text.", text_type))
        elif member is None or member is type(None):
            found.setdefault("204", {"description": "No content."})
        elif get_origin(member) is JsonResponse or member is JsonResponse:
            args = get_args(member)
            media: Document = {}
            slots.append((media, "schema", args[0] if args else Any))
            found.setdefault(
                "2XX",
                {"description": "The handler's JSON.", "content": {"application/json": media}},
            )
        else:
            found.setdefault("default", {"description": "A response the handler builds."})
    return sorted(found.items())


def _members(declared: object) -> list[object]:
    """The members of a union, or the type alone."""
    if get_origin(declared) in (Union, types.UnionType):
        return [member for arg in get_args(declared) for member in _members(arg)]
    return [declared]


def _error_responses(
    cls: type[Service], slots: list[tuple[Document, str, object]]
) -> dict[int, Document]:
    """The responses of the service's ``@http_error`` handlers, by status.

    Operations share them; their schemas go into ``slots``.
    """
    found: dict[int, Document] = {}
    for attr, spec in routes_of(cls).error_handlers:
        content: Document = {}
        text_type = cls.options.http.content_type
        for _, success in _success_responses(getattr(cls, attr), slots, text_type):
            content.update(success.get("content", {}))
        response: Document = {"description": f'Answered by "{spec.where}".'}
        if content:
            response["content"] = content
        found[spec.status] = response
    return found


def _plain(description: str, media_type: str = "text/plain") -> Document:
    return {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}


def _problem(description: str) -> Document:
    return {"description": description, "content": {_PROBLEM_TYPE: {}}}


def _wire_type(annotation: object) -> object:
    """The schema type of a query, header or cookie value: T | None is T on the wire.

    The checks at import let ``T | None`` be the only union here, and Literals joined in one.
    """
    if get_origin(annotation) in (Union, types.UnionType):
        kept = tuple(arg for arg in get_args(annotation) if arg is not type(None))
        return kept[0] if len(kept) == 1 else Union[kept]  # noqa: UP007 - built from a tuple at run time
    return annotation
