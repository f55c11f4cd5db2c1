"""The groups of a url regex, read without compiling it.

``re.compile`` costs a Python service about 100 µs per url, most of what defining a
service with many routes takes. The route checks need only the names of the groups and
whether there are unnamed ones, which a plain reading gives for the urls people write:
literal text, escapes, character classes, ``(?P<name>...)``, ``(?:...)`` and plain
groups, alternation and quantifiers. Anything else (lookarounds, flags,
backreferences, conditionals, set operations) gets None, and the caller compiles.

The reading is strict: a url it accepts compiles, without a warning, to these groups
(a hypothesis test checks it). It may turn valid urls away, never accept invalid ones.
"""

from __future__ import annotations

import re
import string
from typing import Final

# Escapes of ASCII punctuation stand for the character itself.
_PUNCTUATION: Final = frozenset(string.punctuation)
_CLASS_ESCAPES: Final = frozenset("dDwWsS")
# Zero-width: nothing may repeat them.
_ANCHOR_ESCAPES: Final = frozenset("bBAZ")
# Inside a class, these pairs are set operations to come; re warns about them.
_SET_OPERATIONS: Final = ("--", "&&", "~~", "||")
# Past this, a repeat count gets close to re's own limit; no url needs it.
_MAX_REPEAT: Final = 65535
# Characters that are not plain text ("." matches one character: plain enough here).
_SPECIAL: Final = frozenset("\\[]()*+?{}|^$")
# A run of plain text, read at once.
_TEXT: Final = re.compile(f"[^{re.escape(''.join(sorted(_SPECIAL)))}]+")
# A named group's opening, its name an ASCII identifier (re takes others, read by compiling).
_NAMED: Final = re.compile(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>")


def simple_groups(url: str) -> tuple[tuple[str, ...], int] | None:
    """The named groups of ``url`` in order and its number of unnamed ones, or None.

    None means the url is not in the plain form read here (or is not a valid regex):
    compile it to know.
    """
    names: list[str] = []
    unnamed = 0
    depth = 0
    # Whether the item just read may take a quantifier.
    repeatable = False
    index = 0
    size = len(url)
    while index < size:
        char = url[index]
        if char not in _SPECIAL:
            # Most of a url is literal text: tested first, and a run of it read at once.
            repeatable = True
            index += 1
            if index < size and url[index] not in _SPECIAL:
                text = _TEXT.match(url, index)
                index = text.end() if text else index + 1
        elif char == "\\":
            escaped = url[index + 1 : index + 2]
            if escaped in _CLASS_ESCAPES or escaped in _PUNCTUATION:
                repeatable = True
            elif escaped in _ANCHOR_ESCAPES:
                repeatable = False
            else:
                return None
            index += 2
        elif char == "[":
            end = _class_end(url, index)
            if end < 0:
                return None
            index = end
            repeatable = True
        elif char == "(":
            named = _NAMED.match(url, index)
            if named is not None:
                name = named[1]
                if name in names:
                    return None
                names.append(name)
                index = named.end()
            elif url.startswith("(?:", index):
                index += 3
            elif url.startswith("(?", index):
                return None
            else:
                unnamed += 1
                index += 1
            depth += 1
            repeatable = False
        elif char == ")":
            if depth == 0:
                return None
            depth -= 1
            index += 1
            repeatable = True
        elif char in "*+?{":
            if not repeatable:
                return None
            index = _quantifier_end(url, index)
            if index < 0:
                return None
            if url.startswith("?", index):
                index += 1  # lazy
            repeatable = False
        elif char in "}]":
            return None
        else:
            # "|", "^" and "$" take no quantifier.
            repeatable = False
            index += 1
    if depth:
        return None
    return tuple(names), unnamed


def _quantifier_end(url: str, index: int) -> int:
    """Where the quantifier at ``index`` ends, or -1 for a ``{...}`` not read here."""
    if url[index] != "{":
        return index + 1
    close = url.find("}", index)
    low, comma, high = url[index + 1 : close].partition(",")
    if close < 0 or not (low.isascii() and low.isdigit()):
        return -1
    if comma and high and not (high.isascii() and high.isdigit()):
        return -1
    if int(low) > _MAX_REPEAT or (high and not int(low) <= int(high) <= _MAX_REPEAT):
        return -1
    return close + 1


# Classes read before: a service repeats a few ([^/], [0-9a-f-]) over many urls.
_CLASSES: Final[set[str]] = set()
_MAX_CLASSES: Final = 1024


def _class_end(url: str, start: int) -> int:
    """The index after the ``]`` that ends the class at ``start``, or -1."""
    # A class read before ends at the first "]" that could end it, and its reading
    # stopped there: what follows in this url cannot change the answer.
    close = url.find("]", start + 2)
    if url[start : close + 1] in _CLASSES:
        return close + 1
    end = _read_class(url, start)
    if end == close + 1 and len(_CLASSES) < _MAX_CLASSES:
        _CLASSES.add(url[start:end])
    return end


def _read_class(url: str, start: int) -> int:
    index = start + 1
    if url.startswith("^", index):
        index += 1
    first = index
    # The last single character read, which a "-" may extend into a range.
    last: str | None = None
    while index < len(url):
        char = url[index]
        if char == "]" and index > first:
            body = url[first:index]
            for pair in _SET_OPERATIONS:
                if pair in body:
                    return -1
            return index + 1
        if char == "[":
            return -1
        if char == "\\":
            escaped = url[index + 1 : index + 2]
            if escaped in _CLASS_ESCAPES:
                last = None
            elif escaped in _PUNCTUATION:
                last = escaped
            else:
                return -1
            index += 2
        elif char == "-" and index > first and not url.startswith("]", index + 1):
            # A range: both ends single characters, in order.
            high, after = _class_char(url, index + 1)
            if last is None or high is None or high < last:
                return -1
            last = None
            index = after
        else:
            last = char
            index += 1
    return -1


def _class_char(url: str, index: int) -> tuple[str | None, int]:
    """The single character at ``index`` inside a class and the index after it."""
    char = url[index : index + 1]
    if char == "\\":
        escaped = url[index + 1 : index + 2]
        return (escaped, index + 2) if escaped in _PUNCTUATION else (None, index)
    if not char or char == "[":
        return None, index
    return char, index + 1
