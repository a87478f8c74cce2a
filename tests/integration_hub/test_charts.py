"""The server-drawn charts: sync outcomes per day from every pipeline's source, readable
without colour alone, and a time series."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from integration_hub.charts import DayOutcome, outcomes_svg, series_svg
from integration_hub.dashboard import outcome_days

pytestmark = pytest.mark.django_db


def test_each_day_is_a_bar_with_a_title_and_failures_are_hatched():
    days = [DayOutcome(date(2026, 11, 20) + timedelta(days=n), n, 1) for n in range(3)]

    svg = str(outcomes_svg(days, title="Sync outcomes"))

    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert "<title>2026-11-21: 1 succeeded, 1 failed</title>" in svg
    assert svg.count('fill="url(#hatch-failed)"') == 3
    assert "<pattern" in svg


def test_titles_are_escaped():
    svg = str(outcomes_svg([DayOutcome(date(2026, 11, 20), 1, 0)], title="<script>"))

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_a_series_without_values_says_so():
    assert "no values" in str(series_svg([], title="Measurements", unit="kWh"))
    line = str(
        series_svg(
            [(7200, "2.5"), (0, "1.5"), (3600, "NaN"), (5400, "Infinity"), (9000, "bad")],
            title="M",
            unit="kWh",
            chart_id="cost",
        )
    )
    # What is not a finite number is left out; the rest is drawn in time order.
    assert "from 1.5 to 2.5 kWh, 2 values" in line
    assert 'aria-labelledby="chart-cost-title"' in line


def test_the_last_thirty_days_count_every_pipelines_runs_the_user_may_see(owner, job_admin):
    from accounting.models import SyncRecord
    from datasync.models import SyncRun
    from tests.factories import AccountingIntegrationFactory

    accounting_integration = AccountingIntegrationFactory()

    now = timezone.now()
    for status in ("Success", "Success", "Failed"):
        SyncRecord.objects.create(
            accounting_integration=accounting_integration,
            status=status,
            requested_at=now,
            finished_at=now,
        )
    SyncRun.objects.create(trigger="SCHEDULE", status="FAILED", started_at=now, finished_at=now)
    old = now - timedelta(days=40)
    SyncRun.objects.create(trigger="SCHEDULE", status="FAILED", started_at=old, finished_at=old)

    owners_days = outcome_days(owner)
    admins_days = outcome_days(job_admin)

    assert len(owners_days) == 30
    assert owners_days[-1].day == timezone.localdate()
    assert (owners_days[-1].succeeded, owners_days[-1].failed) == (2, 1)
    # Data Sync is for admin roles; the 40-day-old run is outside the chart.
    assert (admins_days[-1].succeeded, admins_days[-1].failed) == (0, 1)
    assert sum(d.total for d in admins_days) == 1
