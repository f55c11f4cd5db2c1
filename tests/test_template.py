"""template(): a url regex as literal text and named groups (OpenAPI paths, plain or not)."""

from __future__ import annotations

import pytest

from typedsvc._template import (
    Group,
    reverse_problem,
    template,
)


@pytest.mark.parametrize(
    ("url", "path", "groups", "plain"),
    [
        pytest.param(r"/users/(?P<id>\d+)/posts", "/users/{id}/posts", [("id", r"\d+")], True),
        pytest.param(r"^/health$", "/health", [], True, id="anchors"),
        pytest.param(
            r"/files/(?P<name>[^/]+)\.txt", "/files/{name}.txt", [("name", "[^/]+")], True
        ),
        pytest.param(
            r"/x/(?P<a>(?:ab|cd)+)/(?P<b>[a-z]{2,3})",
            "/x/{a}/{b}",
            [("a", "(?:ab|cd)+"), ("b", "[a-z]{2,3}")],
            True,
            id="groups-with-alternation-and-counts-inside",
        ),
        pytest.param(r"/a\(b\)/(?P<c>[)(])", "/a(b)/{c}", [("c", "[)(]")], True, id="escapes"),
        pytest.param(r"/c/(?P<x>[]a])", "/c/{x}", [("x", "[]a]")], True, id="bracket-first"),
        pytest.param(
            r"/resource/(?P<id>[^/]+?)/?", "/resource/{id}", [("id", "[^/]+?")], False, id="slash?"
        ),
        pytest.param(r"/page(?:/(?P<page>\d+))?", "/page", [], False, id="optional-group"),
        pytest.param(r"/q(?P<n>\d)?", "/q", [], False, id="optional-named-group"),
        pytest.param(r"/q(?P<n>\d)+", "/q{n}", [("n", r"\d")], False, id="repeated-group"),
        pytest.param(r"/a|/b", "/a", [], False, id="alternation"),
        pytest.param(r"/api/(?:v1|v2)/users", "/api/v1/users", [], False, id="first-branch"),
        pytest.param(r"/s/.*", "/s/", [], False, id="dot-star"),
        pytest.param(r"/ab+c", "/abc", [], False, id="plus"),
        pytest.param(r"/ab{2}c", "/abc", [], False, id="count"),
        pytest.param(r"/ab{0,2}c", "/ac", [], False, id="count-from-zero"),
        pytest.param(r"/n/\d+/(?P<x>\w+)", "/n//{x}", [("x", r"\w+")], False, id="class-escape"),
        pytest.param(r"/[ab]/x", "//x", [], False, id="class"),
        pytest.param(r"/(?=a)a", "/a", [], False, id="lookahead"),
        pytest.param(r"/(a)", "/", [], False, id="unnamed-group"),
        pytest.param(r"/a{", "/a", [], False, id="lone-brace"),
        pytest.param(r"/(?P<x>[\]a]+)", "/{x}", [("x", r"[\]a]+")], True, id="escape-in-class"),
    ],
)
def test_template(url: str, path: str, groups: list[tuple[str, str]], plain: bool) -> None:
    found = template(url)
    assert (found.path, [tuple(group) for group in found.groups], found.plain) == (
        path,
        groups,
        plain,
    )


def test_template_parts_keep_text_and_groups_in_order() -> None:
    assert template(r"/a/(?P<x>\d+)/b").parts == ("/a/", Group("x", r"\d+"), "/b")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        pytest.param(r"^/users/(?P<id>\d+)$", None, id="text-and-groups"),
        pytest.param(r"/resource/(?P<id>[^/]+?)/?", None, id="optional-text-left-out"),
        pytest.param(r"/a/(?:b/)?(?P<x>\w+)", None, id="optional-unnamed-part"),
        pytest.param(r"/v(?:1)/(?P<x>[a|b]+)", None, id="alternation-inside-a-class-in-a-group"),
        pytest.param(r"/p\.txt/(?P<x>(?:ab|cd)+)", None, id="alternation-inside-a-group"),
        pytest.param(r"/a|/b", "it has an alternation outside its groups", id="alternation"),
        pytest.param(
            r"/api/(?:v1|v2)/x", "it has an alternation outside its groups", id="in-unnamed-group"
        ),
        pytest.param(r"/page(?:/(?P<page>\d+))?", "it has an optional group", id="optional"),
        pytest.param(r"/q(?P<n>\d)?", "it has an optional group", id="optional-named-group"),
        pytest.param(r"/(?=a)a", "it has a lookaround", id="lookahead"),
        pytest.param(r"/(?<!b)a", "it has a lookaround", id="lookbehind"),
        pytest.param(r"/(?P<x>a)/(?P=x)", "it has a backreference", id="named-backreference"),
        pytest.param(r"/(?P<x>a)/\1", "it has a backreference", id="numbered-backreference"),
        pytest.param(r"/ab+c", "it has a repeated part outside its groups", id="plus"),
        pytest.param(r"/q(?P<n>\d)+", "it has a repeated part outside its groups", id="group+"),
        pytest.param(r"/s/.*", None, id="dot-star-left-out"),
        pytest.param(r"/s/.+", "it has a repeated part outside its groups", id="dot-plus"),
        pytest.param(r"/[ab]/x", "it has a character class outside its groups", id="class"),
        pytest.param(r"/n/\d/x", "it has a character class outside its groups", id="escape-class"),
        pytest.param(r"/a^b", "it has an anchor inside it", id="anchor-inside"),
        pytest.param(
            r"/robots.txt",
            'it has a "." outside its groups, which matches any character (\\. is a dot)',
            id="unescaped-dot",
        ),
        pytest.param(r"/robots\.txt", None, id="escaped-dot"),
        pytest.param(r"/v1/(?P<a>[^/]+)-(?P<b>\w+)\.json$", None, id="plain-with-escapes"),
        pytest.param(r"/(?i:a)", "it has a group url_for cannot write", id="flags"),
    ],
)
def test_reverse_problem(url: str, problem: str | None) -> None:
    assert reverse_problem(url) == problem
