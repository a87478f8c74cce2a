import io

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from integration_hub import schedules

pytestmark = pytest.mark.django_db


def test_schedules_are_created_once_however_often_the_command_runs():
    Schedule.objects.all().delete()
    out = io.StringIO()
    call_command("schedules", stdout=out)
    call_command("schedules", stdout=out)
    assert Schedule.objects.filter(name="Cluster heartbeat").count() == 1
    assert "Cluster heartbeat: created\n" in out.getvalue()
    assert "Cluster heartbeat: unchanged\n" in out.getvalue()
    heartbeat = Schedule.objects.get(name="Cluster heartbeat")
    assert (heartbeat.func, heartbeat.schedule_type, heartbeat.minutes, heartbeat.repeats) == (
        "integration_hub.tasks.cluster_heartbeat",
        Schedule.MINUTES,
        1,
        -1,
    )


def test_a_changed_declaration_rewrites_its_row_and_duplicates_are_removed(monkeypatch):
    Schedule.objects.create(name="Cluster heartbeat", func="old.func", schedule_type="I", minutes=9)
    monkeypatch.setitem(
        schedules._specs,
        "Cluster heartbeat",
        schedules.ScheduleSpec(
            name="Cluster heartbeat",
            func="integration_hub.tasks.cluster_heartbeat",
            schedule_type=schedules.MINUTES,
            minutes=2,
        ),
    )
    outcome = dict(schedules.schedules_ensure())
    assert outcome["Cluster heartbeat"] == "updated"
    row = Schedule.objects.get(name="Cluster heartbeat")
    assert (row.func, row.minutes) == ("integration_hub.tasks.cluster_heartbeat", 2)
