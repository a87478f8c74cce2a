"""/v2.1/queues: the user's event queues and their events, oldest first, read on with
`?after=` (reference 002)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from integration_hub.api.errors import error_responses
from integration_hub.api.ids import ID_MAXIMUM, id_parse

from ..selectors import QUEUE_EVENTS_AT_MOST, queue_events, queue_list, unix_seconds
from .v21 import V21Api, array_of

QUEUE_SCHEMA = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
}
EVENT_SCHEMA = {
    "type": "object",
    "required": ["id", "event_type", "resource_type", "creation_date", "resource"],
    "properties": {
        "id": {"type": "string"},
        "event_type": {"type": "string"},
        "resource_type": {"type": "string"},
        "creation_date": {"type": "integer"},
        "resource": {"type": "object", "additionalProperties": True},
    },
}


class QueueListApi(V21Api):
    @extend_schema(
        operation_id="v21_queues_list",
        summary="List your event queues",
        responses={200: array_of(QUEUE_SCHEMA), **error_responses(401)},
    )
    def get(self, request):
        return Response([{"id": str(q.pk), "name": q.name} for q in queue_list(user=request.user)])


def _after(request) -> int | None:
    """?after=: an event id, or 0 for all (a page that has seen none yet polls with 0)."""
    after = request.query_params.get("after")
    if after is None or after == "0":
        return None if after is None else 0
    return id_parse(after, field="after")


def _event_out(event) -> dict:
    return {
        "id": str(event.pk),
        "event_type": event.event_type,
        "resource_type": event.resource_type,
        "creation_date": unix_seconds(event.created_at),
        "resource": event.resource,
    }


class QueueEventsApi(V21Api):
    @extend_schema(
        operation_id="v21_queue_events",
        summary="Events of one of your queues, oldest first",
        description=f"At most {QUEUE_EVENTS_AT_MOST} at a time: read on with `after` set to "
        "the last id received.",
        parameters=[
            OpenApiParameter(
                "after",
                {"type": "integer", "minimum": 0, "maximum": ID_MAXIMUM},
                required=False,
                description="Only events after this id (0: all).",
            )
        ],
        responses={
            200: array_of(EVENT_SCHEMA),
            **error_responses(
                400,
                401,
                404,
                notes={
                    400: "after is not a whole number.",
                    404: "No such queue of yours, or `after` beyond any event id.",
                },
            ),
        },
    )
    def get(self, request, queue_id: str):
        events = queue_events(user=request.user, queue_id=int(queue_id), after=_after(request))
        if events is None:
            raise NotFound("No such queue of yours.")
        return Response([_event_out(event) for event in events])
