"""The dashboard's parts from inbound sync: the connections panel and the sync outcomes."""

from integration_hub import roles


def connections_panel_visible(user) -> bool:
    # Connections are a user's own: Owners, and anyone who has made one.
    return roles.user_has_role(user, roles.OWNER) or user.connections.exists()


def connections_panel_context(request) -> dict:
    from .models import SyncJob
    from .selectors import connections_with_last_sync, notification_list, queue_position

    # The queue position first: events after it are polled (see the connection page).
    queue_id, last_event_id = queue_position(user=request.user)
    connections = connections_with_last_sync(user=request.user)
    for connection in connections:
        job = connection.last_job
        connection.is_syncing = bool(job and job.status in SyncJob.ACTIVE)
    return {
        "connections": connections,
        "queue_id": queue_id,
        "last_event_id": last_event_id,
        "notifications": list(notification_list(user=request.user, unread_only=True)[:5]),
    }


def sync_outcomes(user, since) -> dict:
    from integration_hub.dashboard import outcome_counts

    from .models import SyncJob

    jobs = SyncJob.objects.filter(connection__user=user, finished_at__gte=since)
    return outcome_counts(jobs, succeeded=SyncJob.Status.SUCCESS, failed=SyncJob.Status.ERROR)
