"""Periodic jobs, declared by each app in AppConfig.ready and written to django-q2's
Schedule table by `manage.py schedules` (also run after every migrate). Idempotent: a
schedule is found by its name and brought up to date, never duplicated."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

# django-q2 schedule types used here
MINUTES = "I"
CRON = "C"


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    schedule_type: str
    minutes: int | None = None
    cron: str | None = None


_specs: dict[str, ScheduleSpec] = {}


def schedule_declare(spec: ScheduleSpec) -> None:
    if spec.schedule_type == MINUTES and not spec.minutes:
        raise ValueError(f"{spec.name}: an interval schedule needs minutes")
    if spec.schedule_type == CRON and not spec.cron:
        raise ValueError(f"{spec.name}: a cron schedule needs a cron expression")
    _specs[spec.name] = spec


def schedule_specs() -> list[ScheduleSpec]:
    return sorted(_specs.values(), key=lambda s: s.name)


@transaction.atomic
def schedules_ensure() -> list[tuple[str, str]]:
    """Create or update every declared schedule; returns (name, "created"|"updated"|"unchanged")."""
    from django_q.models import Schedule

    outcome = []
    for spec in schedule_specs():
        wanted = {
            "func": spec.func,
            "schedule_type": spec.schedule_type,
            "minutes": spec.minutes,
            "cron": spec.cron,
            "repeats": -1,
        }
        existing = Schedule.objects.filter(name=spec.name).order_by("id")
        schedule = existing.first()
        if schedule is None:
            Schedule.objects.create(name=spec.name, next_run=timezone.now(), **wanted)
            outcome.append((spec.name, "created"))
            continue
        existing.exclude(pk=schedule.pk).delete()
        if any(getattr(schedule, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(schedule, field, value)
            schedule.next_run = timezone.now()
            schedule.save()
            outcome.append((spec.name, "updated"))
        else:
            outcome.append((spec.name, "unchanged"))
    return outcome
