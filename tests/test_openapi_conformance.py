"""The example JSON API against its own OpenAPI document, with schemathesis.

schemathesis generates requests from the document, ones that fit it and ones that do
not, and sends them to ``typedsvc run examples/json_api.py``: no answer may be a 5xx, and
every answer must have a status, Content-Type and body that the document allows.
(schemathesis's pytest plugin does not run on pytest 9, so its strategies are used with
hypothesis directly.)
"""

# schemathesis's schema and operation objects are generics it leaves partly unknown.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from served import serving

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "json_api.py"
EXAMPLES_PER_OPERATION = 40


@pytest.fixture(scope="module")
def example_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    with serving(EXAMPLE, tmp_path_factory.mktemp("json-api")) as port:
        yield schemathesis.openapi.from_url(f"http://127.0.0.1:{port}/openapi.json")


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_example_api_conforms_to_its_openapi_document(
    example_api: schemathesis.BaseSchema, mode: schemathesis.GenerationMode
) -> None:
    operations = []
    for result in example_api.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert {operation.label for operation in operations} == {
        "GET /users",
        "POST /users",
        "GET /users/{user_id}",
        "DELETE /users/{user_id}",
    }
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
            # The same requests in every run. With a fresh seed per run, schemathesis now and
            # then sends a "negative" query that its own encoding turns valid (an object
            # {"6": {...}} for the integer page-size goes out as page-size=6) and reports the
            # 200 as invalid data accepted: a flaky test, and not typedsvc's fault.
            derandomize=True,
        )
        def conforms(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate()

        conforms()
