"""The OpenAPI document describes every route, and the app keeps to it under fuzzing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from search.indexer import IndexSummary
from web import create_app
from web.openapi import document


def openapi_path(rule: str) -> str:
    """Flask's /entities/<kind>/<path:name> -> OpenAPI's /entities/{kind}/{name}."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_every_blueprint_route_is_described(app: Flask) -> None:
    described = document()["paths"]
    routes = {
        openapi_path(rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("views.")
    }
    assert routes == set(described)
    for path, item in described.items():
        names = {p["name"] for p in item["get"]["parameters"] if p["in"] == "path"}
        assert names == set(re.findall(r"{(\w+)}", path)), path
        default = item["get"]["responses"]["default"]["content"]["application/json"]
        assert default["schema"] == {"$ref": "#/components/schemas/Error"}, path


def test_the_app_serves_its_document(client) -> None:
    served = client.get("/api/openapi.json").get_json()
    assert served["openapi"].startswith("3.1") and served == document()
    error = served["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]


@pytest.fixture(scope="module")
def fuzz_schema(sample_index: tuple[Path, IndexSummary]) -> schemathesis.BaseSchema:
    app = create_app({"INDEX_DIR": str(sample_index[0]), "TESTING": True})
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


# Examples per operation: 14 operations x 12 stays well under a minute on a shared machine.
EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_fuzz_api_keeps_to_its_schema(fuzz_schema: schemathesis.BaseSchema) -> None:
    """No 5xx, and every status, content type and JSON body as documented.

    Hypothesis drives each operation here rather than through schemathesis' pytest
    plugin, whose fixture loader does not run under this pytest."""
    failures = []
    calls: list[str] = []
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call_and_validate(checks=CHECKS)
            calls.append(f"{case.path} {response.status_code}")

        try:
            check()
        except Exception as error:  # collect every operation's failure, not the first
            failures.append(f"{operation.verbose_name}: {error}")
    assert not failures, "\n\n".join(failures)
    assert len(calls) >= 3 * len(document()["paths"]), calls
