"""Periodic jobs, declared by each app in AppConfig.ready and written to django-q2's
Schedule table by `manage.py schedules` (also run after every migrate). Idempotent: a
schedule is found by its name and brought up to date, never duplicated."""

from collections.abc import Callable
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
    # An interval read from this system setting when the schedule is written (it overrides
    # `minutes`); the app rewrites the row when the setting changes (setting_on_change).
    minutes_setting: str | None = None

    def current_minutes(self) -> int | None:
        if self.minutes_setting:
            from integration_hub.system_settings import setting_get

            return int(setting_get(self.minutes_setting))
        return self.minutes


_specs: dict[str, ScheduleSpec] = {}
# Apps whose schedules depend on data (one per row of theirs) ensure them here too.
_hooks: list[Callable[[], list[tuple[str, str]]]] = []


def schedule_declare(spec: ScheduleSpec) -> None:
    if spec.schedule_type == MINUTES and not (spec.minutes or spec.minutes_setting):
        raise ValueError(f"{spec.name}: an interval schedule needs minutes")
    if spec.schedule_type == CRON and not spec.cron:
        raise ValueError(f"{spec.name}: a cron schedule needs a cron expression")
    _specs[spec.name] = spec


def schedules_hook_register(hook: Callable[[], list[tuple[str, str]]]) -> None:
    """Run `hook` (idempotent; returns (name, outcome) pairs) whenever schedules are ensured,
    for schedules that depend on data, such as one per enabled integration."""
    if hook not in _hooks:
        _hooks.append(hook)


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
            "minutes": spec.current_minutes(),
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
    for hook in _hooks:
        outcome.extend(hook())
    return outcome
