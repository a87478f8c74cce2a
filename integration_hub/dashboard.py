"""The dashboard at `/` is made of panels that apps register in AppConfig.ready, so the core
renders them without importing any pipeline."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

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
