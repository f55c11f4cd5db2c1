"""Pure checks of url regexes against handler shapes: every message pinned."""

from __future__ import annotations

import pytest

from typedsvc._errors import quote_url
from typedsvc._urls import HandlerShape, Param, check_route, route_key, takes_request

SELF = Param("self", "positional_or_keyword")
REQUEST = Param("request", "positional_or_keyword")


def shape(*params: Param, is_async: bool = True) -> HandlerShape:
    return HandlerShape("Users.get_user", is_async, (SELF, REQUEST, *params))


@pytest.mark.parametrize(
    ("handler", "url", "expected"),
    [
        pytest.param(
            shape(Param("user_id", "positional_or_keyword")),
            r"/users/(?P<user_id>\d+)",
            [],
            id="group-matches-parameter",
        ),
        pytest.param(shape(), r"/health", [], id="no-groups"),
        pytest.param(
            shape(Param("kwargs", "var_keyword")),
            r"/a/(?P<x>[^/]+)/(?P<y>[^/]+)",
            [],
            id="kwargs-take-every-group",
        ),
        pytest.param(
            shape(Param("page", "keyword_only", has_default=True)),
            r"/list",
            [],
            id="parameter-with-default-needs-no-group",
        ),
        pytest.param(
            shape(Param("user_id", "keyword_only", conversion="int", annotation="int")),
            r"/users/(?P<user_id>\d+)",
            [],
            id="keyword-only-parameter",
        ),
        pytest.param(
            shape(),
            r"/users/(?P<user_id>\d+)",
            [
                '"Users.get_user": url group "user_id" in r"/users/(?P<user_id>\\d+)" has no '
                'matching parameter; add a parameter named "user_id" or rename the group.'
            ],
            id="group-without-parameter",
        ),
        pytest.param(
            shape(Param("user_id", "positional_or_keyword")),
            r"/users",
            [
                '"Users.get_user": parameter "user_id" is not filled by any group of '
                'r"/users"; add a group (?P<user_id>...) to the url or give "user_id" a '
                "default."
            ],
            id="parameter-without-group",
        ),
        pytest.param(
            shape(),
            r"/files/([^/]+)",
            [
                '"Users.get_user": url r"/files/([^/]+)" has an unnamed group; write '
                "(?P<name>...) or make it non-capturing with (?:...)."
            ],
            id="unnamed-group",
        ),
        pytest.param(
            shape(Param("q", "positional_or_keyword")),
            r"/search/(?P<q>[^/]+",
            [
                '"Users.get_user": url r"/search/(?P<q>[^/]+" is not a valid regular '
                "expression: missing ), unterminated subpattern at position 8."
            ],
            id="invalid-regex",
        ),
        pytest.param(
            shape(Param("user_id", "positional_only")),
            r"/users/(?P<user_id>\d+)",
            [
                '"Users.get_user": url group "user_id" in r"/users/(?P<user_id>\\d+)" matches '
                'a positional-only parameter; move "user_id" after the "/" marker so it can '
                "be passed by name."
            ],
            id="positional-only-parameter",
        ),
        pytest.param(
            shape(Param("ids", "positional_or_keyword", annotation="list[int]", conversion=None)),
            r"/users/(?P<ids>[\d,]+)",
            [
                '"Users.get_user": parameter "ids" for url r"/users/(?P<ids>[\\d,]+)" is '
                'annotated "list[int]", which a url group cannot be converted to; use str, '
                "int, float, uuid.UUID or an Enum with str values."
            ],
            id="unsupported-annotation",
        ),
        pytest.param(
            shape(
                Param(
                    "kind",
                    "positional_or_keyword",
                    annotation="Kind",
                    conversion=None,
                    resolved=False,
                )
            ),
            r"/users/(?P<kind>\w+)",
            [
                '"Users.get_user": parameter "kind" for url r"/users/(?P<kind>\\w+)" is '
                'annotated "Kind", which is not defined in its module when the class body '
                "runs; define or import it at the module's top level, before the service class."
            ],
            id="unresolved-annotation",
        ),
        pytest.param(
            shape(is_async=False),
            r"/health",
            [
                '"Users.get_user": the handler for r"/health" is not a coroutine function; '
                'declare it as "async def get_user(self, request, ...)".'
            ],
            id="not-async",
        ),
        pytest.param(
            HandlerShape("Users.get_user", True, (SELF,)),
            r"/health",
            [
                '"Users.get_user": the handler for r"/health" does not take the request as '
                'its second parameter; declare it as "async def get_user(self, request, ...)".'
            ],
            id="no-request-parameter",
        ),
        pytest.param(
            HandlerShape("Users.get_user", True, (SELF, Param("request", "keyword_only"))),
            r"/health",
            [
                '"Users.get_user": the handler for r"/health" does not take the request as '
                'its second parameter; declare it as "async def get_user(self, request, ...)".'
            ],
            id="keyword-only-request",
        ),
        pytest.param(
            shape(Param("b", "positional_or_keyword")),
            r"/(a)/(?P<x>y)",
            [
                '"Users.get_user": url r"/(a)/(?P<x>y)" has an unnamed group; write '
                "(?P<name>...) or make it non-capturing with (?:...).",
                '"Users.get_user": url group "x" in r"/(a)/(?P<x>y)" has no matching '
                'parameter; add a parameter named "x" or rename the group.',
                '"Users.get_user": parameter "b" is not filled by any group of '
                'r"/(a)/(?P<x>y)"; add a group (?P<b>...) to the url or give "b" a default.',
            ],
            id="several-problems-in-order",
        ),
        pytest.param(
            shape(Param("itemid", "positional_or_keyword")),
            r"/items/(?P<item_id>\d+)",
            [
                '"Users.get_user": url group "item_id" in r"/items/(?P<item_id>\\d+)" has no '
                'matching parameter; did you mean the parameter "itemid"? Give the group and '
                "the parameter one name."
            ],
            id="close-names-did-you-mean",
        ),
        pytest.param(
            shape(Param("item_ids", "positional_or_keyword"), Param("itemid", "keyword_only")),
            r"/items/(?P<item_id>\d+)/(?P<size>\w+)",
            [
                '"Users.get_user": url group "item_id" in r"/items/(?P<item_id>\\d+)/(?P<size>'
                '\\w+)" has no matching parameter; did you mean the parameter "item_ids"? Give '
                "the group and the parameter one name.",
                '"Users.get_user": url group "size" in r"/items/(?P<item_id>\\d+)/(?P<size>\\w+)"'
                ' has no matching parameter; add a parameter named "size" or rename the group.',
                '"Users.get_user": parameter "itemid" is not filled by any group of '
                'r"/items/(?P<item_id>\\d+)/(?P<size>\\w+)"; add a group (?P<itemid>...) to the '
                'url or give "itemid" a default.',
            ],
            id="did-you-mean-takes-the-closest-once",
        ),
        pytest.param(
            shape(Param("user", "positional_or_keyword")),
            r"/items/(?P<item_id>\d+)",
            [
                '"Users.get_user": url group "item_id" in r"/items/(?P<item_id>\\d+)" has no '
                'matching parameter; add a parameter named "item_id" or rename the group.',
                '"Users.get_user": parameter "user" is not filled by any group of '
                'r"/items/(?P<item_id>\\d+)"; add a group (?P<user>...) to the url or give '
                '"user" a default.',
            ],
            id="names-far-apart-are-two-problems",
        ),
    ],
)
def test_check_route_reports(handler: HandlerShape, url: str, expected: list[str]) -> None:
    assert check_route(handler, url) == expected


