"""Reads of the accounting export."""

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from integration_hub import roles
from integration_hub.models import Order, OrderItem, OrderPayment, Subscriber
from integration_hub.selectors import subscribers_owned_by

from .models import AccountingIntegration, ExportedKey, Packet, PacketOrder, SyncRecord
from .packets import OrderData, Summary, empty_content, order_content, summary_key

ORDER_CHUNK = 2000
# Keys recomputed whatever the window (summarizeData changed, exported before the books
# were kept) are read this many at a time, with their orders.
RESHAPED_CHUNK = 500


def accounting_integration_owned(
    *,
    user,
    accounting_integration_id: int | None = None,
    subscriber_id: int | None = None,
    integration_type: str | None = None,
) -> AccountingIntegration:
    """The accounting integration an Owner may sync and read (reference 004: the Owners of
    its subscriber; DESIGN.md: and superusers), named by its id (the pages) or by its
    subscriber and type (the API's paths).

    PermissionDenied (403) for a user without the Owner role, or not an Owner of the
    subscriber the caller names; Http404 when nothing the user owns answers to the name (an
    unknown type, or another subscriber's integration named by id: ids reveal nothing)."""
    is_owner = roles.user_has_role(user, roles.OWNER)
    if subscriber_id is not None and is_owner and not user.is_superuser:
        is_owner = subscribers_owned_by(user).filter(pk=subscriber_id).exists()
    if not is_owner:
        raise PermissionDenied(
            "Only Owners may see and start accounting syncs."
            if subscriber_id is None
            else f"You are not an Owner of subscriber {subscriber_id}."
        )
    owned = AccountingIntegration.objects.select_related("integration", "subscriber")
    if not user.is_superuser:
        owned = owned.filter(subscriber__in=subscribers_owned_by(user))
    if subscriber_id is None:
        found = owned.filter(pk=accounting_integration_id).first()
        missing = f"No accounting integration {accounting_integration_id}."
    else:
        found = owned.filter(subscriber_id=subscriber_id, integration_type=integration_type).first()
        missing = f"Subscriber {subscriber_id} has no {integration_type} accounting integration."
    if found is None:
        raise Http404(missing)
    return found


def sync_record_of(
    *, accounting_integration: AccountingIntegration, sync_record_id: int
) -> SyncRecord:
    """A record of this integration's history, or Http404."""
    record = (
        SyncRecord.objects.filter(pk=sync_record_id, accounting_integration=accounting_integration)
        .select_related("accounting_integration")
        .first()
    )
    if record is None:
        raise Http404(f"No sync record {sync_record_id} in this history.")
    return record


def accounting_integrations_of(subscribers: QuerySet[Subscriber]) -> list[AccountingIntegration]:
    """Each integration of these subscribers with its latest SyncRecord (`last_record`): two
    queries, whatever the number of records."""
    from django.db.models import OuterRef, Subquery

    latest = (
        SyncRecord.objects.filter(accounting_integration=OuterRef("pk"))
        .order_by("-requested_at", "-id")
        .values("id")[:1]
    )
    integrations = list(
        AccountingIntegration.objects.filter(subscriber__in=subscribers)
        .select_related("subscriber", "integration")
        .annotate(last_record_id=Subquery(latest))
        .order_by("subscriber_id", "integration_type")
    )
    records = SyncRecord.objects.in_bulk(
        [i.last_record_id for i in integrations if i.last_record_id]
    )
    for integration in integrations:
        integration.last_record = records.get(integration.last_record_id)
    return integrations


def window_start_for(accounting_integration: AccountingIntegration) -> datetime | None:
    """Where the next window starts: the end of the last successful record's window
    (none yet: from the beginning). A failed record never moves it."""
    return (
        SyncRecord.objects.filter(
            accounting_integration=accounting_integration, status=SyncRecord.Status.SUCCESS
        )
        .order_by("-window_end")
        .values_list("window_end", flat=True)
        .first()
    )


def _orders_stream(orders: QuerySet[Order], *, chunk_size: int) -> Iterator[OrderData]:
    """These orders, streamed in chunks of `chunk_size` (keyset on id) with their items and
    payments: memory stays flat in the number of orders."""
    last_id = 0
    while True:
        chunk = list(
            orders.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "retail_transaction_id", "business_date")[:chunk_size]
        )
        if not chunk:
            return
        by_id = {
            order_id: OrderData(key=key, business_date=business_date.isoformat(), pk=order_id)
            for order_id, key, business_date in chunk
        }
        items = OrderItem.objects.filter(order_id__in=by_id).values_list(
            "order_id", "revenue_category", "tax_rate", "net_amount", "tax_amount"
        )
        for order_id, category, rate, net, tax in items.order_by("order_id", "sequence"):
            by_id[order_id].add_item(category, rate, net, tax)
        payments = OrderPayment.objects.filter(order_id__in=by_id).values_list(
            "order_id", "payment_method", "amount"
        )
        for order_id, method, amount in payments.order_by("order_id", "sequence"):
            by_id[order_id].add_payment(method, amount)
        yield from by_id.values()
        last_id = chunk[-1][0]


