"""django-q2 entry points of the core."""

import socket

from django.conf import settings
from django.utils import timezone

from integration_hub.models import ClusterHeartbeat


def cluster_heartbeat() -> str:
    """Record that a cluster is processing tasks (scheduled every minute)."""
    name = settings.Q_CLUSTER["name"]
    ClusterHeartbeat.objects.update_or_create(
        cluster_name=name, defaults={"seen_at": timezone.now(), "host": socket.gethostname()}
    )
    return name


def signin_logs_prune() -> int:
    """Delete axes' sign-in logs older than 90 days (scheduled nightly)."""
    from integration_hub.services.signin import signin_logs_prune as prune

    return prune()
