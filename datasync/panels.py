"""The dashboard's parts from Data Sync: the panel and the run outcomes."""


def datasync_panel_context(request) -> dict:
    """The dashboard panel: queue depths and the last runs."""
    from .selectors import queue_depths, run_list

    return {"depths": queue_depths(), "runs": list(run_list()[:5])}


def run_outcomes(user, since) -> dict:
    from integration_hub.dashboard import outcome_counts

    from .models import SyncRun

    runs = SyncRun.objects.filter(finished_at__gte=since)
    return outcome_counts(runs, succeeded=SyncRun.Status.SUCCEEDED, failed=SyncRun.Status.FAILED)
