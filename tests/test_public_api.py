"""The public names of typedsvc are exactly those in its sorted __all__."""

from __future__ import annotations

import types

import typedsvc


def test_public_api_all_is_sorted() -> None:
    assert typedsvc.__all__ == sorted(typedsvc.__all__)


def test_public_api_all_matches_public_attributes() -> None:
    public = {
        name
        for name, value in vars(typedsvc).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(typedsvc.__all__)


def test_public_api_contract_names() -> None:
    assert {
        "Service",
        "http",
        "http_error",
        "Options",
        "HttpOptions",
        "Response",
        "ResponseDict",
        "ResponseValue",
        "DefinitionError",
        "create_app",
    } <= set(typedsvc.__all__)


def test_public_api_version() -> None:
    assert typedsvc.__version__.count(".") == 2
