"""What `/metrics` answers: the declared counters and histograms with their totals over every
process (one read of the small totals table) and the families the declared collectors
compute at scrape time, in the Prometheus text format (or OpenMetrics when asked)."""

import json
import logging
from collections import defaultdict

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily

from .instruments import Counter, Histogram, collectors_declared, metrics_declared

logger = logging.getLogger("integration_hub.metrics")


def _totals() -> dict[str, list[tuple[dict, float]]]:
    """Sample name -> [(labels, total)] from the totals table."""
    from integration_hub.models import MetricTotal

    found = defaultdict(list)
    for name, labels, value in MetricTotal.objects.values_list("name", "labels", "value"):
        found[name].append((json.loads(labels) if labels else {}, value))
    return found


def _values_of(labels: dict, labelnames: tuple[str, ...]) -> tuple[str, ...] | None:
    """The label values in the metric's order; None for a series stored under other labels
    (the metric's labels changed since)."""
    if set(labels) != set(labelnames):
        return None
    return tuple(labels[name] for name in labelnames)


def _counter_family(metric: Counter, totals: dict) -> CounterMetricFamily:
    family = CounterMetricFamily(metric.name, metric.documentation, labels=metric.labelnames)
    found: dict[tuple[str, ...], float] = {}
    for labels, value in totals.get(metric.name, []):
        values = _values_of(labels, metric.labelnames)
        if values is not None:
            found[values] = value
    # Counted nowhere yet: 0, so that rate() and increase() see the first increment.
    zeros = metric.known_series if metric.labelnames else [()]
    for values in zeros:
        found.setdefault(values, 0.0)
    for values in sorted(found):
        family.add_metric(values, found[values])
    return family


def _histogram_family(metric: Histogram, totals: dict) -> HistogramMetricFamily:
    family = HistogramMetricFamily(metric.name, metric.documentation, labels=metric.labelnames)
    counts: dict[tuple[str, ...], list[float]] = {}
    sums: dict[tuple[str, ...], float] = {}
    if not metric.labelnames:
        counts[()] = [0.0] * len(metric.upper_bounds)
        sums[()] = 0.0
    for labels, value in totals.get(f"{metric.name}_bucket", []):
        labels = dict(labels)
        try:
            bound = float(labels.pop("le"))
        except (KeyError, ValueError):
            continue
        values = _values_of(labels, metric.labelnames)
        if values is None:
            continue
        buckets = counts.setdefault(values, [0.0] * len(metric.upper_bounds))
        buckets[metric.bucket_of(bound)] += value
    for labels, value in totals.get(f"{metric.name}_sum", []):
        values = _values_of(labels, metric.labelnames)
        if values is not None:
            sums[values] = value
            counts.setdefault(values, [0.0] * len(metric.upper_bounds))
    for values in sorted(counts):
        cumulative, running = [], 0.0
        for bound, count in zip(metric.upper_bounds, counts[values], strict=True):
            running += count
            cumulative.append((_le(bound), running))
        family.add_metric(list(values), cumulative, sums.get(values, 0.0))
    return family


def _le(bound: float) -> str:
    from prometheus_client.utils import floatToGoString

    return floatToGoString(bound)


class _Declared:
    """Every declared counter and histogram, with its totals."""

    def collect(self):
        totals = _totals()
        for metric in metrics_declared():
            if isinstance(metric, Counter):
                yield _counter_family(metric, totals)
            elif isinstance(metric, Histogram):
                yield _histogram_family(metric, totals)


class _Collected:
    """One declared collector; a failing one is logged and left out, not the whole scrape."""

    def __init__(self, declared):
        self.declared = declared

    def collect(self):
        try:
            families = list(self.declared.collect())
        except Exception:
            logger.exception("Metrics collector %s failed", self.declared.name)
            return []
        return families


def metrics_render(accept: str = "") -> tuple[bytes, str]:
    """The scrape's body and content type, in the format the Accept header asks for."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Declared())
    for declared in collectors_declared():
        registry.register(_Collected(declared))
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type
