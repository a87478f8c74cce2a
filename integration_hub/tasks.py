"""django-q2 entry points of the core."""

from integration_hub.services.clusters import cluster_heartbeat_record, this_cluster


def cluster_heartbeat() -> str:
    """Record that a cluster is processing tasks (scheduled every minute)."""
    cluster_name, host = this_cluster()
    cluster_heartbeat_record(cluster_name=cluster_name, host=host)
    return cluster_name


def signin_logs_prune() -> int:
    """Delete axes' sign-in logs older than 90 days (scheduled nightly)."""
    from integration_hub.services.signin import signin_logs_prune as prune

    return prune()
