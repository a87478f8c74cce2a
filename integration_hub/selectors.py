from django.db.models import QuerySet

from integration_hub import roles
from integration_hub.models import Subscriber


def subscribers_owned_by(user) -> QuerySet[Subscriber]:
    """The subscribers a user holds the Owner role for."""
    return Subscriber.objects.filter(owners__user=user).order_by("id")


def subscribers_visible_to(user) -> QuerySet[Subscriber]:
    """System Admin and System Config reach every subscriber; an Owner only their own."""
    if roles.user_has_role(user, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG):
        return Subscriber.objects.order_by("id")
    return subscribers_owned_by(user)


def default_subscriber() -> Subscriber:
    """The first subscriber created (id 1 on a fresh database)."""
    return Subscriber.objects.order_by("id").first()