def orders_in_window(
    *,
    subscriber_id: int,
    window_start: datetime | None,
    window_end: datetime,
    chunk_size: int = ORDER_CHUNK,
) -> Iterator[OrderData]:
    """The subscriber's orders with window_start < updated_at <= window_end."""
    orders = Order.objects.filter(subscriber_id=subscriber_id, updated_at__lte=window_end)
    if window_start is not None:
        orders = orders.filter(updated_at__gt=window_start)
    return _orders_stream(orders, chunk_size=chunk_size)


def _current_keys(
    orders: QuerySet[Order], *, summarize: bool, chunk_size: int
) -> Iterator[tuple[list[int], set[str]]]:
    """(ids, the keys they are under now) for these orders, chunk by chunk, read without
    their items."""
    last_id = 0
    while True:
        chunk = list(
            orders.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "retail_transaction_id", "business_date")[:chunk_size]
        )
        if not chunk:
            return
        ids = [order_id for order_id, _key, _date in chunk]
        if summarize:
            dates = {order_id: business_date for order_id, _key, business_date in chunk}
            methods = OrderPayment.objects.filter(order_id__in=ids).values_list(
                "order_id", "payment_method"
            )
            keys = {summary_key(dates[order_id].isoformat(), m) for order_id, m in methods}
        else:
            keys = {key for _order_id, key, _date in chunk}
        yield ids, keys
        last_id = chunk[-1][0]


def window_keys(
    *,
    accounting_integration: AccountingIntegration,
    window_start: datetime | None,
    window_end: datetime,
    chunk_size: int = ORDER_CHUNK,
    beat: Callable[[], None] | None = None,
) -> tuple[set[str], int]:
    """(every key the window touches, how many orders it holds): the keys its orders are
    under now, and the keys the accounting system holds them under (a modified order may
    have left one), read without the orders' items; and the keys of the other shape
    (summarizeData changed since they were booked) or marked to be recomputed (exported
    before the books were kept), with the keys their orders are under now."""
    summarize = accounting_integration.summarize_data
    subscriber_orders = Order.objects.filter(subscriber_id=accounting_integration.subscriber_id)
    orders = subscriber_orders.filter(updated_at__lte=window_end)
    if window_start is not None:
        orders = orders.filter(updated_at__gt=window_start)
    exported = ExportedKey.objects.filter(accounting_integration=accounting_integration)
    keys: set[str] = set()
    order_count = 0
    for ids, current in _current_keys(orders, summarize=summarize, chunk_size=chunk_size):
        order_count += len(ids)
        keys |= current
        keys.update(
            exported.filter(latest_packet__orders__order_id__in=ids)
            .values_list("key", flat=True)
            .distinct()
        )
        if beat is not None:
            beat()
    reshaped = (
        exported.filter(Q(recompute=True) | ~Q(summarized=summarize))
        .order_by("id")
        .values_list("id", "key", "latest_packet_id")
    )
    last_id = 0
    while chunk := list(reshaped.filter(id__gt=last_id)[:RESHAPED_CHUNK]):
        last_id = chunk[-1][0]
        under = Q(id__in=[])
        packet_ids, retail_ids = [], []
        methods_by_date: dict[str, set[str]] = {}
        for _id, key, latest_packet_id in chunk:
            keys.add(key)
            if latest_packet_id is not None:
                packet_ids.append(latest_packet_id)
            elif (business_date := _summary_key_date(key)) is not None:
                methods_by_date.setdefault(business_date, set()).add(key.partition("/")[2])
            else:
                retail_ids.append(key)
        if packet_ids:
            carried = PacketOrder.objects.filter(packet_id__in=packet_ids).values("order_id")
            under |= Q(id__in=carried)
        if retail_ids:
            under |= Q(retail_transaction_id__in=retail_ids)
        for business_date, methods in methods_by_date.items():
            under |= Q(business_date=business_date, payments__payment_method__in=methods)
        orders_under = subscriber_orders.filter(under).distinct()
        for _ids, current in _current_keys(
            orders_under, summarize=summarize, chunk_size=chunk_size
        ):
            keys |= current
        if beat is not None:
            beat()
    return keys, order_count


def _summary_key_date(key: str) -> str | None:
    business_date, _, method = key.partition("/")
    try:
        date.fromisoformat(business_date)
    except ValueError:
        return None
    return business_date if method else None


