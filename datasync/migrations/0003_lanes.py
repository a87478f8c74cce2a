"""Lanes (DESIGN.md, "Data Sync"): every queued record gets its lane, the 64 lane leases
replace the one run lease, and a run records where it runs and its heartbeat.

Existing records keep their capture numbers (hence order and uniqueIds); their lanes follow
from their customers exactly as capture computes them (`lane_of` below must stay equal to
datasync.services.queues.lane_for, which a test checks)."""

import zlib

import django.db.models.deletion
from django.db import migrations, models

LANES = 64
CHUNK = 2000


def lane_of(subscriber_id: int, customer_key: str, unique_id: str) -> int:
    key = f"{subscriber_id}/{customer_key}" if customer_key else f"{subscriber_id}//{unique_id}"
    return zlib.crc32(key.encode()) % LANES


def lanes_assign(apps, schema_editor):
    for name in ("CustomerPendingRecord", "TransactionPendingRecord", "ProgressRecord"):
        model = apps.get_model("datasync", name)
        last = 0
        while True:
            rows = list(
                model.objects.filter(pk__gt=last)
                .order_by("pk")
                .only("pk", "subscriber_id", "customer_key", "unique_id")[:CHUNK]
            )
            if not rows:
                break
            for row in rows:
                row.lane = lane_of(row.subscriber_id, row.customer_key, row.unique_id)
            model.objects.bulk_update(rows, ["lane"])
            last = rows[-1].pk
    # A run's last heartbeat is at least its start (the page ages RUNNING runs by it).
    SyncRun = apps.get_model("datasync", "SyncRun")
    SyncRun.objects.filter(heartbeat_at__isnull=True).update(heartbeat_at=models.F("started_at"))
    LaneLease = apps.get_model("datasync", "LaneLease")
    LaneLease.objects.bulk_create([LaneLease(lane=lane) for lane in range(LANES)])


class Migration(migrations.Migration):

    dependencies = [
        ('datasync', '0002_capture_sequence'),
    ]

    operations = [
        migrations.CreateModel(
            name='LaneLease',
            fields=[
                ('lane', models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ('holder', models.CharField(blank=True, max_length=64)),
                ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                ('expires_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['lane'],
            },
        ),
        migrations.RemoveField(
            model_name='runlease',
            name='run',
        ),
        migrations.AddField(
            model_name='customerpendingrecord',
            name='lane',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='progressrecord',
            name='lane',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='syncrun',
            name='concurrency',
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='syncrun',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='syncrun',
            name='worker',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='transactionpendingrecord',
            name='lane',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name='progressrecord',
            index=models.Index(condition=models.Q(('is_dead_letter', False)), fields=['lane', 'id'], name='ds_progress_lane'),
        ),
        migrations.AddField(
            model_name='lanelease',
            name='run',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='datasync.syncrun'),
        ),
        migrations.DeleteModel(
            name='RunLease',
        ),
        migrations.RunPython(lanes_assign, migrations.RunPython.noop),
    ]
