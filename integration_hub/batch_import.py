"""Batch import of customers and orders (reference 003's batch types), from CSV or JSON lines.

Rows are read one at a time (memory does not grow with the file) and validated with the same
serializers as the REST API, then applied through the same services, so the same domain
signals fire. Each row (each order) applies completely inside its own savepoint or is
reported with its line number and reason; valid rows still apply. Rows are committed in
chunks so that a large file imports quickly.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from djangorestframework_camel_case.util import underscoreize
from rest_framework import exceptions as api_exceptions

from integration_hub.models import Customer, Subscriber
from integration_hub.record_inputs import (
    CustomerCreateSerializer,
    CustomerFieldsSerializer,
    OrderInputSerializer,
)
from integration_hub.selectors import customer_named, subscriber_get, subscriber_reachable
from integration_hub.services import customers as customer_services
from integration_hub.services.orders import order_arguments, order_post

CHUNK_ROWS = 500
MAX_REPORTED_ERRORS = 1000
ACTIONS = {"add": "Add", "addorupdate": "AddorUpdate", "delete": "Delete", "merge": "Merge"}


class ImportFileError(Exception):
    """The file cannot be read at all (exit status 2)."""


class RowRejected(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    applied: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, reason))

    @property
    def exit_status(self) -> int:
        return 1 if self.rejected else 0

    def summary(self) -> str:
        return f"{self.applied} applied, {self.rejected} rejected"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def describe_errors(detail, prefix: str = "") -> str:
    """'email: Enter a valid email address.; items[1].quantity: ...' from any error shape."""
    if isinstance(detail, ValidationError):
        detail = detail.message_dict if hasattr(detail, "error_dict") else detail.messages
    if isinstance(detail, api_exceptions.ValidationError):
        detail = detail.detail
    if isinstance(detail, Http404):  # a selector's: {field: [message]} or a message
        detail = detail.args[0] if detail.args else "Not found."
    if isinstance(detail, dict):
        parts = []
        for key, value in detail.items():
            name = f"[{key}]" if str(key).isdigit() else _camel(str(key))
            joined = f"{prefix}{name}" if name.startswith("[") or not prefix else f"{prefix}.{name}"
            parts.append(describe_errors(value, joined))
        return "; ".join(p for p in parts if p)
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            text = " ".join(str(item) for item in detail)
            return f"{prefix}: {text}" if prefix else text
        return "; ".join(
            describe_errors(item, f"{prefix}[{n}]") for n, item in enumerate(detail) if item
        )
    return f"{prefix}: {detail}" if prefix else str(detail)


# Reading --------------------------------------------------------------------------------


def _open_text(source: str | Path | IO) -> IO:
    """The source as a file object: a path is opened (binary), a file object is used as is."""
    if hasattr(source, "read"):
        return source
    try:
        return open(source, "rb")
    except OSError as exc:
        raise ImportFileError(f"Cannot open {source}: {exc.strerror}.") from None


def _decoded_lines(handle: IO) -> Iterator[str]:
    """The file's lines as text, decoded one line at a time, so that bad bytes are found on
    their own line and every line before them is still read."""
    first = True
    for raw in handle:
        # Bytes are decoded here, so a UnicodeDecodeError names this line only.
        line = raw if isinstance(raw, str) else raw.decode("utf-8")
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        yield line


def _format_of(name: str) -> str:
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    raise ImportFileError(f"Cannot tell the format of {name!r}: name it .csv or .jsonl.")


def _rows(handle: IO, fmt: str) -> Iterator[tuple[int, dict]]:
    """(line number, row as a dict) for each record; the header is line 1 in CSV.

    A file that cannot be read from its start is an ImportFileError (nothing applied). One
    that breaks further on (bad bytes, broken CSV quoting) ends with a rejected row naming
    the line where reading stopped, so the rows before it still apply and are counted."""
    line = 0
    yielded = False
    try:
        if fmt == "csv":
            reader = csv.DictReader(_decoded_lines(handle))
            if not reader.fieldnames:
                raise ImportFileError("The file is empty: a CSV import needs a header row.")
            for row in reader:
                line = reader.line_num
                extra = row.pop(None, None)
                yielded = True
                if extra:
                    yield line, {"__error__": "More values than header columns."}
                    continue
                cleaned = {k.strip(): (v or "").strip() for k, v in row.items() if k}
                if any(cleaned.values()):
                    yield line, {k: v for k, v in cleaned.items() if v != ""}
        else:
            for line, text_line in enumerate(_decoded_lines(handle), start=1):
                if not text_line.strip():
                    continue
                yielded = True
                try:
                    value = json.loads(text_line)
                except json.JSONDecodeError as exc:
                    yield line, {"__error__": f"Not valid JSON: {exc.msg}."}
                    continue
                if not isinstance(value, dict):
                    yield line, {"__error__": "Each line must be a JSON object."}
                    continue
                yield line, value
    except (UnicodeDecodeError, csv.Error) as exc:
        reason = (
            f"The file is not UTF-8 text ({exc.reason})"
            if isinstance(exc, UnicodeDecodeError)
            else f"The CSV cannot be read: {exc}"
        )
        if not yielded:
            raise ImportFileError(f"{reason}.") from None
        yield line + 1, {"__error__": f"{reason}; reading stopped here, the rest was not read."}


def _chunked(rows: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _apply(report: ImportReport, line: int, apply) -> None:
    try:
        with transaction.atomic():
            apply()
    except RowRejected as exc:
        report.reject(line, exc.reason)
    except (ValidationError, api_exceptions.ValidationError, Http404) as exc:
        report.reject(line, describe_errors(exc))
    except (PermissionDenied, api_exceptions.PermissionDenied) as exc:
        report.reject(line, str(exc))
    else:
        report.applied += 1


# Customers ------------------------------------------------------------------------------


def _subscriber_resolver(acting_user):
    """subscriberId → Subscriber, remembered for the import. From the shell (no user) any
    subscriber; from the admin, those the user reaches."""
    cache: dict = {}

    def resolve(subscriber_id) -> Subscriber:
        key = subscriber_id or None
        if key is not None:
            try:
                key = int(key)
            except (TypeError, ValueError):
                raise RowRejected("subscriberId: A subscriber id is a whole number.") from None
        if key not in cache:
            if acting_user is None:
                cache[key] = subscriber_get(subscriber_id=key)
            else:
                cache[key] = subscriber_reachable(user=acting_user, subscriber_id=key)
        return cache[key]

    return resolve


class _Validators:
    """The API's serializers, built once per import and reused for every row (building a
    serializer's fields costs more than validating a row)."""

    def __init__(self):
        self.customer_create = CustomerCreateSerializer()
        self.customer_update = CustomerFieldsSerializer(partial=True)
        self.order = OrderInputSerializer()


