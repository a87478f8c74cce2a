"""The adapter interface, and what every adapter shares: the exact bytes of a body (amounts
as JSON numbers with two decimals, written from their text, never through float), the
idempotency key of a call, reading maps, and splitting a packet by payment."""

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests

from ..packets import MapTable, OrderData, money, order_split

_IDEMPOTENCY_NAMESPACE = uuid.UUID("5b0c3f5e-8d4c-4a53-9a52-4a1f0a6f0e04")
_AMOUNT_TEXT = re.compile(r"^-?[0-9]+\.[0-9]{2}$")
EXCERPT_CHARS = 500

# A line of a packet's content: (revenue category, tax rate "0.0800", net cents, tax cents).
ContentLine = tuple[str, str, int, int]


@dataclass(frozen=True)
class Call:
    """One HTTP call to the accounting system. `parts` are the payload parts it changes, in
    the order the answer lists them; `action` is create, update or delete."""

    method: str
    path: str
    body: dict | None
    parts: tuple[str, ...]
    action: str
    idempotency_key: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    amount_fields: frozenset[str] = frozenset()

    def data(self) -> bytes | None:
        return None if self.body is None else body_bytes(self.body, self.amount_fields)


@dataclass
class Answer:
    """What an answer says: `objects` are the parts now held (part → {"id", "version"}) or
    gone (part → None); `error` fails the call, `note` is kept beside a success (Xero's
    Warnings); `throttled` leaves the packet Pending and pauses the integration; `gone` and
    `stale` let delivery plan the packet again once (see their comments)."""

    ok: bool
    status: int | None = None
    objects: dict[str, dict | None] = field(default_factory=dict)
    external_ids: list[str] = field(default_factory=list)
    error: str = ""
    note: str = ""
    throttled: bool = False
    retry_after: float | None = None
    # The object the call changes is no longer there (deleted in the system by hand): what
    # the key holds is forgotten and booked afresh.
    gone: bool = False
    # The held version is outdated (edited in the system by hand): read it, then again.
    stale: bool = False


def body_bytes(body, amount_fields: frozenset[str] = frozenset()) -> bytes:
    """Canonical JSON (sorted keys, no spaces): the same payload read back from the database
    (PostgreSQL's jsonb reorders keys) is the same body, so the same idempotency key. Values
    of `amount_fields` held as "21.60" are written as the JSON number 21.60."""
    return _encode(body, amount_fields).encode()


def _encode(value, amount_fields: frozenset[str], name: str = "") -> str:
    if isinstance(value, dict):
        items = (
            f"{json.dumps(str(key))}:{_encode(value[key], amount_fields, str(key))}"
            for key in sorted(value)
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(item, amount_fields, name) for item in value) + "]"
    if name in amount_fields and isinstance(value, str) and _AMOUNT_TEXT.match(value):
        return value
    return json.dumps(value)


def call_idempotency_key(
    *,
    accounting_integration_id: int,
    key: str,
    data: bytes | None,
    index: int | None = None,
    revision: int = 0,
) -> str:
    """UUID v5 of the accounting integration, the packet key, the SHA-256 of the exact body
    and (Sage) the index of the payment: the same body always has the same key, a changed
    body a new one (DESIGN.md, "Accounting")."""
    digest = hashlib.sha256(data or b"").hexdigest()
    name = f"{accounting_integration_id}|{key}|{digest}"
    if index is not None:
        name += f"|{index}"
    if revision:
        # Booked again after its objects were deleted: a repeat key would get the deleted
        # object's answer back (QuickBooks requestid, Sage idempotency_id).
        name += f"|r{revision}"
    return str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, name))


def map_problem(kind: str, source: str) -> str:
    return f"no {kind} map for '{source}'"


class Mapper:
    """Map lookups that collect every missing value once."""

    def __init__(self, maps: MapTable):
        self.maps = maps
        self.problems: list[str] = []

    def target(self, kind: str, source: str) -> str:
        target = self.maps.target(kind, source)
        if target is None:
            problem = map_problem(kind, source)
            if problem not in self.problems:
                self.problems.append(problem)
            return ""
        return target


