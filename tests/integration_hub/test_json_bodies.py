"""A JSON body that cannot be parsed, or that is nested more than 64 levels deep, is a 400 on
every parser (DESIGN.md, "REST API"), never a 500."""

import pytest

pytestmark = pytest.mark.django_db

# One operation on each parser: camelCase JSON under /api/v1/, plain JSON under /v2.1/.
PATHS = ["/api/v1/customers/", "/v2.1/connections"]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("depth", [65, 50_000])
def test_json_nested_deeper_than_64_levels_is_a_400(api_as, system_admin, path, depth):
    body = '{"customerId": "C1", "firstName": ' + _nested(depth) + "}"

    response = api_as(system_admin).post(path, body, content_type="application/json")

    assert response.status_code == 400
    assert "nested more than 64 levels" in response.json()["detail"]


@pytest.mark.parametrize("path", PATHS)
def test_json_that_cannot_be_parsed_is_a_400(api_as, system_admin, path):
    response = api_as(system_admin).post(path, '{"customerId": ', content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_json_nested_64_levels_is_parsed_and_judged_by_its_fields(api_as, system_admin):
    body = '{"customerId": "C1", "firstName": ' + _nested(63) + "}"

    response = api_as(system_admin).post(
        "/api/v1/customers/", body, content_type="application/json"
    )

    # Parsed: the refusal names the field, not the body.
    assert response.status_code == 400
    assert "firstName" in response.json()
