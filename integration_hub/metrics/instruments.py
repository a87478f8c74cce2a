"""Counters and histograms, counted in this process's memory (no database per increment) and
written to the database by `flush.metrics_flush`; and the collectors that compute gauges at
scrape time. Apps declare both in their `declarations.py` (registry.py takes them in here).

    DELIVERED = Counter("hub_datasync_delivered_total", "Records delivered.")
    DELIVERED.inc(len(records))
    SECONDS = Histogram("hub_x_seconds", "How long x took.", ["kind"], buckets=(0.1, 1, 10))
    SECONDS.observe(elapsed, kind="sync")

What a process holds is only what it counted since its last flush (the deltas): the totals are
in the database, summed over every process. A forked child starts with none, so that what the
parent counted before the fork is not written twice.
"""

import bisect
import itertools
import json
import math
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction

# Longer label values are cut: a label is for grouping, and the database row has a limit
# (MetricTotal.labels: 1,000 characters hold four labels and `le`).
LABEL_VALUE_MAX_CHARS = 200
LABELS_MAX = 4
NAME_MAX_CHARS = 190  # MetricTotal.name is 200, with `_bucket` added
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def labels_text(labels: dict[str, str]) -> str:
    """Labels as stored: canonical JSON, so that one label set is always one row."""
    return json.dumps(labels, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Metric:
    """A counter or a histogram: its name, its help text and the names of its labels."""

    type = ""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()):
        if not _NAME.match(name) or len(name) > NAME_MAX_CHARS:
            raise ValueError(f"{name!r} is not a Prometheus metric name (at most 190 chars).")
        if len(labelnames) > LABELS_MAX:
            raise ValueError(f"{name}: at most {LABELS_MAX} labels.")
        for label in labelnames:
            if not _LABEL.match(label) or label.startswith("__") or label == "le":
                raise ValueError(f"{name}: {label!r} cannot be a label name.")
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def _key(self, labels: dict[str, object]) -> tuple[str, ...]:
        """The label values in the metric's order (every increment: kept short)."""
        names = self.labelnames
        if not names and not labels:
            return ()
        try:
            values = tuple([labels[name] for name in names])
        except KeyError:
            values = None
        if values is None or len(labels) != len(names):
            raise ValueError(f"{self.name} takes the labels {list(names)}, not {sorted(labels)}.")
        for value in values:
            if type(value) is not str or len(value) > LABEL_VALUE_MAX_CHARS:
                return tuple(str(value)[:LABEL_VALUE_MAX_CHARS] for value in values)
        return values


class Counter(Metric):
    """A total that only goes up. Its name ends in `_total`. `known_values`, each label's
    values known in advance, makes every combination of them show 0 before anything is
    counted there, so that the first increment is seen by rate() and increase()."""

    type = "counter"

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        *,
        known_values: dict[str, Sequence[str]] | None = None,
    ):
        if not name.endswith("_total"):
            raise ValueError(f"A counter's name ends in _total: {name!r}.")
        super().__init__(name, documentation, labelnames)
        self.known_series: list[tuple[str, ...]] = []
        if known_values:
            if set(known_values) != set(self.labelnames):
                raise ValueError(f"{name}: known_values must name every label, or none.")
            per_label = [known_values[label] for label in self.labelnames]
            self.known_series = list(itertools.product(*per_label))

    def inc(self, amount: float = 1, **labels) -> None:
        if amount < 0:
            raise ValueError(f"{self.name} only goes up: inc({amount}).")
        store.count(self, self._key(labels), amount)

    def inc_on_commit(self, amount: float = 1, **labels) -> None:
        """Count once the surrounding transaction commits (at once outside one): a state
        that a rollback undoes is never counted."""
        key = self._key(labels)  # a wrong label fails here, in the caller
        transaction.on_commit(lambda: store.count(self, key, amount))


