"""What inbound sync counts in /metrics (declared in declarations.py): sync jobs ended, by
kind and outcome."""

from integration_hub.metrics import Counter

from .models import SyncJob

SYNC_JOBS = Counter(
    "hub_sync_jobs_total",
    "Inbound sync jobs ended, by kind (initial, all, account, account_invoices, invoices, "
    "list_accounts) and outcome (success, error; a job the watchdog failed is an error).",
    ["kind", "outcome"],
    known_values={
        "kind": [kind.lower() for kind in SyncJob.Kind.values],
        "outcome": ["success", "error"],
    },
)


def sync_job_count(*, kind: str, is_success: bool) -> None:
    """A job ended: counted once its transaction commits (a rolled-back end never ended)."""
    SYNC_JOBS.inc_on_commit(kind=kind.lower(), outcome="success" if is_success else "error")
