"""Reading a url's groups without compiling it: only ever what re.compile would say."""

from __future__ import annotations

import re
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from typedsvc import _groups
from typedsvc._groups import simple_groups
from typedsvc._urls import url_groups

PIECES = [
    "a", "b", "/", "-", " ", "#", "é", ".", ",", "^", "$", "|", "*", "+", "?", "{", "}", "[", "]",
    "(", ")", "(?:", "(?P<x>", "(?P<y>", "(?P<1>", "(?P<é>", "(?P<x", "(?=", "(?i)", "(?P=x)",
    "\\", "\\d", "\\w", "\\.", "\\-", "\\b", "\\Z", "\\1", "\\q", "\\é",
    "{2}", "{2,}", "{2,5}", "{5,2}", "{,3}", "{99999999}", "{0x}",
    "[a-z]", "[^/]", "[]a]", "[z-a]", "[\\d-z]", "[a-\\d]", "[\\]-a]", "[a--b]", "[&&]", "[[a]",
    "[a-]", "[-a]", "[\\b]", "[^]", "[]",
    "[0-9a-f-]", "[a-b-c]", "[^^]", "[a-z-]", "[a|]", "[z-a-]", "[^.-/]", "[a&&b]", "[~~]",
]  # fmt: skip
pieced = st.lists(st.sampled_from(PIECES), max_size=10).map("".join)
raw = st.text(alphabet="ab-/\\[]^$()?:P<>xy|*+{},.1d=", max_size=14)


def compiled_groups(url: str) -> tuple[tuple[str, ...], int]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pattern = re.compile(url)
    return tuple(pattern.groupindex), pattern.groups - len(pattern.groupindex)


@settings(max_examples=3000, deadline=None)
@given(url=st.one_of(pieced, raw))
def test_simple_groups_accepts_only_what_compiles_to_those_groups(url: str) -> None:
    found = simple_groups(url)
    if found is not None:
        assert found == compiled_groups(url)


@pytest.mark.parametrize(
    ("url", "groups"),
    [
        (r"/health", ((), 0)),
        (r"/api/v1/catalogue/items/by-name/item0000/(?P<id>[^/]+)", (("id",), 0)),
        (r"^/users/(?P<user_id>\d+)$", (("user_id",), 0)),
        (r"/r1/(?P<item_id>\d+)/(?P<name>[^/]+)", (("item_id", "name"), 0)),
        (r"/r1/(?P<ref>[0-9a-f-]{36})", (("ref",), 0)),
        (r"/r1(?:/(?P<page>\d+))?", (("page",), 0)),
        (r"/files/(?P<path>.+?)\.txt", (("path",), 0)),
        (r"/(a|b)/(?P<x>[\w.~-]*)", (("x",), 1)),
        (r"/a{2,}|/b*?", ((), 0)),
    ],
)
def test_simple_groups_reads_the_urls_people_write(
    url: str, groups: tuple[tuple[str, ...], int]
) -> None:
    assert simple_groups(url) == groups == compiled_groups(url)


@pytest.mark.parametrize(
    "url",
    [
        r"(?i)/a",
        r"/(?=x)",
        r"/(?P<a>x)(?P=a)",
        r"/(a)\1",
        r"/[[a]",
        r"/a{,3}",
        r"/a**",
        r"/[\b]",
        r"/a(",
        r"/a)",
        r"/\q",
    ],
)
def test_simple_groups_leaves_the_rest_to_re(url: str) -> None:
    assert simple_groups(url) is None


@pytest.mark.parametrize("url", [r"(?i)/(?P<a>x)(b)", r"/(?P<a>x)(?P=a)(?=c)"])
def test_url_groups_compiles_what_it_cannot_read(url: str) -> None:
    assert tuple(url_groups(url)) == compiled_groups(url)


def test_url_groups_raises_for_an_invalid_regex() -> None:
    with pytest.raises(re.error, match=r"^missing \), unterminated subpattern at position 2$"):
        url_groups("/a(")


@pytest.mark.parametrize(
    ("first", "then", "groups"),
    [
        (r"/a/(?P<x>[^/]+)", r"/b/(?P<y>[^/]+)", (("y",), 0)),
        (r"/a/(?P<x>[^/]+)", r"/b/(?P<y>[^/]]+)", None),
        (r"/a/[]a]", r"/b/[]a", None),
        (r"/a/[]a]", r"/b/([]a])", ((), 1)),
        (r"/a/[\]]", r"/b/[\]", None),
        (r"/a/[a-z]", r"/b/[a-z-[]", None),
    ],
)
def test_a_class_read_before_gives_the_same_answer(
    first: str, then: str, groups: tuple[tuple[str, ...], int] | None
) -> None:
    # Classes are remembered by their text up to the first "]" that could end them;
    # "then" starts its class with the text of the class in "first".
    _groups._CLASSES.clear()  # pyright: ignore[reportPrivateUsage]
    assert simple_groups(then) == groups
    simple_groups(first)
    assert simple_groups(then) == groups