def _customer_row(row: dict, resolve, validators: _Validators) -> None:
    if "__error__" in row:
        raise RowRejected(row["__error__"])
    raw_action = str(row.pop("Action", row.pop("action", "")) or "AddorUpdate")
    action = ACTIONS.get(raw_action.replace(" ", "").lower())
    if action is None:
        raise RowRejected(f"Action: {raw_action!r} is not one of Add, AddorUpdate, Delete, Merge.")
    data = underscoreize(row)
    subscriber = resolve(data.pop("subscriber_id", None))
    if action == "Merge":
        ids = data.get("customer_ids")
        if isinstance(ids, str):
            ids = ids.split(";")
        if isinstance(ids, list):
            ids = [str(part).strip() for part in ids if str(part).strip()]
        if not isinstance(ids, list) or len(ids) < 2:
            raise RowRejected("customerIds: a Merge row names at least two ids, separated by ;.")
        customer_services.customer_merge(subscriber=subscriber, customer_ids=ids)
        return
    customer_id = str(data.get("customer_id") or "").strip()
    if not customer_id:
        raise RowRejected("customerId: This field is required.")
    existing = Customer.objects.filter(subscriber=subscriber, customer_id=customer_id).first()
    if action == "Delete":
        if existing is None:
            raise RowRejected(f"customerId: No customer {customer_id} to delete.")
        customer_services.customer_delete(customer=existing)
        return
    if action == "Add" and existing is not None:
        raise RowRejected(f"customerId: Customer {customer_id} already exists.")
    if existing is None:
        fields = dict(
            validators.customer_create.run_validation({**data, "customer_id": customer_id})
        )
        fields.pop("subscriber_id", None)
        customer_services.customer_create(subscriber=subscriber, **fields)
    else:
        data.pop("customer_id", None)
        fields = validators.customer_update.run_validation(data)
        customer_services.customer_update(customer=existing, **fields)


