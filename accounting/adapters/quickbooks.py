"""QUICKBOOKS_ONLINE: one JournalEntry per packet key, US company model (reference:
shared/reference/accounting-systems.md, "QuickBooks Online").

A Debit per payment to its deposit account (PAYMENT_METHOD map), a Credit per revenue line
(net, REVENUE_CATEGORY map) and a Credit per tax rate (tax, TAX_RATE map: the sales tax
liability account); debits equal credits to the cent. Created by POST, updated in place
with its Id, current SyncToken and "sparse": true, deleted with ?operation=delete. A Fault
in the body fails the call whatever the HTTP status; a 429 or a throttling Fault (code
3001) pauses the company's delivery."""

import hashlib

import requests

from ..packets import MapTable
from .base import (
    Adapter,
    Answer,
    Call,
    Mapper,
    amount,
    call_idempotency_key,
    rate_percent,
    response_json,
    retry_after,
    status_error,
    throttled,
)

MINOR_VERSION = "75"
DOC_NUMBER_CHARS = 21
PRIVATE_NOTE_CHARS = 4000
THROTTLE_CODES = {"3001", "003001"}
NOT_FOUND = "610"
STALE = "5010"


def doc_number(key: str) -> str:
    """The packet key when it fits in 21 characters, else its first 12 characters, "~" and
    8 hex digits of its hash (DESIGN.md)."""
    if len(key) <= DOC_NUMBER_CHARS:
        return key
    return f"{key[:12]}~{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _line(posting_type: str, cents: int, account: str, description: str) -> dict:
    return {
        "DetailType": "JournalEntryLineDetail",
        "Amount": amount(cents),
        "Description": description,
        "JournalEntryLineDetail": {"PostingType": posting_type, "AccountRef": {"value": account}},
    }


def _fault_text(fault: dict) -> tuple[str, set[str]]:
    errors = fault.get("Error") or []
    texts, codes = [], set()
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict):
            continue
        code = str(error.get("code", ""))
        codes.add(code)
        parts = [str(error.get(name) or "") for name in ("Message", "Detail")]
        text = ": ".join(part for part in parts if part)
        texts.append(f"{text} (code {code})" if code else text)
    kind = fault.get("type") or "Fault"
    return f"{kind}: " + "; ".join(texts or ["no error details"]), codes


class QuickBooksAdapter(Adapter):
    integration_type = "QUICKBOOKS_ONLINE"
    label = "QuickBooks Online"
    per_minute = 500
    concurrency = 10
    amount_fields = frozenset({"Amount"})

    def build(self, key: str, content: dict, maps: MapTable) -> tuple[dict, list[str]]:
        mapper = Mapper(maps)
        debits = [
            _line("Debit", cents, mapper.target("PAYMENT_METHOD", method), f"{method} takings")
            for method, cents in content["payments"]
            if cents
        ]
        credits = [
            _line(
                "Credit",
                net,
                mapper.target("REVENUE_CATEGORY", category),
                f"{category} sales, taxed at {rate_percent(rate)}",
            )
            for category, rate, net, _tax in content["lines"]
            if net
        ]
        tax_by_rate: dict[str, int] = {}
        for _category, rate, _net, tax in content["lines"]:
            if tax:
                tax_by_rate[rate] = tax_by_rate.get(rate, 0) + tax
        credits += [
            _line("Credit", tax, mapper.target("TAX_RATE", rate), f"Sales tax {rate_percent(rate)}")
            for rate, tax in sorted(tax_by_rate.items())
        ]
        problems = mapper.problems
        debit_total = sum(cents for _method, cents in content["payments"])
        credit_total = sum(net + tax for _category, _rate, net, tax in content["lines"])
        if debit_total != credit_total:
            problems.append(
                f"{key}: debits {amount(debit_total)} do not equal credits {amount(credit_total)}"
            )
        if not debits and not credits:
            return {}, problems
        entry = {
            "TxnDate": content["date"],
            "DocNumber": doc_number(key),
            "PrivateNote": f"Point of sale {key}: {content.get('orders', 0)} order(s)"[
                :PRIVATE_NOTE_CHARS
            ],
            "Line": debits + credits,
        }
        return {"": entry}, problems

    def calls(
        self, *, accounting_integration_id, key, payload, objects, tenant_id, revision=0
    ) -> list[Call]:
        held = objects.get("")
        entry = payload.get("")
        scope = (accounting_integration_id, key, tenant_id, revision)
        if entry is not None and held is not None:
            body = {**entry, "Id": held["id"], "SyncToken": held.get("version", "0")}
            body["sparse"] = True
            return [self._journal_call(*scope, body, "update")]
        if entry is not None:
            return [self._journal_call(*scope, entry, "create")]
        if held is not None:
            body = {"Id": held["id"], "SyncToken": held.get("version", "0")}
            return [self._journal_call(*scope, body, "delete")]
        return []

    def _journal_call(
        self, accounting_integration_id, key, tenant_id, revision, body, action
    ) -> Call:
        draft = self._call(method="POST", path="", body=body, parts=("",), action=action)
        request_id = call_idempotency_key(
            accounting_integration_id=accounting_integration_id,
            key=key,
            data=draft.data(),
            revision=revision,
        )
        params = {"minorversion": MINOR_VERSION, "requestid": request_id}
        if action == "delete":
            params = {"operation": "delete", **params}
        return self._call(
            method="POST",
            path=f"v3/company/{tenant_id}/journalentry",
            body=body,
            parts=("",),
            action=action,
            idempotency_key=request_id,
            headers={"Accept": "application/json"},
            params=params,
        )

    def version_call(self, *, tenant_id: str, held: dict) -> Call:
        """GET the entry as QuickBooks holds it now: its current SyncToken."""
        return self._call(
            method="GET",
            path=f"v3/company/{tenant_id}/journalentry/{held['id']}",
            body=None,
            parts=("",),
            action="read",
            headers={"Accept": "application/json"},
            params={"minorversion": MINOR_VERSION},
        )

    def read(self, call: Call, response: requests.Response) -> Answer:
        status = response.status_code
        data = response_json(response)
        fault = data.get("Fault") if isinstance(data, dict) else None
        if isinstance(fault, dict):
            text, codes = _fault_text(fault)
            if NOT_FOUND in codes and call.action == "delete":
                # Deleted in QuickBooks already: what the delete was for.
                return Answer(
                    ok=True, status=status, objects={"": None}, external_ids=[call.body["Id"]]
                )
            is_throttled = status == 429 or bool(codes & THROTTLE_CODES)
            return Answer(
                ok=False,
                status=status,
                error=text,
                throttled=is_throttled,
                retry_after=retry_after(response),
                gone=NOT_FOUND in codes and call.action in ("update", "read"),
                stale=STALE in codes and call.action == "update",
            )
        if status == 429:
            return throttled(response)
        entry = data.get("JournalEntry") if isinstance(data, dict) else None
        if not 200 <= status < 300 or not isinstance(entry, dict) or not entry.get("Id"):
            return Answer(ok=False, status=status, error=status_error(response))
        entry_id = str(entry["Id"])
        if call.action == "delete":
            return Answer(ok=True, status=status, objects={"": None}, external_ids=[entry_id])
        held = {"id": entry_id, "version": str(entry.get("SyncToken", "0"))}
        return Answer(ok=True, status=status, objects={"": held}, external_ids=[entry_id])
