from django.db import models

from .base import TimeStampedModel


class MetricTotal(TimeStampedModel):
    """One Prometheus sample series summed over every process that ever counted into it:
    a counter with its labels, or one bucket (`le` among its labels) or the sum of a
    histogram. Processes add what they counted since their last flush to `value` (an
    additive upsert, integration_hub/metrics/flush.py), so a total never goes down and a
    process that ends loses nothing it flushed. `/metrics` reads the whole table."""

    # The sample's name: a counter's (`hub_outbound_requests_total`), or a histogram's with
    # `_bucket` / `_sum`.
    name = models.CharField(max_length=200)
    # The labels as canonical JSON (keys sorted, no spaces): one row per label set.
    labels = models.CharField(max_length=1000, blank=True)
    value = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "labels"], name="metric_total_series_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}{self.labels} = {self.value:g}"
