"""The JSON objects captured into the queues and the messages the job POSTs, in the shapes of
reference 003 (CustomerResponseType, TransactionType) as DESIGN.md ("Data Sync") narrows them.
"""

import functools
import json
from datetime import UTC
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections

from integration_hub.models import Customer, CustomerNote, CustomerSegment, Order, Segment

from .models import Action, ObjectName

# reference 003, table H-5: (object, action) -> (message action, message type)
MESSAGE_KINDS = {
    (ObjectName.CUSTOMER, Action.CREATE): ("CUSTOMERCRE", "CUSTOMER"),
    (ObjectName.CUSTOMER, Action.UPDATE): ("CUSTOMERMOD", "CUSTOMER"),
    (ObjectName.CUSTOMER, Action.DELETE): ("CUSTOMERDEL", "CUSTOMER"),
    (ObjectName.TRANSACTION, Action.CREATE): ("POSTRNCRE", "POSTRN"),
}

SAMPLE_BODY = {
    "messages": [
        {"action": "CUSTOMERCRE", "payload": "Test message", "type": "CUSTOMER", "uniqueId": "0"}
    ]
}


def _or_none(value: str) -> str | None:
    return value or None


@functools.cache
def _notes_segments_sql(vendor: str) -> str:
    """One query for a customer's notes (by created_at, id) and segment names (by name):
    rows of (0, note text) then (1, segment name), in that order."""
    quote = connection.ops.quote_name
    note = CustomerNote._meta
    membership = CustomerSegment._meta
    segment = Segment._meta
    # Only quoted table and column names from the models are interpolated.
    return (
        f"SELECT 0, n.{quote('text')}, n.{quote('created_at')}, n.{quote('id')}"  # noqa: S608
        f" FROM {quote(note.db_table)} n WHERE n.{quote('customer_id')} = %s"
        f" UNION ALL"
        f" SELECT 1, s.{quote('name')}, NULL, NULL"
        f" FROM {quote(membership.db_table)} m"
        f" JOIN {quote(segment.db_table)} s ON s.{quote('id')} = m.{quote('segment_id')}"
        f" WHERE m.{quote('customer_id')} = %s"
        f" ORDER BY 1, 3, 4, 2"
    )


def customer_notes_segments(customer: Customer) -> tuple[list[str], list[str]]:
    """The customer's note texts (oldest first) and segment names (by name), in one query."""
    notes: list[str] = []
    segments: list[str] = []
    conn = connections[DEFAULT_DB_ALIAS]
    with conn.cursor() as cursor:
        cursor.execute(_notes_segments_sql(conn.vendor), [customer.pk, customer.pk])
        for kind, text, *_ in cursor.fetchall():
            (segments if kind else notes).append(text)
    return notes, segments


def customer_json(
    customer: Customer,
    *,
    is_new: bool = False,
    notes_segments: tuple[list[str], list[str]] | None = None,
) -> dict:
    """The customer as reference 003's CustomerResponseType. A new customer has no notes or
    segments yet, so no query is made for them; nor when the caller read them already
    (`notes_segments`, as customer_notes_segments returns them)."""
    if notes_segments is None:
        notes_segments = ([], []) if is_new else customer_notes_segments(customer)
    notes, segments = notes_segments
    address = []
    if any((customer.street, customer.city, customer.postal_code, customer.country_code)):
        address.append(
            {
                "addressLine1": _or_none(customer.street),
                "city": _or_none(customer.city),
                "postalCode": _or_none(customer.postal_code),
                "countryCode": _or_none(customer.country_code),
            }
        )
    updated = customer.updated_at
    return {
        "customerID": customer.customer_id,
        "signupDate": customer.signup_date.isoformat() if customer.signup_date else None,
        # The subscriber's id: customer ids are unique only per subscriber, so receivers tell
        # businesses apart by it.
        "retailStoreID": str(customer.subscriber_id),
        "customerClass": _or_none(customer.customer_class),
        "prospect": customer.prospect,
        "lastUpdateInfo": (
            # isoformat, not strftime: a year before 1000 keeps its four digits
            updated.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"
            if updated
            else None
        ),
        "entityInformation": {
            "individual": {
                "name": {
                    "name": [
                        {"location": "FIRST", "value": _or_none(customer.first_name)},
                        {"location": "MIDDLE", "value": _or_none(customer.middle_name)},
                        {"location": "LAST", "value": _or_none(customer.last_name)},
                    ]
                },
                "contactInformation": {
                    "address": address,
                    "telephone": [{"number": customer.phone}] if customer.phone else [],
                    "email": [{"emailAddress": customer.email}] if customer.email else [],
                },
                "personalSummary": {"languageCode": _or_none(customer.language_code)},
            }
        },
        "customerNotes": {"customerNote": [{"text": text} for text in notes]},
        "customerSegments": {"segment": [{"name": name} for name in segments]},
    }


