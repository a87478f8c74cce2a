"""Lane leases (DESIGN.md, "Data Sync": lanes; "Invariants"): at most one deliverer per lane
at any moment, across runs, processes and clusters.

A lease is a LaneLease row taken by a conditional UPDATE (the database serialises two
takers on the row, and the second finds the condition false), renewed by its holder's
heartbeat and expiring LEASE_SECONDS after the last one, on the database's clock. At
DataSyncConcurrency 1 a run takes all the lanes at once or none (one deliverer holds the
whole queue); above 1 it takes lanes one by one.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Now

from ..models import LaneLease
from .queues import LANES


def lease_seconds() -> float:
    """How long a lease lives after its last heartbeat (15 s; tests may shorten it)."""
    return float(settings.DATASYNC_LEASE_SECONDS)


def heartbeat_seconds() -> float:
    """How often a holder renews: five times per lease, so four heartbeats may fail."""
    return lease_seconds() / 5


def _free() -> Q:
    return Q(holder="") | Q(expires_at__isnull=True) | Q(expires_at__lt=Now())


def _held_values(holder: str, run_id: int | None) -> dict:
    expires = Now() + timedelta(seconds=lease_seconds())
    return {"holder": holder, "run_id": run_id, "heartbeat_at": Now(), "expires_at": expires}


def lanes_ensure() -> None:
    """The 64 lease rows (made by migration; again after a test flushed the tables)."""
    if LaneLease.objects.count() < LANES:
        LaneLease.objects.bulk_create(
            [LaneLease(lane=lane) for lane in range(LANES)], ignore_conflicts=True
        )


def lanes_take_all(*, holder: str, run_id: int | None) -> bool:
    """Every lane at once, or none: True when `holder` now holds the whole queue."""
    with transaction.atomic():
        taken = LaneLease.objects.filter(_free()).update(**_held_values(holder, run_id))
        if taken == LANES:
            return True
        transaction.set_rollback(True)
    return False


def lane_take(lane: int, *, holder: str, run_id: int) -> bool:
    """One lane, if it is free or its lease expired."""
    taken = (
        LaneLease.objects.filter(lane=lane).filter(_free()).update(**_held_values(holder, run_id))
    )
    return taken == 1


def lanes_renew(*, holder: str, lanes: set[int]) -> set[int]:
    """The heartbeat: renew every lane `holder` holds; returns the lanes of `lanes` it
    still holds (a lane whose lease expired and was taken by another run is lost)."""
    if not lanes:
        return set()
    expires = Now() + timedelta(seconds=lease_seconds())
    held = LaneLease.objects.filter(lane__in=lanes, holder=holder)
    if held.update(heartbeat_at=Now(), expires_at=expires) == len(lanes):
        return set(lanes)
    return set(
        LaneLease.objects.filter(lane__in=lanes, holder=holder).values_list("lane", flat=True)
    )


def lanes_release(*, holder: str, lanes: set[int] | None = None) -> None:
    """Give lanes back (all of `holder`'s when `lanes` is None)."""
    released = LaneLease.objects.filter(holder=holder)
    if lanes is not None:
        released = released.filter(lane__in=lanes)
    released.update(holder="", run_id=None, heartbeat_at=None, expires_at=None)


def lanes_held_elsewhere(*, holder: str) -> tuple[set[int], set[int], set[int]]:
    """Lanes leased to other holders: (live, stale, expired). A stale holder has missed two
    heartbeats, so it was probably killed: its lanes are worth waiting for (their leases
    expire soon), unlike a live holder's. An expired lease was never given back: its holder
    was killed mid-way, and the lane is free to take."""
    missed = timedelta(seconds=2 * heartbeat_seconds())
    live, stale, expired = set(), set(), set()
    rows = (
        LaneLease.objects.exclude(holder=holder)
        .exclude(holder="")
        .annotate(
            is_expired=Q(expires_at__lt=Now()) | Q(expires_at__isnull=True),
            is_stale=Q(heartbeat_at__lt=Now() - missed),
        )
        .values_list("lane", "is_expired", "is_stale")
    )
    for lane, is_expired, is_stale in rows:
        (expired if is_expired else stale if is_stale else live).add(lane)
    return live, stale, expired
