"""The core's scrape-time gauge: when each task cluster last reported (its heartbeat)."""

from prometheus_client.metrics_core import GaugeMetricFamily


def clusters_last_seen_collect() -> list[GaugeMetricFamily]:
    from integration_hub.selectors import clusters_last_seen

    family = GaugeMetricFamily(
        "hub_cluster_last_seen_timestamp_seconds",
        "When each django-q2 cluster last recorded its heartbeat (Unix seconds); "
        "time() minus this is how long it has been silent.",
        labels=["cluster"],
    )
    for name, seen_at in clusters_last_seen().items():
        family.add_metric([name], seen_at.timestamp())
    return [family]
