"""One active Data Sync run at a time, whatever the number of clusters (DESIGN.md,
"Invariants"): a lease row taken by a conditional UPDATE, renewed by the holder's heartbeat.
A run killed without releasing it blocks the next one only until the lease expires."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import RunLease

LEASE_NAME = "datasync"


class LeaseLost(Exception):
    """Another run took the lease: this one's heartbeat was too late."""


def lease_acquire(*, holder: str, ttl: timedelta, run_id: int | None = None) -> bool:
    """Take the lease if it is free or expired; True when `holder` now holds it."""
    if not RunLease.objects.filter(name=LEASE_NAME).exists():
        try:
            with transaction.atomic():
                RunLease.objects.create(name=LEASE_NAME)
        except IntegrityError:
            pass  # created by another process at the same moment
    now = timezone.now()
    # One conditional UPDATE: the database serialises two takers on the row, and the second
    # finds the condition false (PostgreSQL re-checks it after the first commits).
    taken = (
        RunLease.objects.filter(name=LEASE_NAME)
        .filter(Q(holder="") | Q(expires_at__isnull=True) | Q(expires_at__lt=now))
        .update(holder=holder, run_id=run_id, heartbeat_at=now, expires_at=now + ttl)
    )
    return taken == 1


def lease_heartbeat(*, holder: str, ttl: timedelta, run_id: int | None = None) -> None:
    now = timezone.now()
    fields = {"heartbeat_at": now, "expires_at": now + ttl}
    if run_id is not None:
        fields["run_id"] = run_id
    if not RunLease.objects.filter(name=LEASE_NAME, holder=holder).update(**fields):
        raise LeaseLost("Another run took the Data Sync lease (this run's heartbeat was late).")


def lease_release(*, holder: str) -> None:
    RunLease.objects.filter(name=LEASE_NAME, holder=holder).update(
        holder="", run_id=None, expires_at=None
    )
