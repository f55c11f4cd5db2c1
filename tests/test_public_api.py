"""The public names of typedsvc are exactly those in its sorted __all__."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import typedsvc


def test_public_api_all_is_sorted() -> None:
    assert typedsvc.__all__ == sorted(typedsvc.__all__)


def test_public_api_all_matches_public_attributes() -> None:
    for name in typedsvc.__all__:
        getattr(typedsvc, name)
    public = {
        name
        for name, value in vars(typedsvc).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(typedsvc.__all__)
    assert set(typedsvc.__all__) <= set(dir(typedsvc))


def test_public_api_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match=r"^module 'typedsvc' has no attribute 'htp'$"):
        getattr(typedsvc, "htp")  # noqa: B009 - the attribute is missing on purpose


def test_public_api_importing_the_mypy_plugin_does_not_import_aiohttp() -> None:
    # aiohttp would add about half a second to every mypy run.
    code = "import typedsvc.mypy, sys; print('aiohttp' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout == "False\n"


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
