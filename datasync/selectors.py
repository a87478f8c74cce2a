"""Reads of Data Sync: queue depths and run history."""

from django.db.models import QuerySet

from .models import CustomerPendingRecord, ProgressRecord, SyncRun, TransactionPendingRecord


def user_may_run(user) -> bool:
    """Run now and Replay: Job Admin (the role holds this permission), or a superuser."""
    return user.has_perm("datasync.run_datasync")


def queue_depths() -> dict[str, int]:
    return {
        "customer_pending": CustomerPendingRecord.objects.count(),
        "transaction_pending": TransactionPendingRecord.objects.count(),
        "progress": ProgressRecord.objects.filter(is_dead_letter=False).count(),
        "dead_letters": ProgressRecord.objects.filter(is_dead_letter=True).count(),
    }


def run_list() -> QuerySet[SyncRun]:
    return SyncRun.objects.order_by("-started_at", "-id")


def dead_letters(*, limit: int = 50) -> list[ProgressRecord]:
    """The oldest dead-lettered records (what the Data Sync page lists for replay)."""
    return list(
        ProgressRecord.objects.filter(is_dead_letter=True)
        .only(
            "id",
            "object_name",
            "unique_id",
            "action",
            "subscriber_id",
            "customer_key",
            "attempts",
            "last_error",
        )
        .order_by("id")[:limit]
    )