def test_check_route_var_positional_takes_the_request() -> None:
    handler = HandlerShape("Users.any", True, (SELF, Param("args", "var_positional")))
    assert check_route(handler, r"/health") == []


@pytest.mark.parametrize(
    ("url", "key"),
    [
        (r"/health", "/health"),
        (r"^/health", "/health"),
        (r"/health$", "/health"),
        (r"^/health$", "/health"),
        (r"/price\$", r"/price\$"),
        (r"/price\\$", r"/price\\"),
    ],
)
def test_route_key_ignores_anchors(url: str, key: str) -> None:
    assert route_key(url) == key


@pytest.mark.parametrize(
    ("url", "quoted"),
    [
        (r"/a", 'r"/a"'),
        ('/a"b', "r'/a\"b'"),
        ("/a\"b'c", repr("/a\"b'c")),
    ],
)
def test_quote_url_writes_a_raw_string(url: str, quoted: str) -> None:
    assert quote_url(url) == quoted


def test_takes_request_needs_two_positional_parameters() -> None:
    assert takes_request((SELF, REQUEST))
    assert not takes_request((SELF,))
    assert not takes_request((SELF, Param("request", "keyword_only")))
    assert takes_request((Param("args", "var_positional"),))


def test_a_fit_is_remembered_for_its_groups_only() -> None:
    # Parameters that fit one url are remembered as fitting urls with the same groups;
    # another url's groups are still checked, and reported with that handler and url.
    handler = shape(Param("item_id", "positional_or_keyword"))
    other = HandlerShape("Orders.get", True, handler.params)
    url = r"/b/(?P<order_id>\d+)"
    for _ in range(2):
        assert check_route(handler, r"/a/(?P<item_id>\d+)") == []
        assert check_route(other, r"/b/(?P<item_id>\d+)") == []
        assert check_route(other, url) == [
            '"Orders.get": url group "order_id" in r"/b/(?P<order_id>\\d+)" has no matching '
            'parameter; add a parameter named "order_id" or rename the group.',
            '"Orders.get": parameter "item_id" is not filled by any group of '
            'r"/b/(?P<order_id>\\d+)"; add a group (?P<item_id>...) to the url or give '
            '"item_id" a default.',
        ]
