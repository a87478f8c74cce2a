"""What Data Sync counts and shows in /metrics (declared in declarations.py): records
delivered, runs by outcome and how long they took, and the depth of its queues, computed at
each scrape."""

from prometheus_client.metrics_core import GaugeMetricFamily

from integration_hub.metrics import Counter, Histogram

# The `integration` label of Data Sync's requests in hub_outbound_requests_total: its
# receiver is configured by settings, not an Integration.
OUTBOUND_LABEL = "Data Sync"

DELIVERED = Counter(
    "hub_datasync_delivered_total",
    "Data Sync records delivered: answered with a 2xx by the receiver.",
)
RUNS = Counter(
    "hub_datasync_runs_total",
    "Data Sync runs (slices of a long drain included) ended, by status: succeeded or failed.",
    ["status"],
    known_values={"status": ["succeeded", "failed"]},
)
RUN_SECONDS = Histogram(
    "hub_datasync_run_seconds",
    "How long each Data Sync run (or slice) took, from start to finish.",
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0),
)


def queue_records_collect() -> list[GaugeMetricFamily]:
    from .selectors import queue_depths

    depths = queue_depths()
    family = GaugeMetricFamily(
        "hub_datasync_queue_records",
        "Records in Data Sync's queues now: pending (captured, not yet moved; customer and "
        "transaction queues), progress (being delivered, dead letters not included), dead "
        "(dead-lettered, waiting for a replay).",
        labels=["queue"],
    )
    family.add_metric(["pending"], depths["customer_pending"] + depths["transaction_pending"])
    family.add_metric(["progress"], depths["progress"])
    family.add_metric(["dead"], depths["dead_letters"])
    return [family]