def _quantity(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else str(value.normalize())


def transaction_json(order: Order) -> dict:
    """The posted order as reference 003's TransactionType: sale lines, one tax line, and a
    tender line per payment."""
    lines = []
    for item in order.items.all():
        lines.append(
            {
                "lineItemSequence": len(lines) + 1,
                "lineItemTypeCode": "Sale",
                "revenueCategory": item.revenue_category,
                "taxRate": str(item.tax_rate),
                "quantity": _quantity(item.quantity),
                "unitPrice": str(item.unit_price),
                "amount": str(item.net_amount),
            }
        )
    lines.append(
        {
            "lineItemSequence": len(lines) + 1,
            "lineItemTypeCode": "Tax",
            "amount": str(order.tax_total),
        }
    )
    for payment in order.payments.all():
        lines.append(
            {
                "lineItemSequence": len(lines) + 1,
                "lineItemTypeCode": "Tender",
                "tenderType": payment.payment_method,
                "amount": str(payment.amount),
            }
        )
    return {
        "retailTransactionId": order.retail_transaction_id,
        "customerId": order.customer.customer_id if order.customer_id else None,
        "retailStoreID": str(order.subscriber_id),
        "businessDate": order.business_date.isoformat(),
        "currencyTypeCode": order.currency,
        "subtotal": str(order.subtotal),
        "taxTotal": str(order.tax_total),
        "total": str(order.total),
        "lineItems": lines,
    }


def message(*, record_id: int, object_name: str, action: str, unique_id: str, json_object) -> dict:
    """One message of the body; the payload is a JSON string, or the bare id of a delete."""
    message_action, message_type = MESSAGE_KINDS[(object_name, action)]
    payload = unique_id if action == Action.DELETE else json.dumps(json_object)
    return {
        "action": message_action,
        "payload": payload,
        "type": message_type,
        "uniqueId": str(record_id),
    }


def body_encode(messages: list[dict]) -> bytes:
    return json.dumps({"messages": messages}, separators=(",", ":")).encode()


# The same bytes as body_encode([message(...), ...]), built from the JSON text stored at
# capture time: no parsing and no re-encoding of the payload object.
_MESSAGE_HEADS = {
    key: '{"action":' + json.dumps(message_action) + ',"payload":'
    for key, (message_action, _type) in MESSAGE_KINDS.items()
}
_MESSAGE_TYPES = {
    key: ',"type":' + json.dumps(message_type) + ',"uniqueId":"'
    for key, (_action, message_type) in MESSAGE_KINDS.items()
}


def message_text(
    *, record_id: int, object_name: str, action: str, unique_id: str, json_text: str | None
) -> str:
    """One message as compact JSON text; `json_text` is the stored JSON object's text."""
    key = (object_name, action)
    if action == Action.DELETE:
        payload = json.dumps(unique_id)
    else:
        payload = json.dumps("null" if json_text is None else json_text)
    return f'{_MESSAGE_HEADS[key]}{payload}{_MESSAGE_TYPES[key]}{record_id}"}}'


def body_from_messages(messages: list[str]) -> bytes:
    """The request body from message_text() results."""
    return ('{"messages":[' + ",".join(messages) + "]}").encode()
