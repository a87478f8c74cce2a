"""Replay of dead letters (DESIGN.md, "Data Sync"): a customer's dead-lettered records go
back in the queue together, in their order."""

from django.db import transaction
from django.db.models import Q

from integration_hub.services.audit import audit_record

from ..models import ProgressRecord


@transaction.atomic
def dead_letters_replay(*, record_ids: list[int], acting_user=None) -> int:
    """Put the dead-lettered records of the customers of `record_ids` back in the queue,
    together and in their order (their ids, hence uniqueIds and order, are unchanged).
    Returns how many records were re-queued."""
    chosen = ProgressRecord.objects.filter(id__in=record_ids, is_dead_letter=True)
    condition = Q(pk__in=[])
    for subscriber_id, customer_key, pk in chosen.values_list(
        "subscriber_id", "customer_key", "id"
    ):
        if customer_key:
            condition |= Q(subscriber_id=subscriber_id, customer_key=customer_key)
        else:
            condition |= Q(pk=pk)
    replayed = ProgressRecord.objects.filter(condition, is_dead_letter=True).update(
        is_dead_letter=False, attempts=0, next_attempt_at=None
    )
    audit_record(
        actor=acting_user,
        action="datasync.dead_letters_replayed",
        target="Data Sync",
        details={"records": replayed},
    )
    return replayed
