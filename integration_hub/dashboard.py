"""The dashboard at `/` is made of panels that apps register in AppConfig.ready, so the core
renders them without importing any pipeline."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.http import HttpRequest
from django.utils import timezone


def _always(user) -> bool:
    return True


def _no_context(request: HttpRequest) -> dict:
    return {}


@dataclass(frozen=True)
class Panel:
    name: str
    title: str
    template: str
    context: Callable[[HttpRequest], dict] = field(default=_no_context)
    visible: Callable[[object], bool] = field(default=_always)
    order: int = 100


_panels: dict[str, Panel] = {}


def panel_register(panel: Panel) -> None:
    _panels[panel.name] = panel


def panels_for(request: HttpRequest) -> list[dict]:
    """The panels this user may see, in order, each with its rendered context."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.name)):
        if panel.visible(request.user):
            shown.append({"panel": panel, "context": panel.context(request)})
    return shown


@dataclass(frozen=True)
class NavLink:
    """A link in the header of every page, registered by the app that serves the page."""

    title: str
    url_name: str
    visible: Callable[[object], bool] = field(default=_always)
    order: int = 100


_nav_links: dict[str, NavLink] = {}


def nav_link_register(link: NavLink) -> None:
    _nav_links[link.url_name] = link


def navigation(request: HttpRequest) -> dict:
    """Context processor: the header links this user may follow."""
    from django.urls import reverse

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = sorted(_nav_links.values(), key=lambda link: (link.order, link.title))
    return {
        "nav_links": [
            {"title": link.title, "url": reverse(link.url_name)}
            for link in links
            if link.visible(user)
        ]
    }


# Sync outcomes per day (the dashboard's chart): each pipeline registers a source that counts
# the runs a user may see, so the core draws the chart without importing any pipeline.
OUTCOME_DAYS = 30


@dataclass(frozen=True)
class OutcomeSource:
    name: str
    # (user, since) → {date: (succeeded, failed)} for the runs that ended since then
    counts: Callable[[object, object], dict]
    visible: Callable[[object], bool] = field(default=_always)


_outcome_sources: dict[str, OutcomeSource] = {}


def outcome_source_register(source: OutcomeSource) -> None:
    _outcome_sources[source.name] = source


def outcome_counts(runs, *, succeeded: str, failed: str, ended_field: str = "finished_at") -> dict:
    """{local date: (succeeded, failed)} of a queryset of runs, in one query; for sources."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    rows = (
        runs.filter(status__in=[succeeded, failed])
        .annotate(day=TruncDate(ended_field, tzinfo=timezone.get_current_timezone()))
        .values_list("day", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict = {}
    for day, status, n in rows:
        ok, bad = counts.get(day, (0, 0))
        counts[day] = (ok + n, bad) if status == succeeded else (ok, bad + n)
    return counts


def outcome_days(user, *, days: int = OUTCOME_DAYS, today=None):
    """The last `days` days (oldest first), each with the user's succeeded and failed runs
    of every pipeline: one query per source."""
    from integration_hub.charts import DayOutcome

    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    totals: dict = {}
    for source in _outcome_sources.values():
        if not source.visible(user):
            continue
        for day, (succeeded, failed) in source.counts(user, since).items():
            ok, bad = totals.get(day, (0, 0))
            totals[day] = (ok + succeeded, bad + failed)
    return [
        DayOutcome(day, *totals.get(day, (0, 0)))
        for day in (first + timedelta(days=n) for n in range(days))
    ]


def outcomes_panel_context(request: HttpRequest) -> dict:
    from integration_hub.charts import outcomes_svg

    days = outcome_days(request.user)
    return {
        "days": days,
        "chart": outcomes_svg(days, title=f"Sync outcomes per day, last {len(days)} days"),
        "succeeded": sum(d.succeeded for d in days),
        "failed": sum(d.failed for d in days),
    }


# A cluster that has not run the heartbeat for this long is reported as not running.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


def system_panel_context(request: HttpRequest) -> dict:
    from django_q.brokers import get_broker
    from django_q.models import Failure

    from integration_hub.models import ClusterHeartbeat

    heartbeats = list(ClusterHeartbeat.objects.order_by("-seen_at")[:5])
    cutoff = timezone.now() - HEARTBEAT_STALE_AFTER
    return {
        "heartbeats": [{"beat": hb, "is_alive": hb.seen_at >= cutoff} for hb in heartbeats],
        "any_alive": any(hb.seen_at >= cutoff for hb in heartbeats),
        "queued": get_broker().queue_size(),
        "recent_failures": list(Failure.objects.order_by("-stopped")[:5]),
    }
