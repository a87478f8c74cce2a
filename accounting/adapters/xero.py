"""XERO: one RECEIVE BankTransaction per payment of the packet (reference:
shared/reference/accounting-systems.md, "Xero"), each line's amounts its share of that
payment. All of a packet's BankTransactions go in one call: PUT creates them; once any
exists, POST updates them by BankTransactionID, creates the new ones and deletes the ones
whose payment is gone ("Status": "DELETED"). Warnings are kept beside a success."""

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

PATH = "api.xro/2.0/BankTransactions"
CONTACT_NAME = "Point of sale"
REFERENCE_CHARS = 255


def _messages(data: dict, name: str) -> list[str]:
    """Every Message under `name` in the answer and in each of its elements."""
    found = []
    containers = [data, *(data.get("Elements") or []), *(data.get("BankTransactions") or [])]
    for container in containers:
        if not isinstance(container, dict):
            continue
        for entry in container.get(name) or []:
            if isinstance(entry, dict) and entry.get("Message"):
                found.append(str(entry["Message"]))
    return found


class XeroAdapter(Adapter):
    integration_type = "XERO"
    label = "Xero"
    per_minute = 60
    concurrency = 5
    amount_fields = frozenset({"UnitAmount", "TaxAmount"})

    def build(self, key: str, content: dict, maps: MapTable) -> tuple[dict, list[str]]:
        mapper = Mapper(maps)
        problems: list[str] = []
        payload = {}
        for method, _paid, lines in payment_shares(key, content, problems):
            items = [
                {
                    "Description": category,
                    "Quantity": 1,
                    "UnitAmount": amount(net),
                    "AccountCode": mapper.target("REVENUE_CATEGORY", category),
                    "TaxType": mapper.target("TAX_RATE", rate),
                    "TaxAmount": amount(tax),
                }
                for category, rate, net, tax in lines
                if net or tax
            ]
            payload[method] = {
                "Type": "RECEIVE",
                "Contact": {"Name": CONTACT_NAME},
                "BankAccount": {"Code": mapper.target("PAYMENT_METHOD", method)},
                "Date": content["date"],
                "Reference": key[:REFERENCE_CHARS],
                "LineAmountTypes": "Exclusive",
                "Status": "AUTHORISED",
                "LineItems": items,
            }
        return payload, mapper.problems + problems

    def calls(
        self, *, accounting_integration_id, key, payload, objects, tenant_id, revision=0
    ) -> list[Call]:
        parts = sorted(set(payload) | set(objects))
        if not parts:
            return []
        transactions = []
        for part in parts:
            held = objects.get(part)
            if part not in payload:
                transactions.append({"BankTransactionID": held["id"], "Status": "DELETED"})
            elif held is not None:
                transactions.append({**payload[part], "BankTransactionID": held["id"]})
            else:
                transactions.append(payload[part])
        body = {"BankTransactions": transactions}
        method = "POST" if objects else "PUT"
        action = "update" if objects else "create"
        draft = self._call(method=method, path=PATH, body=body, parts=tuple(parts), action=action)
        idempotency_key = call_idempotency_key(
            accounting_integration_id=accounting_integration_id,
            key=key,
            data=draft.data(),
            revision=revision,
        )
        return [
            self._call(
                method=method,
                path=PATH,
                body=body,
                parts=tuple(parts),
                action=action,
                idempotency_key=idempotency_key,
                headers={
                    "xero-tenant-id": tenant_id,
                    "Idempotency-Key": idempotency_key,
                    "Accept": "application/json",
                },
            )
        ]

    def read(self, call: Call, response: requests.Response) -> Answer:
        status = response.status_code
        data = response_json(response)
        if status == 429:
            return throttled(response)
        if not isinstance(data, dict):
            return Answer(ok=False, status=status, error=status_error(response))
        if not 200 <= status < 300:
            messages = _messages(data, "ValidationErrors")
            if messages:
                return Answer(
                    ok=False,
                    status=status,
                    error=f"{data.get('Type') or 'Error'}: " + "; ".join(messages),
                )
            return Answer(ok=False, status=status, error=status_error(response))
        answered = data.get("BankTransactions")
        if not isinstance(answered, list) or len(answered) != len(call.parts):
            return Answer(ok=False, status=status, error=status_error(response))
        objects: dict[str, dict | None] = {}
        external_ids = []
        sent = call.body["BankTransactions"]
        for part, transaction, request in zip(call.parts, answered, sent, strict=True):
            transaction_id = str((transaction or {}).get("BankTransactionID") or "")
            if not transaction_id:
                return Answer(ok=False, status=status, error=status_error(response))
            external_ids.append(transaction_id)
            deleted = request.get("Status") == "DELETED"
            objects[part] = None if deleted else {"id": transaction_id}
        warnings = _messages(data, "Warnings")
        note = ("Warnings: " + "; ".join(warnings)) if warnings else ""
        return Answer(ok=True, status=status, objects=objects, external_ids=external_ids, note=note)
