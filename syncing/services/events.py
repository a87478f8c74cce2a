"""Event queues (reference 002: every action of a sync records an event in a queue)."""

from django.db import transaction

from ..models import Event, EventQueue


def queue_default_ensure(*, user) -> EventQueue:
    queue, _ = EventQueue.objects.get_or_create(user=user, name=EventQueue.DEFAULT_NAME)
    return queue


@transaction.atomic
def event_record(*, user, event_type: str, resource_type: str, resource: dict) -> Event:
    """Append one event to the user's default queue."""
    queue = queue_default_ensure(user=user)
    return Event.objects.create(
        queue=queue, event_type=event_type, resource_type=resource_type, resource=resource
    )
