"""GENERIC: the key's full totals as generic JSON, POSTed to the integration's base URL with
an Idempotency-Key; the same `reference` each time, which the receiver treats as a
replacement (a key left with no orders: empty `lines` and `payments`). Amounts are strings."""

import requests

from ..packets import MapTable, money
from .base import (
    Adapter,
    Answer,
    Call,
    Mapper,
    body_bytes,
    call_idempotency_key,
    retry_after,
    status_error,
)


class GenericAdapter(Adapter):
    integration_type = "GENERIC"
    label = "Generic receiver"
    needs_grant = False
    keeps_objects = False

    def build(self, key: str, content: dict, maps: MapTable) -> tuple[dict, list[str]]:
        mapper = Mapper(maps)
        payments = [
            {"depositAccount": mapper.target("PAYMENT_METHOD", method), "amount": money(cents)}
            for method, cents in content["payments"]
        ]
        lines = [
            {
                "account": mapper.target("REVENUE_CATEGORY", category),
                "taxCode": mapper.target("TAX_RATE", rate),
                "netAmount": money(net),
                "taxAmount": money(tax),
            }
            for category, rate, net, tax in content["lines"]
        ]
        # The payload is the body itself: its idempotency key is the packet's.
        body = {"reference": key, "date": content["date"], "payments": payments, "lines": lines}
        return body, mapper.problems

    def calls(
        self, *, accounting_integration_id, key, payload, objects, tenant_id, revision=0
    ) -> list[Call]:
        # A GENERIC key is never deleted, only sent empty: its revision stays 0.
        idempotency_key = call_idempotency_key(
            accounting_integration_id=accounting_integration_id, key=key, data=body_bytes(payload)
        )
        return [
            Call(
                method="POST",
                path="",
                body=payload,
                parts=("",),
                action="replace",
                idempotency_key=idempotency_key,
                headers={"Idempotency-Key": idempotency_key},
            )
        ]

    def read(self, call: Call, response: requests.Response) -> Answer:
        status = response.status_code
        if 200 <= status < 300:
            return Answer(ok=True, status=status)
        return Answer(
            ok=False,
            status=status,
            error=status_error(response),
            throttled=status == 429,
            retry_after=retry_after(response),
        )