def content_split(content: dict) -> dict[str, list[ContentLine]]:
    """The packet's lines split by payment method, each method's lines adding up to its
    payment (an order paid with two methods, unsummarised): the same largest-remainder
    split as summarising uses."""
    order = OrderData(key="", business_date=content["date"])
    for category, rate, net, tax in content["lines"]:
        order.lines[(category, rate)] = [net, tax]
    for method, amount in content["payments"]:
        order.payments[method] = order.payments.get(method, 0) + amount
    if not order.payments:
        return {}
    return {
        method: [(category, rate, *cells) for (category, rate), cells in lines.items()]
        for method, lines in order_split(order).items()
    }


def payment_shares(
    key: str, content: dict, problems: list[str]
) -> Iterator[tuple[str, int, list[ContentLine]]]:
    """(method, amount paid, its share of the lines) for each payment of the packet, in
    method order (one object per payment: Xero, Sage); a share that does not add up to its
    payment, or lines no payment covers, are added to `problems`."""
    paid = dict(content["payments"])
    shares = sorted(content_split(content).items())
    for method, lines in shares:
        total = sum(net + tax for _category, _rate, net, tax in lines)
        if paid[method] and total != paid[method]:
            problems.append(
                f"{key}: the {method} lines add up to {amount(total)}, "
                f"not the payment's {amount(paid[method])}"
            )
    if not problems and (problem := unpaid_problem(key, content)):
        problems.append(problem)
    for method, lines in shares:
        if paid[method]:
            yield method, paid[method], lines


def throttled(response: requests.Response) -> Answer:
    """A 429: the packet stays Pending and the integration waits for Retry-After."""
    return Answer(
        ok=False,
        status=response.status_code,
        error=status_error(response),
        throttled=True,
        retry_after=retry_after(response),
    )


def unpaid_problem(key: str, content: dict) -> str | None:
    """Lines no payment covers (an order left unpaid, or paid less than its lines): one
    object per payment books only what each payment covers, so they would be dropped
    unseen (with no payment at all, the key's objects deleted) instead of failing."""
    paid = sum(cents for _method, cents in content["payments"])
    sold = sum(net + tax for _category, _rate, net, tax in content["lines"])
    if paid == sold:
        return None
    return f"{key}: payments {amount(paid)} do not equal lines {amount(sold)}"


def rate_percent(rate: str) -> str:
    """ "0.0800" → "8%" (descriptions only)."""
    percent = f"{float(rate) * 100:.4f}".rstrip("0").rstrip(".")
    return f"{percent}%"


def response_json(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None


def excerpt(response: requests.Response) -> str:
    text = " ".join((response.text or "").split())
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1] + "…"
    return text


def status_error(response: requests.Response) -> str:
    text = excerpt(response)
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")


def retry_after(response: requests.Response) -> float | None:
    from integration_hub.outbound.client import retry_after_seconds

    return retry_after_seconds(response.headers.get("Retry-After"))


class Adapter:
    """One accounting system. `per_minute` and `concurrency` are its limits per company
    (None: none); `amount_fields` the body fields written as JSON numbers."""

    integration_type = ""
    label = ""
    per_minute: int | None = None
    concurrency: int | None = None
    amount_fields: frozenset[str] = frozenset()
    # The three real systems are reached through the company their Owner connected, and
    # hold objects the hub updates and deletes (GENERIC receivers are sent replacements).
    needs_grant = True
    keeps_objects = True

    def build(self, key: str, content: dict, maps: MapTable) -> tuple[dict, list[str]]:
        """(payload: part → object, problems): an empty payload means the key holds
        nothing (no orders, or only zero amounts)."""
        raise NotImplementedError

    def calls(
        self,
        *,
        accounting_integration_id: int,
        key: str,
        payload: dict,
        objects: dict[str, dict],
        tenant_id: str,
        revision: int = 0,
    ) -> list[Call]:
        raise NotImplementedError

    def read(self, call: Call, response: requests.Response) -> Answer:
        raise NotImplementedError

    def version_call(self, *, tenant_id: str, held: dict) -> Call | None:
        """The call that reads a held object's current version (None: versions unused)."""
        return None

    def _call(self, **kwargs) -> Call:
        return Call(amount_fields=self.amount_fields, **kwargs)


def amount(cents: int) -> str:
    """Amounts are kept as text ("21.60") in payloads; body_bytes writes them as numbers."""
    return money(cents)
