"""Capture numbers from the database (DESIGN.md, "Data Sync"): the capture sequence (a
PostgreSQL sequence, or the CaptureCounter row on SQLite) and today's queued records numbered
in their order.

Records already in the progress queue keep their id as their capture number, so a message
sent before this migration keeps its uniqueId on a retry. Pending records are numbered after
every progress id ever given (receivers deduplicate on uniqueId, so no number may repeat
one already sent), in their old order (their clock-based capture_order, then customer queue
before transaction queue, then id). The sequence continues after the last number."""

from django.db import migrations, models
from django.db.models import F

SEQUENCE = "datasync_capture_seq"
PROGRESS_TABLE = "datasync_progress_queue"


def _progress_ids_given(connection, ProgressRecord) -> int:
    last = ProgressRecord.objects.aggregate(n=models.Max("id"))["n"] or 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [PROGRESS_TABLE])
            sequence = cursor.fetchone()[0]
            if sequence:
                cursor.execute(f"SELECT last_value FROM {sequence}")
                last = max(last, cursor.fetchone()[0] or 0)
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
            )
            if cursor.fetchone():
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [PROGRESS_TABLE])
                row = cursor.fetchone()
                last = max(last, row[0] if row else 0)
    return last


def number_queued_records(apps, schema_editor):
    connection = schema_editor.connection
    ProgressRecord = apps.get_model("datasync", "ProgressRecord")
    pending_models = (
        apps.get_model("datasync", "CustomerPendingRecord"),
        apps.get_model("datasync", "TransactionPendingRecord"),
    )
    last = _progress_ids_given(connection, ProgressRecord)
    ProgressRecord.objects.update(capture_order=F("id"))
    queued = sorted(
        (capture_order, flag, pk)
        for flag, model in enumerate(pending_models)
        for capture_order, pk in model.objects.values_list("capture_order", "id")
    )
    renumbered = ([], [])
    for number, (_old, flag, pk) in enumerate(queued, start=last + 1):
        renumbered[flag].append(pending_models[flag](id=pk, capture_order=number))
    for model, rows in zip(pending_models, renumbered):
        model.objects.bulk_update(rows, ["capture_order"], batch_size=1000)
    last += len(queued)
    apps.get_model("datasync", "CaptureCounter").objects.create(id=1, value=last)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SEQUENCE {SEQUENCE} AS bigint START WITH {last + 1}")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("datasync", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="CaptureCounter",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(number_queued_records, drop_sequence),
    ]
