"""Prometheus metrics of every process on every machine (DESIGN.md, "Operations").

Apps declare counters, histograms and scrape-time collectors in their `declarations.py`;
code counts with `counter.inc(...)` / `histogram.observe(...)` (memory only); each process
flushes its deltas to the `MetricTotal` table (flush.py); `GET /metrics` (views.py) reads the
totals and runs the collectors (exposition.py). The core declares its own and knows the
pipelines' only through what they declare.
"""

from .flush import metrics_flush, metrics_flush_after_task
from .instruments import Counter, Histogram, MetricsCollector

__all__ = ["Counter", "Histogram", "MetricsCollector", "metrics_flush", "metrics_flush_after_task"]
