"""API tokens (DESIGN.md, "REST API"): stored hashed, named, several per user, never expiring
unless made to, last use kept to the minute; `Token KEY` or `Bearer KEY`; anything else 401."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integration_hub.models import ApiToken, AuditEntry
from integration_hub.services.api_tokens import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


def _get(api_client, header: str):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    return api_client.get(URL)


@pytest.fixture
def clock(monkeypatch):
    """clock.set(datetime) → what timezone.now() answers from then on."""

    class Clock:
        def set(self, moment: datetime) -> None:
            monkeypatch.setattr(timezone, "now", lambda: moment)

    return Clock()


def test_a_tokens_value_is_in_no_column_of_the_token_table_nor_in_the_audit_trail(owner):
    created = api_token_create(user=owner, name="History poller", acting_user=owner)
    table = ApiToken._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
        cells = [str(cell) for row in cursor.fetchall() for cell in row]
    assert cells
    assert not [cell for cell in cells if created.value in cell]
    assert created.token.token_key == created.value[:15]
    audit = AuditEntry.objects.get(action="api_token.created")
    assert created.value not in str(audit.details)
    assert audit.details["prefix"] == created.token.token_key
    assert created.token.digest not in str(audit.details)


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "token", "BEARER"])
def test_a_token_authenticates_with_either_keyword(api_client, owner, keyword):
    value = api_token_create(user=owner, name="app").value
    assert _get(api_client, f"{keyword} {value}").status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Token " + "0" * 64,  # the shape of a token, but no such token
        "Token not-a-real-token",
        "Bearer ",
        "Token",
        "Token two parts",
        "Token " + "a" * 100_000,
        "Token ünïcødé-tøken",
        "Bearer 💥💥💥",
        "Token abc\x00def",
        "Token ../../etc/passwd",
        "Token 'or'1'='1",
    ],
)
def test_an_unknown_or_malformed_token_gets_401_never_an_error(api_client, owner, header):
    api_token_create(user=owner, name="app")
    response = _get(api_client, header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_with_the_right_prefix_but_the_wrong_rest_gets_401(api_client, owner):
    value = api_token_create(user=owner, name="app").value
    forged = value[:15] + ("0" if value[15] != "0" else "1") + value[16:]
    assert _get(api_client, f"Token {forged}").status_code == 401


def test_a_revoked_token_gets_401(api_client, owner):
    created = api_token_create(user=owner, name="app")
    assert _get(api_client, f"Token {created.value}").status_code == 200
    api_token_revoke(token=created.token, acting_user=owner)
    assert _get(api_client, f"Token {created.value}").status_code == 401
    revoked = AuditEntry.objects.get(action="api_token.revoked")
    assert revoked.details == {"name": "app", "prefix": created.token.token_key}


def test_a_user_holds_several_tokens_and_revoking_one_leaves_the_others(api_client, owner):
    first = api_token_create(user=owner, name="poller")
    second = api_token_create(user=owner, name="reporting")
    api_token_revoke(token=first.token)
    assert _get(api_client, f"Token {first.value}").status_code == 401
    assert _get(api_client, f"Bearer {second.value}").status_code == 200


def test_a_deactivated_users_token_gets_401(api_client, owner):
    value = api_token_create(user=owner, name="app").value
    owner.is_active = False
    owner.save()
    assert _get(api_client, f"Token {value}").status_code == 401


def test_tokens_never_expire_unless_created_with_an_expiry(api_client, owner, clock):
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    clock.set(start)
    forever = api_token_create(user=owner, name="forever")
    week = api_token_create(user=owner, name="a week", expires_in_days=7)
    assert forever.token.expiry is None
    assert week.token.expiry == start + timedelta(days=7)

    clock.set(start + timedelta(days=6, hours=23))
    assert _get(api_client, f"Token {week.value}").status_code == 200
    clock.set(start + timedelta(days=7, minutes=1))
    expired = _get(api_client, f"Token {week.value}")
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"].lower()
    # Still listed (as expired) until its owner revokes it.
    assert ApiToken.objects.filter(pk=week.token.pk).exists()

    clock.set(start + timedelta(days=3650))
    assert _get(api_client, f"Token {forever.value}").status_code == 200


def test_last_use_is_kept_to_the_minute_and_written_once_a_minute(api_client, owner, clock):
    created = api_token_create(user=owner, name="busy client")
    header = f"Token {created.value}"
    assert ApiToken.objects.get().last_used is None

    clock.set(datetime(2026, 3, 1, 10, 15, 42, 123456, tzinfo=UTC))
    assert _get(api_client, header).status_code == 200
    assert ApiToken.objects.get().last_used == datetime(2026, 3, 1, 10, 15, tzinfo=UTC)

    clock.set(datetime(2026, 3, 1, 10, 15, 59, tzinfo=UTC))
    with CaptureQueriesContext(connection) as queries:
        assert _get(api_client, header).status_code == 200
    table = ApiToken._meta.db_table
    assert not [q for q in queries if q["sql"].startswith("UPDATE") and table in q["sql"]]

    clock.set(datetime(2026, 3, 1, 10, 16, 1, tzinfo=UTC))
    assert _get(api_client, header).status_code == 200
    assert ApiToken.objects.get().last_used == datetime(2026, 3, 1, 10, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "app", "expires_in_days": 0}, "expires"),
        ({"name": "app", "expires_in_days": 3651}, "expires"),
    ],
)
def test_a_token_needs_a_name_and_a_sensible_expiry(owner, fields, named):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        api_token_create(user=owner, **fields)
    assert named in raised.value.message_dict
    assert not ApiToken.objects.exists()


def test_the_schema_offers_token_and_bearer_as_alternatives(client):
    schema = client.get("/api/schema/?format=json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["tokenAuth"]["description"],
    }
    assert schemes["bearerAuth"]["type"] == "http"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    security = schema["paths"]["/api/v1/notifications/"]["get"]["security"]
    assert {"tokenAuth": []} in security
    assert {"bearerAuth": []} in security
