"""Orders → packets → the objects the integrator receives (reference 004, "Transform and
Mapping Process"). Pure functions over plain data, so the money rules are testable on their
own: amounts are whole cents (int) here and formatted as "21.60" on the way out.

- Within a packet, request items are summed by revenue category and tax rate.
- With summarizeData, a packet is one business date and payment method; an order paid with
  several methods is split across their packets in proportion to the payments, rounded to
  the cent so that every split adds back exactly to the order (largest remainder).
"""

from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

LineKey = tuple[str, str]  # (revenue category, tax rate "0.0800")


@dataclass
class OrderData:
    """One order as the export reads it: its lines summed by (category, tax rate) and its
    payments summed by method, in cents."""

    key: str
    business_date: str
    pk: int = 0
    lines: dict[LineKey, list[int]] = field(default_factory=dict)  # → [net, tax]
    payments: dict[str, int] = field(default_factory=dict)

    def add_item(self, category: str, tax_rate: Decimal, net: Decimal, tax: Decimal) -> None:
        sums = self.lines.setdefault((category, tax_rate_text(tax_rate)), [0, 0])
        sums[0] += cents(net)
        sums[1] += cents(tax)

    def add_payment(self, method: str, amount: Decimal) -> None:
        self.payments[method] = self.payments.get(method, 0) + cents(amount)


def cents(amount: Decimal) -> int:
    return int(amount.scaleb(2).to_integral_value())


def money(amount_cents: int) -> str:
    return f"{Decimal(amount_cents).scaleb(-2):.2f}"


def tax_rate_text(rate: Decimal | str) -> str:
    """The one spelling of a tax rate that maps and packets share: four decimals."""
    return f"{Decimal(rate):.4f}"


def _largest_remainder(amounts: list[int], share: int, whole: int) -> list[int]:
    """Split `share` of `whole` across `amounts` (which add up to `whole`) in proportion,
    in whole cents adding up to exactly `share`; no part exceeds its amount."""
    if whole == 0:
        return [0] * len(amounts)
    parts = []
    remainders = []
    for index, amount in enumerate(amounts):
        quotient, remainder = divmod(amount * share, whole)
        parts.append(quotient)
        remainders.append((-remainder, index))
    short = share - sum(parts)
    for _, index in sorted(remainders)[:short]:
        parts[index] += 1
    return parts


def order_split(order: OrderData) -> dict[str, dict[LineKey, tuple[int, int]]]:
    """The order's lines split by payment method: method → line → (net, tax).

    Each method in turn takes its share of what is still unallocated, by largest remainder
    over every net and tax amount; the last method takes the rest. So each line's parts add
    back to the line, each method's parts add up to its payment, and none is negative.
    """
    line_keys = list(order.lines)
    cells = [amount for key in line_keys for amount in order.lines[key]]
    methods = [(method, amount) for method, amount in order.payments.items()]
    remaining = list(cells)
    remaining_total = sum(remaining)
    split: dict[str, dict[LineKey, tuple[int, int]]] = {}
    for position, (method, paid) in enumerate(methods):
        if position == len(methods) - 1:
            parts = remaining
        else:
            parts = _largest_remainder(remaining, min(paid, remaining_total), remaining_total)
            remaining = [left - part for left, part in zip(remaining, parts, strict=True)]
            remaining_total -= sum(parts)
        split[method] = {key: (parts[2 * i], parts[2 * i + 1]) for i, key in enumerate(line_keys)}
    return split


def order_content(order: OrderData) -> dict:
    """The packet of one order (summarizeData false), before maps."""
    return {
        "date": order.business_date,
        "payments": [[method, amount] for method, amount in sorted(order.payments.items())],
        "lines": [[*key, *order.lines[key]] for key in sorted(order.lines)],
        "orders": 1,
    }


def summary_key(business_date: str, method: str) -> str:
    return f"{business_date}/{method}"


def order_keys(order: OrderData, *, summarize: bool) -> list[str]:
    """The keys an order is under: its own id, or (summarised) its business date with each
    of its payment methods."""
    if not summarize:
        return [order.key]
    return [summary_key(order.business_date, method) for method in order.payments]


def empty_content(business_date: str | None) -> dict:
    """The packet of a key no order is under any more."""
    return {"date": business_date, "payments": [], "lines": [], "orders": 0}


class Summary:
    """Accumulates orders into one packet per business date and payment method; with `keys`,
    only those packets. Remembers which orders each packet carries."""

    def __init__(self, keys: set[str] | None = None) -> None:
        self._keys = keys
        self._lines: dict[tuple[str, str], dict[LineKey, list[int]]] = defaultdict(dict)
        self._payments: dict[tuple[str, str], int] = defaultdict(int)
        self._orders: dict[tuple[str, str], int] = defaultdict(int)
        self._order_ids: dict[tuple[str, str], array] = defaultdict(lambda: array("q"))

    def add(self, order: OrderData) -> None:
        for method, lines in order_split(order).items():
            packet = (order.business_date, method)
            if self._keys is not None and summary_key(*packet) not in self._keys:
                continue
            self._payments[packet] += order.payments[method]
            self._orders[packet] += 1
            self._order_ids[packet].append(order.pk)
            sums = self._lines[packet]
            for key, (net, tax) in lines.items():
                line = sums.setdefault(key, [0, 0])
                line[0] += net
                line[1] += tax

    def packets(self) -> Iterator[tuple[str, dict]]:
        """(key "2026-11-20/VISA", content) for each packet, in key order."""
        for key, content, _order_ids in self.packets_with_orders():
            yield key, content

    def packets_with_orders(self) -> Iterator[tuple[str, dict, array]]:
        for business_date, method in sorted(self._payments):
            packet = (business_date, method)
            lines = self._lines[packet]
            yield (
                summary_key(business_date, method),
                {
                    "date": business_date,
                    "payments": [[method, self._payments[packet]]],
                    "lines": [[*key, *lines[key]] for key in sorted(lines)],
                    "orders": self._orders[packet],
                },
                self._order_ids[packet],
            )


def packets_transform(
    orders: Iterable[OrderData], *, summarize: bool
) -> Iterator[tuple[str, dict]]:
    """(key, content) for every packet of these orders. Per order, packets stream out as the
    orders stream in; summarised, they come once every order has been read."""
    if not summarize:
        for order in orders:
            yield order.key, order_content(order)
        return
    summary = Summary()
    for order in orders:
        summary.add(order)
    yield from summary.packets()


class MapTable:
    """The maps of an integration as lookups: (kind, source) → target."""

    def __init__(self, rows: Iterable[tuple[str, str, str]]):
        self._targets = {}
        for kind, source, target in rows:
            if kind == "TAX_RATE":
                source = tax_rate_text(source)
            self._targets[(kind, source)] = target

    def target(self, kind: str, source: str) -> str | None:
        return self._targets.get((kind, source))
