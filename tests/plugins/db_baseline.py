"""What a transactional test leaves behind is undone by restoring the test database to what
migrate left, instead of Django's flush.

Django ends each transactional test (`django_db(transaction=True)`, `transactional_db`,
`live_server`) with `flush`: on PostgreSQL a TRUNCATE of all ~80 tables (about 0.6 s, far more
on a busy machine: every table gets new files), then post_migrate again, which recreates the
content types, the permissions, the role groups and the schedules (about 0.5 s more), and the
data migration's rows are lost (tests/conftest.py put them back).

Here the rows migrate leaves are read once per session (`DatabaseBaseline(connection)`). After
each transactional test, in one transaction: every other table that holds a row is emptied with
DELETE, and each table migrate filled is compared with what it held then and, when it differs,
emptied and refilled with exactly those rows (same primary keys). The next test starts from
the state every test starts from when run alone, in a few milliseconds.

Tests that ask for serialized rollback, for `available_apps` or for sequences reset keep Django's
own flush. The SQL below names tables Django's introspection lists, quoted (hence its
`noqa: S608`).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import TransactionTestCase


class DatabaseBaseline:
    """The rows of every table of the installed apps' models, as migrate left them."""

    def __init__(self, connection: BaseDatabaseWrapper):
        self.tables = sorted(
            connection.introspection.django_table_names(only_existing=True, include_views=False)
        )
        with connection.cursor() as cursor:
            rows = {table: _rows(connection, cursor, table) for table in self.tables}
        self.rows = {table: table_rows for table, table_rows in rows.items() if table_rows}
        self.empty_tables = [table for table in self.tables if table not in self.rows]

    def restore(self, connection: BaseDatabaseWrapper) -> None:
        """Put the database back as it was when captured: no other row in any table."""
        from django.contrib.contenttypes.models import ContentType

        quote = connection.ops.quote_name
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Django's foreign keys are deferrable: checked at commit, whatever the order.
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            if self.empty_tables:
                cursor.execute(
                    " UNION ALL ".join(
                        f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {quote(table)})"  # noqa: S608
                        for table in self.empty_tables
                    )
                )
                for (table,) in cursor.fetchall():
                    cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608
            for table, wanted in self.rows.items():
                if _rows(connection, cursor, table) != wanted:
                    cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608
                    _insert(connection, cursor, table, wanted)
        # Content types keep their ids, but a test may have cached one it created.
        ContentType.objects.clear_cache()


def _rows(connection, cursor, table: str) -> list:
    """A table's rows in a comparable, re-insertable form, in a stable order."""
    if connection.vendor == "postgresql":
        # The row as PostgreSQL writes it: exact, and cast back by `_insert`.
        cursor.execute(f"SELECT t::text FROM {connection.ops.quote_name(table)} AS t")  # noqa: S608
        return sorted(row for (row,) in cursor.fetchall())
    if connection.vendor == "sqlite":
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return sorted(cursor.fetchall(), key=repr)
    raise NotImplementedError(f"no database baseline for {connection.vendor}")


def _insert(connection, cursor, table: str, rows: list) -> None:
    quoted = connection.ops.quote_name(table)
    if connection.vendor == "postgresql":
        cursor.execute(
            f"INSERT INTO {quoted} SELECT (row::{quoted}).* FROM unnest(%s::text[]) AS row",  # noqa: S608
            [rows],
        )
        # A migration test may have recreated the table with a fresh sequence: it must not
        # hand out a restored id again.
        for sequence in connection.introspection.get_sequences(cursor, table):
            column = connection.ops.quote_name(sequence["column"])
            cursor.execute(
                f"SELECT setval(%s, (SELECT MAX({column}) FROM {quoted})) "  # noqa: S608
                f"WHERE (SELECT MAX({column}) FROM {quoted}) >= "
                f"(SELECT last_value FROM {connection.ops.quote_name(sequence['name'])})",
                [sequence["name"]],
            )
        return
    placeholders = ", ".join(["%s"] * len(rows[0]))
    cursor.executemany(f"INSERT INTO {quoted} VALUES ({placeholders})", rows)  # noqa: S608


@contextmanager
def flush_replaced_by(baselines: dict[str, DatabaseBaseline]) -> Iterator[None]:
    """While inside, transactional tests end by restoring `baselines` instead of flushing."""
    flush = TransactionTestCase._fixture_teardown

    def restore(test_case: TransactionTestCase) -> None:
        if (
            test_case.serialized_rollback
            or test_case.available_apps is not None
            or test_case.reset_sequences
        ):
            flush(test_case)
            return
        from django.db import connections

        for alias in test_case._databases_names(include_mirrors=False):
            baselines[alias].restore(connections[alias])

    with mock.patch.object(TransactionTestCase, "_fixture_teardown", restore):
        yield
