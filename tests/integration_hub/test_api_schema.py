"""The OpenAPI schema is the API's contract: schemathesis fuzzes every operation under it as a
System Admin, and each answer must be one the schema documents (DESIGN.md, "Testing").

Every check schemathesis has runs: `call_and_validate()` gets no `checks=`, so it runs each check
the config enables, and the config enables them all. Stateless, as here, `use_after_free`,
`ensure_resource_availability` and `object_level_authorization` find nothing to compare (they
need the stateful phase's recorded links); `max_response_time` needs a limit DESIGN.md does not
set. The examples, coverage and fuzzing phases run for every operation, with positive and
negative data."""

import re

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from integration_hub.services.api_tokens import api_token_create
from integration_hub.wsgi import application

EXAMPLES_PER_OPERATION = 20

# What valid data may get: DESIGN.md, "REST API" — 409 for a conflict (a resource that already
# exists, a run already running), 404 for an id that names nothing; 401/403/429 are not about
# the data; a 5xx is `not_a_server_error`'s to report, not this check's.
POSITIVE_DATA_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]

# Operations with a rule across fields or rows that a JSON schema cannot express, answered with
# 400 and stated in the operation's description: valid data may get that 400 too.
CROSS_FIELD_RULES = [
    "orders_create",  # payments must add up to the order's gross total
    "orders_partial_update",  # the same, for the items or payments given
    "credentials_save",  # a client id is saved with its client secret, or not at all
    "accounting_integrations_create",  # each map's source once per kind
    "accounting_integrations_partial_update",  # the same
    "integrations_create",  # credentialKey / tokenUrl by authType; the network policy
    "integrations_partial_update",  # the same
    "v21_connections_create",  # personalNumber or email, not both; an Organisation Kit
    "connection_user_update",  # phoneNumber, emailAddress or both
    "connection_account_invoices",  # fromDate not after toDate; the longest period
    "connection_service_cost",  # the same
    "connection_service_measurements",  # the same
]

# Operations that call the partner answer a documented 502 when it fails: here there is no
# partner behind them, so 502 is what they answer once a request gets that far.
PARTNER_OPERATIONS = [
    "identities_bankid_start",
    "identities_bankid_collect",
    "connection_account_guest_add",
    "connection_account_invoices",
    "connection_account_invoice_pdf",
    "connection_service_cost",
    "connection_service_measurements",
    "connection_user_update",
]


def _operations() -> list[dict]:
    """One config entry per combination (an operation in two entries would take only one)."""
    entries = []
    for takes_400 in (True, False):
        for calls_partner in (True, False):
            ids = [
                operation_id
                for operation_id in {*CROSS_FIELD_RULES, *PARTNER_OPERATIONS}
                if (operation_id in CROSS_FIELD_RULES) == takes_400
                and (operation_id in PARTNER_OPERATIONS) == calls_partner
            ]
            checks = {}
            if takes_400:
                statuses = [*POSITIVE_DATA_STATUSES, "400"]
                checks["positive_data_acceptance"] = {"expected-statuses": statuses}
            if calls_partner:
                checks["not_a_server_error"] = {"expected-statuses": ["2xx", "3xx", "4xx", "502"]}
            if ids and checks:
                entries.append({"include-operation-id": sorted(ids), "checks": checks})
    return entries


OPERATIONS = _operations()

schema = schemathesis.openapi.from_wsgi(
    "/api/schema/",
    application,
    config=schemathesis.Config.from_dict(
        {
            "seed": 20261122,
            "generation": {
                "mode": "all",
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                # Each operation on its own; links between operations are for a later issue.
                "stateful": {"enabled": False},
            },
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {"expected-statuses": POSITIVE_DATA_STATUSES},
            },
            "operations": OPERATIONS,
        }
    ),
).exclude(path_regex=r"^/sandbox/")


@pytest.fixture(autouse=True)
def _throttle_raised_for_this_run(monkeypatch):
    """Thousands of requests a minute from one token: the throttle stays in place, raised for
    this run only (the rest of the suite keeps the production rates). DRF reads the rates into
    `SimpleRateThrottle.THROTTLE_RATES` once, at import, so overriding settings would not reach
    them. The counts live in the default cache: each operation starts from none and leaves none.
    A 429 is documented on every operation, so a throttled run would pass while testing nothing:
    the tests below fail on one."""
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    rates = dict.fromkeys(SimpleRateThrottle.THROTTLE_RATES, "1000000/minute")
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    yield
    cache.clear()


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
    return api_token_create(user=system_admin, name="schemathesis").value


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
    response = case.call_and_validate(headers={"Authorization": f"Token {system_admin_token}"})
    assert response.status_code != 429, "throttled: the schema documents it, but it tests nothing"


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
OWNER_PATHS = re.compile(
    r"^/Subscriber_|^/v2\.1/|^/api/v1/(connections|notifications|sync-account)"
)
# Not `schema.include(path_regex=...)`: when its config has an `operations` section, schemathesis
# (4.32) ORs an `include()` with a filter that selects every operation, so it would select them
# all. An exclusion still applies.
owner_schema = schema.exclude(lambda ctx: not OWNER_PATHS.match(ctx.operation.path))


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
        verified_at=accounting.created_at,
    )
    identity.verifications.create(method="ADMIN", verified_at=accounting.created_at)
    connection = Connection.objects.create(
        user=owner, integration=OrganisationKitIntegrationFactory(), identity=identity
    )
    Channel.objects.create(connection=connection, definition="accounts")
    ids = {"subscriber_id": accounting.subscriber_id, "connection_id": connection.pk}
    return api_token_create(user=owner, name="schemathesis").value, ids


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
    response = case.call_and_validate(headers={"Authorization": f"Token {token}"})
    assert response.status_code != 429, "throttled: the schema documents it, but it tests nothing"
