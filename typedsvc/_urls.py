"""Url regexes and their match against a handler's signature.

Pure and standard-library only: the runtime describes a handler from its
signature and the mypy plugin from mypy's types, both as :class:`HandlerShape`,
and both get their messages from :func:`check_route`.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from typing import Final, Literal, NamedTuple

from typedsvc import _errors
from typedsvc._groups import simple_groups
from typedsvc._inputs import InputSource, Location, body_method_problem, input_problems

ParamKind = Literal[
    "positional_only", "positional_or_keyword", "var_positional", "keyword_only", "var_keyword"
]
Conversion = Literal["str", "int", "float", "uuid", "enum"]

STATIC_FILENAME: Final = "filename"
# How alike a group's and a parameter's names must be to be taken for one misspelt.
_CLOSE: Final = 0.8
_POSITIONAL: Final = frozenset({"positional_only", "positional_or_keyword"})
_VARIADIC: Final = frozenset({"var_positional", "var_keyword"})


class Param(NamedTuple):
    """One handler parameter, as far as url checks care.

    A NamedTuple rather than a frozen dataclass: a class of 1000 routes needs some 4000
    of these at import, and a frozen dataclass takes five times as long to build.
    """

    name: str
    kind: ParamKind
    has_default: bool = False
    # The annotation as the user wrote it, for messages; None when unannotated.
    annotation: str | None = None
    # How a url group is converted for this parameter; None when it cannot be.
    conversion: Conversion | None = "str"
    # False when the annotation is a name that could not be evaluated at import.
    resolved: bool = True
    # Where a marked parameter (typedsvc.Query[int], ...) takes its value from; None for
    # the others, which url groups fill.
    source: InputSource | None = None
    # The location of a marker inside the annotation (typedsvc.Query[int] | None), which
    # marks nothing there; None when there is none.
    nested: Location | None = None


class UrlGroups(NamedTuple):
    """The groups of a url regex: its named ones in order, and the number of unnamed ones."""

    names: tuple[str, ...]
    unnamed: int


class HandlerShape(NamedTuple):
    """A handler's name (``Class.method``), whether it is async, and its parameters."""

    where: str
    is_async: bool
    params: tuple[Param, ...]


@functools.lru_cache(maxsize=4096)
def url_groups(url: str) -> UrlGroups:
    """The named groups of the url regex, in order, and how many groups are unnamed.

    Read without compiling when the url is plain enough (see ``_groups``), else from
    the compiled pattern. Raises ``re.error`` for an invalid pattern. Cached: the
    checks and the route's spec both ask, once each.
    """
    found = simple_groups(url)
    if found is not None:
        return UrlGroups(*found)
    pattern = compile_url(url)
    return UrlGroups(tuple(pattern.groupindex), pattern.groups - len(pattern.groupindex))


def compile_url(url: str) -> re.Pattern[str]:
    """Compile a url regex; it is matched against the whole path with ``fullmatch``.

    Raises ``re.error`` for an invalid pattern.
    """
    return re.compile(url)


_KEPT_ENCODED: Final = re.compile(r"%2[fF]|%25")


def decode_path_value(value: str) -> str:
    """Decode a part of a path as the router sees it (yarl's ``path_safe``).

    Everything but ``%2F`` and ``%25`` is decoded already; decoding again would turn a
    literal ``%41`` into ``A``.
    """
    if "%" not in value:
        return value
    return _KEPT_ENCODED.sub(lambda escape: "/" if escape[0] != "%25" else "%", value)


def route_key(url: str) -> str:
    """The url with an optional leading ``^`` and trailing ``$`` removed.

    Two routes with the same key match exactly the same paths.
    """
    key = url.removeprefix("^")
    if key.endswith("$") and not _is_escaped(key, len(key) - 1):
        key = key[:-1]
    return key


_META: Final = frozenset(".^$*+?{}[]|()\\")
_OPTIONAL_AFTER: Final = frozenset("*?{")


def literal_parts(url: str) -> tuple[str, bool]:
    """The text every path the url regex matches starts with, and whether it is all of it.

    Routing skips the regexes whose prefix does not start a path, and answers a url that
    is plain text (``r"/health"``: complete) with one dict lookup. It is conservative: an
    escape it does not know, an alternation at the top level or a quantifier that makes
    the last character optional shortens the prefix, never lengthens it, and ends it
    incomplete ("" when it cannot tell).
    """
    if _has_top_level_alternation(url):
        return "", False
    prefix: list[str] = []
    index = 1 if url.startswith("^") else 0
    while index < len(url):
        char = url[index]
        if char == "\\":
            escaped = url[index + 1 : index + 2]
            if not escaped or escaped.isalnum() or escaped == "_":
                break  # \d, \w, \A, a backreference or a numbered escape: not one character.
            prefix.append(escaped)
            index += 2
            continue
        if char in _META:
            if char in _OPTIONAL_AFTER and prefix:
                prefix.pop()  # "a?", "a*" and "a{0,1}" may match without their "a".
            break
        prefix.append(char)
        index += 1
    # The whole url was read, or all that is left is the "$" that ends it.
    complete = index == len(url) or (index == len(url) - 1 and url[index] == "$")
    return "".join(prefix), complete


