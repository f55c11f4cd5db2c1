"""The JSON Schema of the types msgspec asks a hook for.

msgspec decodes and encodes ``object`` as any JSON value (as it does ``Any``), but writes
no schema for it without a hook: ``dict[str, object]`` is a common way to say "some JSON
object", in a body and in a ``JsonResponse`` alike.
"""

from __future__ import annotations

from typing import Any

ANY_JSON: dict[str, Any] = {"description": "Any JSON value."}


def known(cls: type) -> dict[str, Any]:
    """The schema of ``object``; msgspec's own error for any other class it does not know."""
    if cls is object:
        # Not {}: msgspec takes an empty schema from a hook for none.
        return dict(ANY_JSON)
    raise NotImplementedError


def described(cls: type) -> dict[str, Any]:
    """As :func:`known`, and for any other class the schema of any JSON value, saying so.

    For the types of responses: msgspec encodes no class it does not know, so a handler
    declared to return one answers 500, but the document is still written.
    """
    if cls is object:
        return dict(ANY_JSON)
    return {"description": f"{cls.__qualname__}: a class msgspec cannot encode as JSON."}