def key_packets(
    *,
    accounting_integration: AccountingIntegration,
    keys: set[str],
    chunk_size: int = ORDER_CHUNK,
) -> Iterator[tuple[str, dict, Sequence[int]]]:
    """(key, content, the ids of its orders) for each of these keys, recomputed from every
    order now under it (whatever its modification time): a packet is the current truth
    for its key. A key no order is under any more gets an empty packet."""
    subscriber_orders = Order.objects.filter(subscriber_id=accounting_integration.subscriber_id)
    produced: set[str] = set()
    if accounting_integration.summarize_data:
        dates = sorted({d for d in map(_summary_key_date, keys) if d is not None})
        summary = Summary(keys)
        for start in range(0, len(dates), chunk_size):
            orders = subscriber_orders.filter(business_date__in=dates[start : start + chunk_size])
            for order in _orders_stream(orders, chunk_size=chunk_size):
                summary.add(order)
        for key, content, order_ids in summary.packets_with_orders():
            produced.add(key)
            yield key, content, order_ids
    else:
        ordered = sorted(keys)
        for start in range(0, len(ordered), chunk_size):
            orders = subscriber_orders.filter(
                retail_transaction_id__in=ordered[start : start + chunk_size]
            )
            for order in _orders_stream(orders, chunk_size=chunk_size):
                produced.add(order.key)
                yield order.key, order_content(order), [order.pk]
    left = sorted(keys - produced)
    for start in range(0, len(left), chunk_size):
        chunk = left[start : start + chunk_size]
        previous = dict(
            ExportedKey.objects.filter(
                accounting_integration=accounting_integration, key__in=chunk
            ).values_list("key", "latest_packet__content__date")
        )
        for key in chunk:
            yield key, empty_content(_summary_key_date(key) or previous.get(key)), []


def sync_history(
    *, accounting_integration: AccountingIntegration, since: datetime | None = None
) -> QuerySet[SyncRecord]:
    """Newest first; a page of them gets its packet counts and first packets from
    `records_with_packets`, never every packet."""
    records = SyncRecord.objects.filter(accounting_integration=accounting_integration)
    if since is not None:
        records = records.filter(requested_at__gte=since)
    return records.order_by("-requested_at", "-id")


def record_packets(*, sync_record: SyncRecord, state: str | None = None) -> QuerySet[Packet]:
    """Every packet of a record, failed first, then by key (the History's Packets list)."""
    packets = sync_record.packets.all()
    if state is not None:
        packets = packets.filter(state=state)
    return packets.order_by(_failed_first(), "key", "id")


def _failed_first() -> Case:
    return Case(
        When(state=Packet.State.FAILED, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )


def has_active_record(accounting_integration: AccountingIntegration) -> bool:
    return SyncRecord.objects.filter(
        accounting_integration=accounting_integration, status__in=SyncRecord.ACTIVE
    ).exists()


def active_record_of(accounting_integration: AccountingIntegration) -> SyncRecord | None:
    return SyncRecord.objects.filter(
        accounting_integration=accounting_integration, status__in=SyncRecord.ACTIVE
    ).first()


PACKETS_SHOWN_PER_RECORD = 25


_SHOWN_COLUMNS = (
    "id",
    "sync_record_id",
    "key",
    "state",
    "response_code",
    "error",
    "attempts",
    "external_id",
)


# SQLite allows 500 parts in a compound SELECT: 3 states by 150 records per query.
_RECORDS_PER_QUERY = 150


def _first_packets(record_ids: list[int], limit: int) -> list[Packet]:
    """The first `limit` packets (by id) of each state of each record, whose cost does not
    grow with a record's packets: each part walks the (record, state, id) index and stops
    after `limit` rows (a window over every packet would rank them all). One query for up
    to 150 records (the default page is 50)."""
    packets: list[Packet] = []
    for start in range(0, len(record_ids), _RECORDS_PER_QUERY):
        packets += _first_packets_query(record_ids[start : start + _RECORDS_PER_QUERY], limit)
    return packets


def _first_packets_query(record_ids: list[int], limit: int) -> list[Packet]:
    table = connection.ops.quote_name(Packet._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _SHOWN_COLUMNS)
    parts, params = [], []
    for record_id in record_ids:
        for state in Packet.State.values:
            # Only quoted names are written into the text; every value is a parameter.
            parts.append(
                f"SELECT * FROM (SELECT {columns} FROM {table} WHERE sync_record_id = %s "  # noqa: S608
                f"AND state = %s ORDER BY id LIMIT %s) AS part_{len(parts)}"
            )
            params += [record_id, state, limit]
    return list(Packet.objects.raw(" UNION ALL ".join(parts), params))


def _shown_order(packet: Packet) -> tuple:
    return (packet.state != Packet.State.FAILED, packet.pk)


def records_with_packets(
    records: list[SyncRecord], *, limit: int = PACKETS_SHOWN_PER_RECORD
) -> list[SyncRecord]:
    """Give each record `packet_counts` ({state: n}), `packets_total` and `packets_shown`
    (its failed packets first, then the others, at most `limit`): two queries for a whole
    page, however many packets a record has."""

    ids = [record.pk for record in records]
    counts: dict[int, dict[str, int]] = {record_id: {} for record_id in ids}
    for record_id, state, n in (
        Packet.objects.filter(sync_record_id__in=ids)
        .values_list("sync_record_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[record_id][state] = n
    shown: dict[int, list[Packet]] = {record_id: [] for record_id in ids}
    for packet in sorted(_first_packets(ids, limit), key=_shown_order):
        if len(shown[packet.sync_record_id]) < limit:
            shown[packet.sync_record_id].append(packet)
    for record in records:
        record.packet_counts = counts[record.pk]
        record.packets_shown = shown[record.pk]
        record.packets_total = sum(counts[record.pk].values())
    return records