def _has_top_level_alternation(url: str) -> bool:
    if "|" not in url:
        return False
    depth = 0
    in_class = False
    index = 0
    while index < len(url):
        char = url[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # A "]" right after "[" or "[^" is a member of the class, not its end.
            if url[index + 1 : index + 2] == "^":
                index += 1
            if url[index + 1 : index + 2] == "]":
                index += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        index += 1
    return False


def _is_escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index > 0 and text[index - 1] == "\\":
        backslashes += 1
        index -= 1
    return backslashes % 2 == 1


def check_handler_shape(shape: HandlerShape, url: str) -> list[str]:
    """Problems with the handler itself: async, and a request parameter."""
    if not shape.is_async:
        return [_errors.not_async(shape.where, url)]
    if not takes_request(shape.params):
        return [_errors.missing_request(shape.where, url)]
    return []


def takes_request(params: tuple[Param, ...]) -> bool:
    """Whether ``self`` and the request can both be passed positionally."""
    positional = 0
    for param in params:
        if param.kind == "var_positional":
            return True
        if param.kind in _POSITIONAL:
            positional += 1
            if positional == 2:
                return True
    return False


def check_route(shape: HandlerShape, url: str, methods: Sequence[str] = ()) -> list[str]:
    """Every problem with ``url`` routed to the handler ``shape``, in a stable order.

    ``methods`` are the route's, when known: a body parameter needs one that has a body.
    """
    after_request = _usual_after_request(shape)
    if after_request is None:
        unusable = check_handler_shape(shape, url)
        if unusable:
            return unusable
        after_request = _after_request(shape.params)
    try:
        groups = url_groups(url)
    except re.error as exc:
        return [_errors.invalid_regex(shape.where, url, exc.msg, exc.pos)]
    problems = (
        [] if _fits(after_request, groups) else _problems(after_request, groups, shape.where, url)
    )
    problem = body_method_problem(shape.where, url, methods, inputs_of(after_request))
    if problem is not None:
        problems.append(problem)
    return problems


def inputs_of(params: Sequence[Param]) -> list[tuple[str, InputSource]]:
    """The marked parameters among ``params``, with where each takes its value from."""
    return [(param.name, param.source) for param in params if param.source is not None]


def route_fits(shape: HandlerShape, groups: UrlGroups) -> bool:
    """Whether ``check_route()`` finds no problem for ``shape`` on a url with ``groups``.

    False also when it cannot tell quickly: only the usual handler is looked at here.
    """
    after_request = _usual_after_request(shape)
    # Not through _fits(): the caller remembers the answer itself.
    return after_request is not None and not _problems(after_request, groups, "", "")


def _usual_after_request(shape: HandlerShape) -> tuple[Param, ...] | None:
    """The parameters after the request of the usual handler: async, self and the request
    first. None for any other handler, which needs a closer look."""
    params = shape.params
    if (
        shape.is_async
        and len(params) >= 2
        and params[0].kind in _POSITIONAL
        and params[1].kind in _POSITIONAL
    ):
        return params[2:]
    return None


# Parameters that fit a url's groups once fit them again: many routes share both, as
# (self, request, item_id: int) on "/a/(?P<item_id>\d+)" and on "/b/(?P<item_id>\d+)".
# Kept small, like the decorators' caches.
@functools.lru_cache(maxsize=256)
def _fits(after_request: tuple[Param, ...], groups: UrlGroups) -> bool:
    return not _problems(after_request, groups, "", "")


def _problems(
    after_request: tuple[Param, ...], groups: UrlGroups, where: str, url: str
) -> list[str]:
    """The problems of the parameters after the request with a url's groups."""
    problems = _group_problems(after_request, groups, where, url)
    inputs = inputs_of(after_request)
    if inputs:
        problems.extend(input_problems(where, url, groups.names, inputs))
    return problems


def _group_problems(
    after_request: tuple[Param, ...], groups: UrlGroups, where: str, url: str
) -> list[str]:
    """The problems between a url's groups and the parameters after the request."""
    problems: list[str] = []
    if groups.unnamed:
        problems.append(_errors.unnamed_group(where, url))

    by_name: dict[str, Param] = {}
    # Marked parameters take their values elsewhere (a group naming one is an input problem).
    marked: set[str] = set()
    takes_kwargs = False
    for after in after_request:
        if after.kind == "var_keyword":
            takes_kwargs = True
        elif after.source is not None:
            marked.add(after.name)
        elif after.kind != "var_positional":
            by_name[after.name] = after
    # Pairs of a group and a parameter that match nothing but have close names: one
    # problem each, saying so (item_id and itemid).
    apart = _close_pairs(
        [g for g in groups.names if g not in by_name and not takes_kwargs and g not in marked],
        [name for name in by_name if name not in groups.names],
    )
    for group in groups.names:
        param = by_name.get(group)
        if param is None:
            if group in apart:
                problems.append(_errors.group_and_parameter_apart(where, url, group, apart[group]))
            elif not takes_kwargs and group not in marked:
                problems.append(_errors.group_without_parameter(where, url, group))
        elif param.kind == "positional_only":
            problems.append(_errors.group_positional_only(where, url, group))
        elif param.conversion is None:
            annotation = param.annotation or ""
            if param.resolved:
                message = _errors.unsupported_annotation(where, url, group, annotation)
            else:
                message = _errors.unresolved_annotation(where, url, group, annotation)
            problems.append(message)
    paired = set(apart.values())
    for param in by_name.values():
        if param.name in groups.names or param.name in paired:
            continue
        if param.nested is not None:
            # With a default it would pass for a middleware's value, and never be read.
            problems.append(_errors.marker_inside(where, url, param.name, param.nested))
        elif not param.resolved:
            # Perhaps a marker (typedsvc.Query[Mode]) whose type is not defined yet. With a
            # default it would pass for a middleware's value, and never get its input.
            annotation = param.annotation or ""
            message = _errors.unresolved_annotation(where, url, param.name, annotation)
            problems.append(message)
        elif not param.has_default:
            problems.append(_errors.parameter_without_group(where, url, param.name))
    return problems


def _close_pairs(groups: list[str], parameters: list[str]) -> dict[str, str]:
    """Each unmatched group with the unmatched parameter whose name is closest to it."""
    pairs: dict[str, str] = {}
    for group in groups:
        left = [name for name in parameters if name not in pairs.values()]
        close = difflib.get_close_matches(group, left, n=1, cutoff=_CLOSE)
        if close:
            pairs[group] = close[0]
    return pairs


def check_websocket(shape: HandlerShape, url: str) -> list[str]:
    """Problems with ``@websocket(url)`` on the handler ``shape``.

    Its second parameter takes the websocket; a parameter named ``request`` gets the
    request by name; the others must match the url's groups.
    """
    if not shape.is_async:
        return [_errors.not_async(shape.where, url, "websocket handler", "websocket")]
    if not takes_request(shape.params):
        return [_errors.missing_request(shape.where, url, "websocket handler", "websocket")]
    first, rest = shape.params[:2], shape.params[2:]
    marked = _marked(shape.where, rest, "websocket handler")
    if marked:
        return marked
    named = tuple(param for param in rest if param.name != "request")
    return check_route(HandlerShape(shape.where, True, first + named), url)


def check_static_url(where: str, url: str) -> list[str]:
    """Problems with the url of ``@http_static``: only a ``filename`` group may be named."""
    try:
        pattern = compile_url(url)
    except re.error as exc:
        return [_errors.invalid_regex(where, url, exc.msg, exc.pos)]
    problems = [
        _errors.static_url_group(where, url, group)
        for group in pattern.groupindex
        if group != STATIC_FILENAME
    ]
    if pattern.groups > len(pattern.groupindex):
        problems.append(_errors.unnamed_group(where, url))
    return problems


def check_error_handler(shape: HandlerShape, status: int | None) -> list[str]:
    """Problems with an ``http_error(status)`` handler; ``status`` None when not known."""
    if status is not None and not 400 <= status <= 599:
        return [_errors.invalid_error_status(shape.where, status)]
    shown = status if status is not None else "..."
    if not shape.is_async:
        return [_errors.error_handler_not_async(shape.where, shown)]
    if not takes_request(shape.params):
        return [_errors.error_handler_missing_request(shape.where, shown)]
    marked = _marked(shape.where, shape.params, f"http_error({shown}) handler")
    if marked:
        return marked
    extra = [
        param.name
        for param in _after_request(shape.params)
        if param.kind not in _VARIADIC and param.name != "status_code" and not param.has_default
    ]
    if extra:
        return [_errors.error_handler_parameters(shape.where, shown, extra)]
    return []


def _marked(where: str, params: Sequence[Param], handler: str) -> list[str]:
    """The problems of marked parameters on a handler that is not an ``@http`` route."""
    return [
        _errors.input_outside_route(where, param.name, param.source.location, handler)
        for param in params
        if param.source is not None
    ]


def _after_request(params: tuple[Param, ...]) -> tuple[Param, ...]:
    """The parameters after ``self`` and the request."""
    for index, param in enumerate(params):
        if index == 2 or param.kind not in _POSITIONAL:
            return params[index:]
    return ()
