"""Property-based requests generated from the app's own OpenAPI schema, against a real server: no
operation may answer 5xx, and every answer must match the schema (status code, content type, body)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.stack import running_stack

pytestmark = pytest.mark.slow
EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_server_errors_and_responses_match_the_schema(tmp_path):
    with running_stack("embedded", tmp_path / "fuzz") as stack:
        schema = schemathesis.openapi.from_url(f"{stack.url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        failures = {}
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def exercise(case):
                case.call_and_validate(checks=CHECKS, timeout=60)

            try:
                exercise()
            except Exception as exc:  # hypothesis reports the minimal failing example
                failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
        assert len(operations) >= 18  # every operation of the API is exercised
        assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items()) + "\n" + stack.log("api")
