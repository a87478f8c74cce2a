"""Orders → packets → mapped objects (reference 004, "Transform and Mapping Process")."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from accounting.adapters.generic import GenericAdapter
from accounting.packets import (
    MapTable,
    OrderData,
    Summary,
    order_split,
    packets_transform,
)


def packet_map(key, content, maps):
    return GenericAdapter().build(key, content, maps)


def _order(key, lines, payments, business_date="2026-11-20") -> OrderData:
    order = OrderData(key=key, business_date=business_date)
    for category, rate, net, tax in lines:
        order.add_item(category, Decimal(rate), Decimal(net), Decimal(tax))
    for method, amount in payments:
        order.add_payment(method, Decimal(amount))
    return order


MAPS = MapTable(
    [
        ("REVENUE_CATEGORY", "Classes", "4000"),
        ("REVENUE_CATEGORY", "Retail", "4100"),
        ("PAYMENT_METHOD", "VISA", "1200"),
        ("PAYMENT_METHOD", "CASH", "1000"),
        ("TAX_RATE", "0.08", "TAX8"),
        ("TAX_RATE", "0", "EXEMPT"),
    ]
)


def test_an_order_becomes_one_packet_keyed_by_its_transaction_id_with_items_summed():
    order = _order(
        "T1",
        [
            ("Classes", "0.0800", "20.00", "1.60"),
            ("Classes", "0.0800", "25.00", "2.00"),
            ("Retail", "0.0000", "2.50", "0.00"),
        ],
        [("VISA", "51.10")],
    )
    [(key, content)] = list(packets_transform([order], summarize=False))
    payload, problems = packet_map(key, content, MAPS)
    assert problems == []
    assert payload == {
        "reference": "T1",
        "date": "2026-11-20",
        "payments": [{"depositAccount": "1200", "amount": "51.10"}],
        "lines": [
            {"account": "4000", "taxCode": "TAX8", "netAmount": "45.00", "taxAmount": "3.60"},
            {"account": "4100", "taxCode": "EXEMPT", "netAmount": "2.50", "taxAmount": "0.00"},
        ],
    }


def test_summarised_packets_are_one_per_business_date_and_payment_method():
    orders = [
        _order("T1", [("Classes", "0.0800", "20.00", "1.60")], [("VISA", "21.60")]),
        _order("T2", [("Classes", "0.0800", "10.00", "0.80")], [("VISA", "10.80")]),
        _order("T3", [("Retail", "0.0800", "5.00", "0.40")], [("CASH", "5.40")]),
        _order("T4", [("Classes", "0.0800", "20.00", "1.60")], [("VISA", "21.60")], "2026-11-21"),
    ]
    packets = dict(packets_transform(orders, summarize=True))
    assert list(packets) == ["2026-11-20/CASH", "2026-11-20/VISA", "2026-11-21/VISA"]
    visa, _ = packet_map("2026-11-20/VISA", packets["2026-11-20/VISA"], MAPS)
    assert visa["payments"] == [{"depositAccount": "1200", "amount": "32.40"}]
    assert visa["lines"] == [
        {"account": "4000", "taxCode": "TAX8", "netAmount": "30.00", "taxAmount": "2.40"}
    ]
    assert packets["2026-11-20/VISA"]["orders"] == 2


def test_an_order_paid_two_ways_is_split_across_both_packets_in_proportion():
    order = _order(
        "T1",
        [("Classes", "0.0800", "20.00", "1.60"), ("Retail", "0.0000", "10.00", "0.00")],
        [("VISA", "21.60"), ("CASH", "10.00")],
    )
    packets = dict(packets_transform([order], summarize=True))
    visa, _ = packet_map("2026-11-20/VISA", packets["2026-11-20/VISA"], MAPS)
    cash, _ = packet_map("2026-11-20/CASH", packets["2026-11-20/CASH"], MAPS)
    assert visa["payments"][0]["amount"] == "21.60"
    assert cash["payments"][0]["amount"] == "10.00"
    # 21.60 of 31.60 is 68.35 %: Classes 20.00 → 13.67 / 6.33, tax 1.60 → 1.09 / 0.51 ...
    for line_visa, line_cash, net, tax in zip(
        visa["lines"], cash["lines"], ["20.00", "10.00"], ["1.60", "0.00"], strict=True
    ):
        assert Decimal(line_visa["netAmount"]) + Decimal(line_cash["netAmount"]) == Decimal(net)
        assert Decimal(line_visa["taxAmount"]) + Decimal(line_cash["taxAmount"]) == Decimal(tax)
    visa_total = sum(Decimal(x["netAmount"]) + Decimal(x["taxAmount"]) for x in visa["lines"])
    assert visa_total == Decimal("21.60")


def test_a_value_without_a_map_fails_the_packet_naming_the_value():
    order = _order("T9", [("Gift cards", "0.0000", "50.00", "0.00")], [("AMEX", "50.00")])
    [(key, content)] = list(packets_transform([order], summarize=False))
    _payload, problems = packet_map(key, content, MAPS)
    assert problems == [
        "no PAYMENT_METHOD map for 'AMEX'",
        "no REVENUE_CATEGORY map for 'Gift cards'",
    ]


cents = st.integers(min_value=0, max_value=500_000)


@st.composite
def split_orders(draw):
    """An order of 1-6 lines and 1-4 payments whose amounts add up to the order's total."""
    lines = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["Classes", "Retail", "Memberships"]),
                st.sampled_from(["0.0800", "0.0000", "0.0625"]),
                cents,
                st.integers(min_value=0, max_value=40_000),
            ),
            min_size=1,
            max_size=6,
        )
    )
    total = sum(net + tax for _, _, net, tax in lines)
    methods = draw(
        st.lists(
            st.sampled_from(["VISA", "CASH", "AMEX", "MASTERCARD"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    cuts = sorted(
        draw(st.lists(st.integers(0, total), min_size=len(methods) - 1, max_size=len(methods) - 1))
    )
    bounds = [0, *cuts, total]
    order = OrderData(key="T", business_date="2026-11-20")
    for category, rate, net, tax in lines:
        order.add_item(category, Decimal(rate), Decimal(net) / 100, Decimal(tax) / 100)
    for method, low, high in zip(methods, bounds, bounds[1:], strict=False):
        order.add_payment(method, Decimal(high - low) / 100)
    return order


@settings(max_examples=300, deadline=None)
@given(split_orders())
def test_every_split_adds_back_exactly_to_the_order_and_to_each_payment(order):
    split = order_split(order)
    for line, (net, tax) in order.lines.items():
        assert sum(parts[line][0] for parts in split.values()) == net
        assert sum(parts[line][1] for parts in split.values()) == tax
    total = sum(net + tax for net, tax in order.lines.values())
    for method, parts in split.items():
        assert all(net >= 0 and tax >= 0 for net, tax in parts.values())
        assert sum(net + tax for net, tax in parts.values()) == order.payments[method]
        # In proportion: each part is within a few cents of its exact share.
        for line, (net, _tax) in parts.items():
            exact = Decimal(order.lines[line][0] * order.payments[method]) / (total or 1)
            assert abs(net - exact) <= len(order.payments)


@settings(max_examples=100, deadline=None)
@given(st.lists(split_orders(), min_size=1, max_size=8))
def test_summarised_packets_of_many_orders_reconcile_to_the_cent(orders):
    for number, order in enumerate(orders):
        order.key = f"T{number}"
    summary = Summary()
    for order in orders:
        summary.add(order)
    packets = list(summary.packets())
    sent_lines = sum(net + tax for _, c in packets for _, _, net, tax in c["lines"])
    sent_payments = sum(amount for _, c in packets for _, amount in c["payments"])
    ordered = sum(net + tax for o in orders for net, tax in o.lines.values())
    assert sent_lines == sent_payments == ordered
    for _, content in packets:
        [(_, paid)] = content["payments"]
        assert sum(net + tax for _, _, net, tax in content["lines"]) == paid
