"""What the customer and order APIs share: who may keep records, and which subscriber a
request addresses (the default subscriber unless `?subscriberId=` or a body's `subscriberId`
names another)."""

from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated

from integration_hub import roles
from integration_hub.api.ids import id_parse
from integration_hub.models import Subscriber
from integration_hub.selectors import subscriber_reachable

SUBSCRIBER_PARAM = OpenApiParameter(
    "subscriberId",
    {"type": "integer", "minimum": 1},
    OpenApiParameter.QUERY,
    description="The subscriber to look in (default: the default subscriber).",
)
NOTES = {
    403: "Not an Owner of that subscriber, or a role without access.",
    404: "No such record in that subscriber, or no such subscriber.",
}


class IsRecordKeeper(IsAuthenticated):
    """System Admin, System Config, or an Owner (narrowed per subscriber in the view)."""

    def has_permission(self, request, view):
        return roles.user_has_role(
            request.user, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG, roles.OWNER
        )


def subscriber_of_query(request) -> Subscriber:
    """The subscriber `?subscriberId=` names (the default one without it), if the user may
    reach it."""
    given = request.query_params.getlist("subscriberId")
    if len(given) > 1:
        raise exceptions.ValidationError({"subscriberId": ["Give one subscriberId."]})
    subscriber_id = id_parse(given[0], field="subscriberId") if given else None
    return subscriber_reachable(user=request.user, subscriber_id=subscriber_id)


def subscriber_of_body(request, data) -> Subscriber:
    """The subscriber a validated body's `subscriberId` names (the default one without it),
    if the user may reach it."""
    return subscriber_reachable(user=request.user, subscriber_id=data.get("subscriber_id"))
