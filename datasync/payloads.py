"""The JSON objects captured into the queues and the messages the job POSTs, in the shapes of
reference 003 (CustomerResponseType, TransactionType) as DESIGN.md ("Data Sync") narrows them.
"""

import json
from datetime import UTC
from decimal import Decimal

from integration_hub.models import Customer, Order

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


def customer_json(customer: Customer, *, is_new: bool = False) -> dict:
    """The customer as reference 003's CustomerResponseType. A new customer has no notes or
    segments yet, so no query is made for them."""
    if is_new:
        notes, segments = [], []
    else:
        notes = list(customer.notes.order_by("created_at", "id").values_list("text", flat=True))
        segments = list(customer.segments.order_by("name").values_list("name", flat=True))
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
        "retailStoreID": _or_none(customer.retail_store_id),
        "customerClass": _or_none(customer.customer_class),
        "prospect": customer.prospect,
        "lastUpdateInfo": (
            updated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if updated else None
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