class Histogram(Metric):
    """Observations (durations, sizes) counted in buckets, with their sum."""

    type = "histogram"

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        *,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ):
        super().__init__(name, documentation, labelnames)
        bounds = sorted(float(bound) for bound in buckets if not math.isinf(bound))
        if not bounds or len(set(bounds)) != len(bounds):
            raise ValueError(f"{name}: buckets must be distinct numbers, at least one.")
        # Each bucket counts the observations <= its upper bound and > the one before; the
        # last is +Inf. What is stored is per bucket, made cumulative when scraped.
        self.upper_bounds = (*bounds, math.inf)

    def observe(self, value: float, **labels) -> None:
        bucket = bisect.bisect_left(self.upper_bounds, value)
        store.observe(self, self._key(labels), min(bucket, len(self.upper_bounds) - 1), value)

    def bucket_of(self, upper_bound: float) -> int:
        """The bucket a stored bucket's upper bound falls in (buckets changed since it was
        stored: the first one that holds it)."""
        return min(bisect.bisect_left(self.upper_bounds, upper_bound), len(self.upper_bounds) - 1)


@dataclass(frozen=True)
class MetricsCollector:
    """Computes metric families (prometheus_client's `GaugeMetricFamily` and the like) at
    each scrape: the depth of a queue, when something was last seen. It must be cheap: the
    whole scrape has 100 ms."""

    name: str
    collect: Callable[[], Iterable[object]]


_metrics: dict[str, Metric] = {}
_collectors: dict[str, MetricsCollector] = {}


def metric_declare(metric: Metric) -> None:
    known = _metrics.get(metric.name)
    if known is not None and known is not metric:
        raise ValueError(f"Two metrics are named {metric.name}.")
    _metrics[metric.name] = metric


def collector_declare(collector: MetricsCollector) -> None:
    _collectors[collector.name] = collector


def metrics_declared() -> list[Metric]:
    return sorted(_metrics.values(), key=lambda metric: metric.name)


def collectors_declared() -> list[MetricsCollector]:
    return sorted(_collectors.values(), key=lambda collector: collector.name)


class Store:
    """What this process counted since its last flush, per (metric, label values): a
    counter's amount, or a histogram's count per bucket followed by its sum."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deltas: dict[tuple[Metric, tuple[str, ...]], float | list[float]] = {}
        # Called (once per process) at the first change: starts the background flush.
        self.on_first_change: Callable[[], None] | None = None
        self.changed = False

    def count(self, metric: Counter, key: tuple[str, ...], amount: float) -> None:
        slot = (metric, key)
        with self.lock:
            deltas = self.deltas
            deltas[slot] = deltas.get(slot, 0.0) + amount
        if not self.changed:
            self._first_change()

    def observe(self, metric: Histogram, key: tuple[str, ...], bucket: int, value: float) -> None:
        slot = (metric, key)
        with self.lock:
            counts = self.deltas.get(slot)
            if counts is None:
                counts = self.deltas[slot] = [0.0] * (len(metric.upper_bounds) + 1)
            counts[bucket] += 1
            counts[-1] += value
        if not self.changed:
            self._first_change()

    def _first_change(self) -> None:
        self.changed = True
        if self.on_first_change is not None:
            self.on_first_change()  # idempotent: two threads may both get here

    def take(self) -> dict:
        """Everything counted so far, handed over to a flush (and forgotten here)."""
        with self.lock:
            deltas, self.deltas = self.deltas, {}
        return deltas

    def give_back(self, deltas: dict) -> None:
        """A flush that failed returns what it took: added to what was counted meanwhile."""
        with self.lock:
            for slot, delta in deltas.items():
                mine = self.deltas.get(slot)
                if mine is None:
                    self.deltas[slot] = delta
                elif isinstance(mine, list):
                    self.deltas[slot] = [a + b for a, b in zip(mine, delta, strict=True)]
                else:
                    self.deltas[slot] = mine + delta

    def _after_fork_in_child(self) -> None:
        # The parent writes what it counted; the child starts from nothing, with a lock no
        # thread of the parent can be holding, and starts its own background flush.
        self.lock = threading.Lock()
        self.deltas = {}
        self.changed = False


store = Store()


def _after_fork_in_child() -> None:
    store._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
