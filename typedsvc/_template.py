"""A url regex read as literal text and named groups: a path template.

``r"/users/(?P<id>\\d+)/posts"`` is ``/users/{id}/posts`` with ``id`` matching ``\\d+``.
A url that is only that (literal text, escaped punctuation and named groups, with an
optional leading ``^`` and trailing ``$``) is *plain*: its template says all it matches.
Any other url gets the template of what most of its paths look like (an optional part
left out, the first branch of an alternation taken), and is not plain.

Pure and standard-library only.
"""

from __future__ import annotations

import functools
from typing import Final, NamedTuple

_OPTIONAL_QUANTIFIERS: Final = ("?", "*", "{0")


class Group(NamedTuple):
    """A named group of a url: its name and the pattern inside it."""

    name: str
    pattern: str


class Template(NamedTuple):
    """A url as literal text and groups, in order, and whether that is all of it."""

    parts: tuple[str | Group, ...]
    plain: bool

    @property
    def path(self) -> str:
        """The OpenAPI path template: the text, with ``{name}`` for each group."""
        return "".join(
            f"{{{part.name}}}" if isinstance(part, Group) else part for part in self.parts
        )

    @property
    def groups(self) -> tuple[Group, ...]:
        return tuple(part for part in self.parts if isinstance(part, Group))


@functools.lru_cache(maxsize=1024)
def template(url: str) -> Template:
    """The path template of a url regex (see the module docstring).

    ``url`` is one a route was defined with, so a valid regex.
    """
    parts: list[str | Group] = []
    plain = _read(url, 0, len(url), parts, top=True)
    merged: list[str | Group] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return Template(tuple(merged), plain)


def _read(url: str, start: int, end: int, parts: list[str | Group], *, top: bool) -> bool:
    """Read ``url[start:end]`` into ``parts``; whether it was all text and named groups."""
    plain = True
    index = start
    while index < end:
        char = url[index]
        if char == "|":
            # Alternatives: the first one stands for all of them.
            return False
        if char in "^$" and top and (index == 0 or index == end - 1):
            index += 1
            continue
        if char == "\\":
            escaped = url[index + 1 : index + 2]
            item_end = index + 2
            literal = escaped if escaped and not escaped.isalnum() and escaped != "_" else None
        elif char == "(":
            item_end = _group_end(url, index, end)
            literal = None
        elif char == "[":
            item_end = _class_end(url, index, end)
            literal = None
        elif char in ".^$*+?{}":
            item_end = index + 1
            literal = None
        else:
            item_end = index + 1
            literal = char
        quantifier_end = _quantifier_end(url, item_end, end)
        optional = url.startswith(_OPTIONAL_QUANTIFIERS, item_end) and quantifier_end > item_end
        if quantifier_end > item_end:
            plain = False
        if not optional:
            if literal is not None:
                parts.append(literal)
            elif char == "(":
                plain = _read_group(url, index, item_end, parts) and plain
            else:
                plain = False
        index = quantifier_end
    return plain


def _read_group(url: str, start: int, end: int, parts: list[str | Group]) -> bool:
    """A group from ``start`` to its ``)`` at ``end - 1`` into ``parts``."""
    if url.startswith("(?P<", start):
        close = url.find(">", start)
        parts.append(Group(url[start + 4 : close], url[close + 1 : end - 1]))
        return True
    if url.startswith("(?:", start):
        inner: list[str | Group] = []
        _read(url, start + 3, end - 1, inner, top=False)
        parts.extend(inner)
        return False
    # A lookaround, flags, a plain group: nothing of it is text for a template.
    return False


def _group_end(url: str, start: int, end: int) -> int:
    """The index after the ``)`` that closes the group opened at ``start``."""
    depth = 0
    index = start
    while index < end:
        char = url[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(url, index, end)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return end  # pragma: no cover - a valid regex closes every group


def _class_end(url: str, start: int, end: int) -> int:
    """The index after the ``]`` that closes the class opened at ``start``."""
    index = start + 1
    if url.startswith("^", index):
        index += 1
    if url.startswith("]", index):
        index += 1  # a "]" first in a class is a member
    while index < end:
        if url[index] == "\\":
            index += 2
            continue
        if url[index] == "]":
            return index + 1
        index += 1
    return end  # pragma: no cover - a valid regex closes every class


def _quantifier_end(url: str, index: int, end: int) -> int:
    """The index after the quantifier at ``index`` (and its lazy ``?``), or ``index``."""
    if index >= end:
        return index
    char = url[index]
    if char in "?*+":
        after = index + 1
    elif char == "{":
        close = url.find("}", index, end)
        if close < 0:
            return index
        after = close + 1
    else:
        return index
    if url.startswith(("?", "+"), after) and after < end:
        after += 1
    return after


@functools.lru_cache(maxsize=1024)
def reverse_problem(url: str) -> str | None:
    """Why url_for cannot write a path this url regex matches; None when it can.

    It can when the url is literal text and named groups, parts made optional by ``?``
    or ``*`` (left out) aside: then the path is the text with each group's value.
    """
    return _reverse_problem(url, 0, len(url), top=True)


def _reverse_problem(url: str, start: int, end: int, *, top: bool) -> str | None:
    index = start
    while index < end:
        char = url[index]
        if char == "|":
            return "it has an alternation outside its groups"
        if char in "^$":
            if top and (index == 0 or index == end - 1):
                index += 1
                continue
            return "it has an anchor inside it"
        named = False
        if char == "\\":
            escaped = url[index + 1 : index + 2]
            item_end = index + 2
            if escaped.isdigit():
                return "it has a backreference"
            writable = bool(escaped) and not escaped.isalnum() and escaped != "_"
        elif char == "(":
            item_end = _group_end(url, index, end)
            writable, named, problem = _group_writable(url, index, item_end)
            if problem is not None:
                return problem
        elif char == "[" or char == ".":
            item_end = _class_end(url, index, end) if char == "[" else index + 1
            writable = False
        elif char in "*+?{}":
            return "it has a quantifier that repeats nothing"  # pragma: no cover - invalid
        else:
            item_end = index + 1
            writable = True
        quantifier_end = _quantifier_end(url, item_end, end)
        optional = quantifier_end > item_end and url.startswith(_OPTIONAL_QUANTIFIERS, item_end)
        if optional:
            if named:
                return "it has an optional group"
        elif quantifier_end > item_end:
            return "it has a repeated part outside its groups"
        elif char == ".":
            return 'it has a "." outside its groups, which matches any character (\\. is a dot)'
        elif not writable:
            return "it has a character class outside its groups"
        index = quantifier_end
    return None


def _group_writable(url: str, start: int, end: int) -> tuple[bool, bool, str | None]:
    """(whether url_for can write the group, whether it holds a named group, a problem)."""
    if url.startswith("(?P<", start):
        return True, True, None
    if url.startswith("(?P=", start):
        return False, False, "it has a backreference"
    if url.startswith(("(?=", "(?!", "(?<=", "(?<!"), start):
        return False, False, "it has a lookaround"
    if url.startswith("(?:", start):
        problem = _reverse_problem(url, start + 3, end - 1, top=False)
        return problem is None, "(?P<" in url[start:end], problem
    # Flags, conditionals, a plain group (which the route checks refuse anyway).
    return False, False, "it has a group url_for cannot write"