def _import(source, name: str | None, acting_user, records_of, apply_record) -> ImportReport:
    """Read `source` record by record (`records_of(rows, fmt)`), apply each with
    `apply_record(record, resolve, validators)` in its own savepoint, commit in chunks."""
    text = _open_text(source)
    name = name or str(getattr(source, "name", source))
    report = ImportReport()
    resolve = _subscriber_resolver(acting_user)
    validators = _Validators()
    try:
        fmt = _format_of(name)
        for chunk in _chunked(records_of(_rows(text, fmt), fmt), CHUNK_ROWS):
            with transaction.atomic():
                for line, record in chunk:
                    _apply(
                        report,
                        line,
                        lambda record=record: apply_record(record, resolve, validators),
                    )
    finally:
        if not hasattr(source, "read"):
            text.close()
    return report


def customers_import(*, source, name: str | None = None, acting_user=None) -> ImportReport:
    """Import customers; `source` is a path or a file object (`name` gives its format)."""
    return _import(source, name, acting_user, lambda rows, fmt: rows, _customer_row)


# Orders ---------------------------------------------------------------------------------

ORDER_COLUMNS = ("retailTransactionId", "customerId", "subscriberId", "businessDate", "currency")
ITEM_COLUMNS = ("description", "revenueCategory", "taxRate", "quantity", "unitPrice")


def _parse_payments(text: str) -> list[dict]:
    payments = []
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        method, sep, amount = part.rpartition(":")
        if not sep or not method.strip():
            raise RowRejected(f"payments: {part.strip()!r} is not METHOD:AMOUNT (VISA:21.60).")
        payments.append({"paymentMethod": method.strip(), "amount": amount.strip()})
    return payments


def _csv_orders(rows: Iterator[tuple[int, dict]]) -> Iterator[tuple[int, dict]]:
    """Group consecutive CSV rows (one per item) into order bodies, keyed by first line."""
    current: dict | None = None
    first_line = 0
    for line, row in rows:
        if "__error__" in row:
            if current is not None:
                yield first_line, current
                current = None
            yield line, row
            continue
        transaction_id = row.get("retailTransactionId", "")
        if (
            current is None
            or transaction_id != current["retailTransactionId"]
            or not transaction_id
        ):
            if current is not None:
                yield first_line, current
            first_line = line
            current = {key: row[key] for key in ORDER_COLUMNS if key in row}
            current.setdefault("retailTransactionId", transaction_id)
            current["items"] = []
            current["__payments__"] = row.get("payments", "")
        current["items"].append({key: row[key] for key in ITEM_COLUMNS if key in row})
    if current is not None:
        yield first_line, current


def _order_row(body: dict, resolve, validators: _Validators) -> None:
    if "__error__" in body:
        raise RowRejected(body["__error__"])
    if "__payments__" in body:
        body = {**body, "payments": _parse_payments(body.pop("__payments__"))}
    data = validators.order.run_validation(underscoreize(body))
    subscriber = resolve(data.get("subscriber_id"))
    order_post(
        subscriber=subscriber,
        customer=customer_named(subscriber=subscriber, customer_id=data.get("customer_id")),
        **order_arguments(data),
    )


def orders_import(*, source, name: str | None = None, acting_user=None) -> ImportReport:
    """Import orders: CSV one row per item (order columns repeated, payments as
    `VISA:21.60;CASH:5.00`), or JSON lines with the API's order bodies."""
    return _import(source, name, acting_user, _orders_of, _order_row)


def _orders_of(rows: Iterator[tuple[int, dict]], fmt: str) -> Iterator[tuple[int, dict]]:
    return _csv_orders(rows) if fmt == "csv" else rows
