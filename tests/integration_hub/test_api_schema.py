"""The OpenAPI schema is the API's contract: schemathesis fuzzes every operation under it as a
System Admin, and each answer must be one the schema documents (DESIGN.md, "Testing")."""

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from integration_hub.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
EXAMPLES_PER_OPERATION = 20

schema = schemathesis.openapi.from_wsgi(
    "/api/schema/",
    application,
    config=schemathesis.Config.from_dict(
        {
            "seed": 20261122,
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",
            },
            # Each operation on its own; links between operations are for a later issue.
            "phases": {"stateful": {"enabled": False}},
        }
    ),
).exclude(path_regex=r"^/sandbox/")


@pytest.fixture
def _requests_share_the_test_transaction():
    """The WSGI app closes "old" connections around each request; inside a test that would
    drop the test's transaction, so do what Django's own test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def system_admin_token(system_admin) -> str:
    return Token.objects.create(user=system_admin).key


@pytest.mark.django_db
@pytest.mark.usefixtures("_requests_share_the_test_transaction")
@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.filter_too_much,
        hypothesis.HealthCheck.function_scoped_fixture,
    ],
)
def test_every_operation_answers_as_its_schema_documents(case, system_admin_token):
    case.call_and_validate(headers={"Authorization": f"Token {system_admin_token}"}, checks=CHECKS)


def test_the_schema_and_the_docs_are_public(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_the_docs_answer_without_a_trailing_slash_and_without_a_redirect(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content


# The operations an Owner uses, fuzzed as an Owner with data of their own: path ids that come
# out as whole numbers are pointed at the Owner's subscriber and connection, so that the 2xx,
# 400 and 409 answers are reached too, not only 403 and 404.
owner_schema = schema.include(
    path_regex=r"^/Subscriber_|^/v2\.1/|^/api/v1/(connections|notifications|sync-account)"
)


@pytest.fixture
def owner_world(owner):
    from syncing.models import Channel, Connection, VerifiedIdentity
    from tests.factories import AccountingIntegrationFactory, OrganisationKitIntegrationFactory

    accounting = AccountingIntegrationFactory()
    accounting.maps.create(kind="PAYMENT_METHOD", source="VISA", target="1200")
    identity = VerifiedIdentity.objects.create(
        user=owner,
        kind="PERSONAL_NUMBER",
        value="198001011234",
        method="ADMIN",
        verified_at=accounting.created_at,
    )
    connection = Connection.objects.create(
        user=owner, integration=OrganisationKitIntegrationFactory(), identity=identity
    )
    Channel.objects.create(connection=connection, definition="accounts")
    ids = {"subscriber_id": accounting.subscriber_id, "connection_id": connection.pk}
    return Token.objects.create(user=owner).key, ids


def _is_whole_number(value) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.isdecimal())


@pytest.mark.django_db
@pytest.mark.usefixtures("_requests_share_the_test_transaction")
@owner_schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.filter_too_much,
        hypothesis.HealthCheck.function_scoped_fixture,
    ],
)
def test_the_owners_operations_answer_as_their_schema_documents(case, owner_world, tasks):
    token, ids = owner_world
    for name, value in ids.items():
        if case.path_parameters and _is_whole_number(case.path_parameters.get(name)):
            case.path_parameters[name] = value
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
