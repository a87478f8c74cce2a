"""Migration 0007: DRF's plaintext tokens become hashed ApiTokens, and DRF's table goes
(DESIGN.md, "REST API": tokens that existed before hashing keep working; no plaintext token
table remains). Run for real, backwards then forwards, on SQLite or PostgreSQL."""

import binascii
import os
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from integration_hub.models import ApiToken, User

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_HASHING = [("integration_hub", "0006_oauth_token_origin")]
PLAINTEXT_TABLE = "authtoken_token"


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def _migrate_to_the_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _drf_token_table_with(user: User, key: str, created: datetime) -> None:
    """The table DRF's authtoken 0001 made, and one of its rows, and its migration recorded."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {quote(PLAINTEXT_TABLE)} ("
            f"{quote('key')} varchar(40) NOT NULL PRIMARY KEY, "
            f"{quote('created')} {connection.data_types['DateTimeField']} NOT NULL, "
            f"{quote('user_id')} bigint NOT NULL UNIQUE REFERENCES "
            f"{quote(User._meta.db_table)} ({quote('id')}) DEFERRABLE INITIALLY DEFERRED)"
        )
        cursor.execute(
            f"INSERT INTO {quote(PLAINTEXT_TABLE)} ({quote('key')}, created, user_id) "  # noqa: S608
            "VALUES (%s, %s, %s)",
            [key, connection.ops.adapt_datetimefield_value(created), user.pk],
        )
    MigrationRecorder(connection).record_applied("authtoken", "0001_initial")


def _token_table_cells() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(ApiToken._meta.db_table)}")  # noqa: S608
        return [str(cell) for row in cursor.fetchall() for cell in row]


def test_an_old_drf_key_still_authenticates_after_migrating_and_no_plaintext_remains(
    api_client, owner
):
    old_key = binascii.hexlify(os.urandom(20)).decode()  # as DRF's Token.generate_key
    created = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    _migrate(BEFORE_HASHING)
    _drf_token_table_with(owner, old_key, created)

    _migrate_to_the_latest()

    assert PLAINTEXT_TABLE not in connection.introspection.table_names()
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.expiry) == (owner, "migrated", None)
    assert token.token_key == old_key[:15]
    assert token.created == created
    assert not [cell for cell in _token_table_cells() if old_key in cell]
    assert not MigrationRecorder(connection).migration_qs.filter(app="authtoken").exists()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {old_key}")
    assert api_client.get("/api/v1/notifications/").status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {old_key}")
    assert api_client.get("/api/v1/notifications/").status_code == 200


def test_a_database_that_never_had_drf_tokens_migrates_with_none(owner):
    _migrate(BEFORE_HASHING)
    assert PLAINTEXT_TABLE not in connection.introspection.table_names()

    _migrate_to_the_latest()

    assert not ApiToken.objects.exists()
    assert ApiToken._meta.db_table in connection.introspection.table_names()
