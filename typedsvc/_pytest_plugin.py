"""typedsvc's pytest plugin, installed with typedsvc (entry point ``pytest11``).

It gives the ``typedsvc_client`` fixture: ``client = await typedsvc_client(MyService())``
serves the service until the test ends (see ``typedsvc.testing``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from typedsvc.testing import ClientFactory

try:
    # Its fixture decorator works in its strict mode as well as in auto mode.
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - anyio's plugin runs plain async fixtures
    _async_fixture = pytest.fixture  # type: ignore[assignment]


@_async_fixture
async def typedsvc_client() -> AsyncIterator[ClientFactory]:
    """Serve services for one test: ``client = await typedsvc_client(MyService())``."""
    # Imported here: pytest loads this plugin in every run, most of which serve nothing.
    from typedsvc.testing import clients

    async with clients() as make:
        yield make
