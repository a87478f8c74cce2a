"""SAGE: one OTHER_RECEIPT other payment per payment of the packet (reference:
shared/reference/accounting-systems.md, "Sage Business Cloud Accounting"), each line's
amounts its share of that payment. One call per payment: POST creates, PUT
/v3.1/other_payments/{id} updates, DELETE removes; the idempotency_id inside the body is the
32 hex digits of the call's key, which includes the payment's index."""

import requests

from ..packets import MapTable
from .base import (
    Adapter,
    Answer,
    Call,
    Mapper,
    amount,
    call_idempotency_key,
    payment_shares,
    response_json,
    status_error,
    throttled,
)

PATH = "v3.1/other_payments"


def _messages(data) -> list[str]:
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    messages = []
    for item in items:
        if isinstance(item, dict) and item.get("$message"):
            code = item.get("$dataCode")
            message = str(item["$message"])
            messages.append(f"{message} ({code})" if code else message)
    return messages


class SageAdapter(Adapter):
    integration_type = "SAGE"
    label = "Sage Accounting"
    per_minute = 100
    amount_fields = frozenset({"total_amount", "net_amount", "tax_amount"})

    def build(self, key: str, content: dict, maps: MapTable) -> tuple[dict, list[str]]:
        mapper = Mapper(maps)
        problems: list[str] = []
        payload = {}
        for method, paid, lines in payment_shares(key, content, problems):
            payment_lines = [
                {
                    "ledger_account_id": mapper.target("REVENUE_CATEGORY", category),
                    "details": category,
                    "tax_rate_id": mapper.target("TAX_RATE", rate),
                    "net_amount": amount(net),
                    "tax_amount": amount(tax),
                    "total_amount": amount(net + tax),
                }
                for category, rate, net, tax in lines
                if net or tax
            ]
            payload[method] = {
                "transaction_type_id": "OTHER_RECEIPT",
                "date": content["date"],
                "bank_account_id": mapper.target("PAYMENT_METHOD", method),
                "reference": key,
                "total_amount": amount(paid),
                "payment_lines": payment_lines,
            }
        return payload, mapper.problems + problems

    def calls(
        self, *, accounting_integration_id, key, payload, objects, tenant_id, revision=0
    ) -> list[Call]:
        calls = []
        headers = {"X-Business": tenant_id, "Accept": "application/json"}
        # The payment's index among the packet's payments: the same on a retry after the
        # deletes before it were done.
        payments = sorted(payload)
        for part in sorted(set(payload) | set(objects)):
            held = objects.get(part)
            if part not in payload:
                calls.append(
                    self._call(
                        method="DELETE",
                        path=f"{PATH}/{held['id']}",
                        body=None,
                        parts=(part,),
                        action="delete",
                        headers=headers,
                    )
                )
                continue
            payment = payload[part]
            index = payments.index(part)
            # An update names its payment: the same lines sent as an update never share the
            # idempotency_id of the create that first booked them.
            hashed = {**payment, "id": held["id"]} if held else payment
            draft = self._call(method="POST", path=PATH, body=hashed, parts=(part,), action="")
            idempotency_key = call_idempotency_key(
                accounting_integration_id=accounting_integration_id,
                key=key,
                data=draft.data(),
                index=index,
                revision=revision,
            )
            body = {
                "other_payment": {**payment, "idempotency_id": idempotency_key.replace("-", "")}
            }
            calls.append(
                self._call(
                    method="PUT" if held else "POST",
                    path=f"{PATH}/{held['id']}" if held else PATH,
                    body=body,
                    parts=(part,),
                    action="update" if held else "create",
                    idempotency_key=idempotency_key,
                    headers=headers,
                )
            )
        return calls

    def read(self, call: Call, response: requests.Response) -> Answer:
        status = response.status_code
        (part,) = call.parts
        if status == 429:
            return throttled(response)
        if call.action == "delete":
            if 200 <= status < 300 or status == 404:
                # Gone already (deleted in Sage by hand) is what was asked for.
                held_id = call.path.rsplit("/", 1)[-1]
                return Answer(ok=True, status=status, objects={part: None}, external_ids=[held_id])
            return Answer(ok=False, status=status, error=status_error(response))
        data = response_json(response)
        if status == 404 and call.action == "update":
            # Deleted in Sage by hand: book it afresh.
            return Answer(ok=False, status=status, error=status_error(response), gone=True)
        if not 200 <= status < 300:
            messages = _messages(data)
            if messages:
                return Answer(ok=False, status=status, error="; ".join(messages))
            return Answer(ok=False, status=status, error=status_error(response))
        payment_id = str(data.get("id") or "") if isinstance(data, dict) else ""
        if not payment_id:
            return Answer(ok=False, status=status, error=status_error(response))
        return Answer(
            ok=True, status=status, objects={part: {"id": payment_id}}, external_ids=[payment_id]
        )
