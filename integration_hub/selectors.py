"""Reads of the core: subscribers a user reaches, customers and orders with what their pages
and API answers show, API tokens.

A lookup of something that does not exist raises Django's Http404, one a user may not reach
PermissionDenied, so that API views, pages and batch import all use the same reads (the API's
exception handler answers them as 404 and 403). An Http404 raised for an id given in a body
or a query carries `{field: [message]}`, so that the answer names the field.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Max, Prefetch, QuerySet
from django.http import Http404
from knox.crypto import hash_token
from knox.settings import CONSTANTS

from integration_hub import roles
from integration_hub.models import (
    ApiToken,
    ClusterHeartbeat,
    Customer,
    CustomerNote,
    Order,
    Segment,
    Subscriber,
)


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


def subscriber_get(*, subscriber_id: int | None, field: str = "subscriberId") -> Subscriber:
    """The subscriber with this id, or the default subscriber when no id is given. An id
    beyond the database's range names nothing, like any other (Django's lookups answer such
    an id with no rows rather than an overflow)."""
    if subscriber_id is None:
        subscriber = default_subscriber()
    else:
        subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        named = "the default subscriber" if subscriber_id is None else subscriber_id
        raise Http404({field: [f"No subscriber {named}."]})
    return subscriber


def subscriber_reachable(
    *, user, subscriber_id: int | None, field: str = "subscriberId"
) -> Subscriber:
    """The subscriber a request addresses, if the user may reach it: System Admin and System
    Config reach every subscriber, an Owner those they own. An id that names no subscriber is
    Http404 for everyone; an Owner addressing a subscriber they do not own is refused."""
    subscriber = subscriber_get(subscriber_id=subscriber_id, field=field)
    if roles.user_has_role(user, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG):
        return subscriber
    if not subscriber.owners.filter(user=user).exists():
        raise PermissionDenied(
            f"You are not an Owner of subscriber {subscriber_id or 'the default subscriber'}."
        )
    return subscriber


def customers_with_details() -> QuerySet[Customer]:
    """Customers with what a customer's answer shows: its notes in order, its segments."""
    return Customer.objects.select_related("subscriber").prefetch_related(
        Prefetch("notes", queryset=CustomerNote.objects.order_by("created_at", "id")),
        Prefetch("segments", queryset=Segment.objects.order_by("name")),
    )


def customer_list(*, subscriber: Subscriber) -> QuerySet[Customer]:
    return customers_with_details().filter(subscriber=subscriber).order_by("customer_id")


def customer_get(*, subscriber: Subscriber, customer_id: str) -> Customer:
    """The customer of that subscriber with this business id (a path's)."""
    customer = (
        customers_with_details().filter(subscriber=subscriber, customer_id=customer_id).first()
    )
    if customer is None:
        raise Http404(f"No customer {customer_id} in subscriber {subscriber.pk}.")
    return customer


def customer_named(
    *, subscriber: Subscriber, customer_id: str | None, field: str = "customerId"
) -> Customer | None:
    """The customer an order's body names (None when it names none); Http404 naming the
    field when that subscriber has no such customer."""
    if not customer_id:
        return None
    customer = Customer.objects.filter(subscriber=subscriber, customer_id=customer_id).first()
    if customer is None:
        raise Http404({field: [f"No customer {customer_id} in subscriber {subscriber.pk}."]})
    return customer


def orders_with_lines() -> QuerySet[Order]:
    """Orders with what an order's answer shows: its customer, items and payments."""
    return Order.objects.select_related("customer").prefetch_related("items", "payments")


def order_list(*, subscriber: Subscriber) -> QuerySet[Order]:
    """Newest business date first."""
    return (
        orders_with_lines()
        .filter(subscriber=subscriber)
        .order_by("-business_date", "retail_transaction_id")
    )


def order_get(*, subscriber: Subscriber, retail_transaction_id: str) -> Order:
    """The subscriber's order with this id (ids are the business's own, unique per
    subscriber); the caller has checked that the user reaches the subscriber."""
    order = (
        orders_with_lines()
        .filter(subscriber=subscriber, retail_transaction_id=retail_transaction_id)
        .first()
    )
    if order is None:
        raise Http404(f"No order {retail_transaction_id} in subscriber {subscriber.pk}.")
    return order


def api_token_list(*, user=None) -> QuerySet[ApiToken]:
    """API tokens with their users, newest first: `user`'s, or everyone's."""
    tokens = ApiToken.objects.select_related("user").order_by("-created", "-id")
    return tokens if user is None else tokens.filter(user=user)


def api_token_of(*, user, token_id: int) -> ApiToken:
    """One of the user's own tokens: another user's is as absent as one that does not exist."""
    token = api_token_list(user=user).filter(pk=token_id).first()
    if token is None:
        raise Http404(f"You have no API token {token_id}.")
    return token


def api_tokens_with_prefix(*, prefix: str) -> QuerySet[ApiToken]:
    """The tokens whose readable prefix starts with `prefix` (as `tokens list` shows it), or,
    given more than a prefix (a whole token pasted), the one token it is."""
    if len(prefix) <= CONSTANTS.TOKEN_KEY_LENGTH:
        return api_token_list().filter(token_key__startswith=prefix)
    return api_token_list().filter(
        token_key=prefix[: CONSTANTS.TOKEN_KEY_LENGTH], digest=hash_token(prefix)
    )


def clusters_last_seen() -> dict[str, datetime]:
    """Each task cluster (by its Q_CLUSTER name) and when it last reported, on any host."""
    rows = ClusterHeartbeat.objects.values("cluster_name").annotate(seen=Max("seen_at"))
    return {row["cluster_name"]: row["seen"] for row in rows.order_by("cluster_name")}
