"""QuickBooks Online, Xero and Sage, as the sandbox plays them, over real HTTP: the Owner
connects through the consent page (PKCE, tenant), a Sync books the day's sales, a modified
order updates the objects it booked (never a second one), and a key left with no orders
deletes its object (DESIGN.md, "Accounting")."""

import html
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from accounting.demo import accounting_systems_demo_setup
from accounting.models import Packet, SyncRecord
from accounting.services.sync import sync_request
from integration_hub.sandbox import accounting_data
from integration_hub.sandbox.accounting_api import company_get
from integration_hub.sandbox.models import AccountingObject
from integration_hub.services.orders import ItemInput, PaymentInput, order_modify

pytestmark = pytest.mark.django_db(transaction=True)

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _connect(client, accounting_integration) -> None:
    """The Owner presses Connect, allows on the system's consent page (the first company),
    and comes back to the hub."""
    pressed = client.post(f"/accounting/{accounting_integration.pk}/connect")
    assert pressed.status_code == 302, pressed.content
    consent = client.get(_path(pressed["Location"]))
    assert consent.status_code == 200
    form = {name: html.unescape(value) for name, value in HIDDEN.findall(consent.text)}
    first_company = accounting_data.COMPANIES[accounting_integration.integration_type][0]
    form |= {"decision": "allow", "tenant": first_company.tenant_id}
    allowed = client.post(_path(pressed["Location"]), form)
    assert allowed.status_code == 302, allowed.content
    back = client.get(_path(allowed["Location"]))
    assert back.status_code == 302, back.content.decode()[:2000]
    accounting_integration.refresh_from_db()
    assert accounting_integration.is_connected
    assert accounting_integration.tenant_id == first_company.tenant_id


def _sync(accounting_integration, tasks) -> SyncRecord:
    record = sync_request(accounting_integration=accounting_integration, acting_user=None)
    tasks.run()
    record.refresh_from_db()
    return record


def _total(system: str, book_object: AccountingObject) -> Decimal:
    body = book_object.body
    if system == accounting_data.QUICKBOOKS:
        lines = body["Line"]
        return sum(
            (
                Decimal(str(line["Amount"]))
                for line in lines
                if line["JournalEntryLineDetail"]["PostingType"] == "Debit"
            ),
            Decimal(0),
        )
    if system == accounting_data.XERO:
        return sum(
            (
                Decimal(str(item["UnitAmount"])) + Decimal(str(item["TaxAmount"]))
                for item in body["LineItems"]
            ),
            Decimal(0),
        )
    return Decimal(str(body["total_amount"]))


@pytest.mark.parametrize("system", accounting_data.SYSTEMS)
def test_an_owner_connects_and_the_books_follow_the_point_of_sale(
    system, live_server, client, owner, tasks, post_order
):
    accounting_integration = next(
        ai
        for ai in accounting_systems_demo_setup(base_url=live_server.url)
        if ai.integration_type == system
    )
    client.force_login(owner)
    _connect(client, accounting_integration)

    post_order("T1", items=[("Classes", "0.0800", "1", "20.00")], payments=[("VISA", "21.60")])
    cash_order = post_order(
        "T2",
        items=[("Retail", "0.0800", "1", "10.00"), ("Memberships", "0.0000", "1", "49.00")],
        payments=[("VISA", "20.00"), ("CASH", "39.80")],
    )
    first = _sync(accounting_integration, tasks)

    assert first.status == SyncRecord.Status.SUCCESS, first.failure_reason
    packets = {p.key: p for p in first.packets.all()}
    assert set(packets) == {"2026-11-20/VISA", "2026-11-20/CASH"}
    assert {p.state for p in packets.values()} == {Packet.State.SENT}, [
        p.error for p in packets.values()
    ]
    books = AccountingObject.objects.filter(company__system=system, is_deleted=False)
    assert sorted(books.values_list("external_id", flat=True)) == sorted(
        p.external_id for p in packets.values()
    )
    visa = books.get(external_id=packets["2026-11-20/VISA"].external_id)
    assert _total(system, visa) == Decimal("41.60")

    # T1 is modified: its day's VISA object is updated in place with the new total.
    order_modify(
        order=cash_order.__class__.objects.get(retail_transaction_id="T1"),
        items=[ItemInput("Classes", Decimal("0.0800"), Decimal("2"), Decimal("20.00"))],
        payments=[PaymentInput("VISA", Decimal("43.20"))],
    )
    second = _sync(accounting_integration, tasks)

    [updated] = second.packets.all()
    assert (updated.key, updated.state) == ("2026-11-20/VISA", Packet.State.SENT), updated.error
    assert updated.external_id == visa.external_id
    visa.refresh_from_db()
    assert _total(system, visa) == Decimal("63.20")
    assert visa.version == 1
    assert books.count() == 2  # updated, never booked a second time

    # T2 is paid by VISA alone now: the CASH key has no order left and its object goes.
    order_modify(order=cash_order, payments=[PaymentInput("VISA", Decimal("59.80"))])
    third = _sync(accounting_integration, tasks)

    assert {p.key: p.state for p in third.packets.all()} == {
        "2026-11-20/VISA": Packet.State.SENT,
        "2026-11-20/CASH": Packet.State.SENT,
    }
    cash = AccountingObject.objects.get(external_id=packets["2026-11-20/CASH"].external_id)
    assert cash.is_deleted
    visa.refresh_from_db()
    assert _total(system, visa) == Decimal("103.00")
    assert AccountingObject.objects.filter(company__system=system, is_deleted=False).count() == 1


def _connected_with_one_day_booked(system, live_server, client, owner, tasks, post_order):
    accounting_integration = next(
        ai
        for ai in accounting_systems_demo_setup(base_url=live_server.url)
        if ai.integration_type == system
    )
    client.force_login(owner)
    _connect(client, accounting_integration)
    order = post_order("T1", items=[("Classes", "0.0800", "1", "20.00")])
    record = _sync(accounting_integration, tasks)
    [packet] = record.packets.all()
    assert packet.state == Packet.State.SENT, packet.error
    return (
        accounting_integration,
        order,
        AccountingObject.objects.get(external_id=packet.external_id),
    )


def _more_classes(order):
    order_modify(
        order=order,
        items=[ItemInput("Classes", Decimal("0.0800"), Decimal("3"), Decimal("20.00"))],
        payments=[PaymentInput("VISA", Decimal("64.80"))],
    )


def test_an_entry_edited_in_quickbooks_is_read_again_and_updated(
    live_server, client, owner, tasks, post_order
):
    system = accounting_data.QUICKBOOKS
    accounting_integration, order, entry = _connected_with_one_day_booked(
        system, live_server, client, owner, tasks, post_order
    )
    # Someone edits the entry in QuickBooks: its SyncToken moves on from the one we hold.
    AccountingObject.objects.filter(pk=entry.pk).update(version=5)

    _more_classes(order)
    record = _sync(accounting_integration, tasks)

    [packet] = record.packets.all()
    assert packet.state == Packet.State.SENT, packet.error
    entry.refresh_from_db()
    assert (entry.version, _total(system, entry)) == (6, Decimal("64.80"))
    assert AccountingObject.objects.filter(company__system=system).count() == 1


@pytest.mark.parametrize("system", [accounting_data.QUICKBOOKS, accounting_data.SAGE])
def test_an_object_deleted_in_the_system_by_hand_is_booked_afresh(
    system, live_server, client, owner, tasks, post_order
):
    accounting_integration, order, booked = _connected_with_one_day_booked(
        system, live_server, client, owner, tasks, post_order
    )
    AccountingObject.objects.filter(pk=booked.pk).update(is_deleted=True)

    _more_classes(order)
    record = _sync(accounting_integration, tasks)

    [packet] = record.packets.all()
    assert packet.state == Packet.State.SENT, packet.error
    assert packet.external_id != booked.external_id
    rebooked = AccountingObject.objects.get(external_id=packet.external_id, is_deleted=False)
    assert _total(system, rebooked) == Decimal("64.80")


def test_a_quickbooks_fault_inside_a_200_fails_the_packet_with_its_message(
    live_server, client, owner, tasks, post_order
):
    """QuickBooks can answer a Fault with HTTP 200: the packet fails, naming it."""
    accounting_integration = next(
        ai
        for ai in accounting_systems_demo_setup(base_url=live_server.url)
        if ai.integration_type == accounting_data.QUICKBOOKS
    )
    client.force_login(owner)
    _connect(client, accounting_integration)
    company = company_get(
        system=accounting_data.QUICKBOOKS, tenant_id=accounting_integration.tenant_id
    )
    company.fault_status = 200  # as the sandbox admin switches it
    company.save()
    accounting_integration.maps.filter(kind="REVENUE_CATEGORY", source="Classes").update(
        target="999"  # no such account in the company's chart
    )
    post_order("T1")

    record = _sync(accounting_integration, tasks)

    [packet] = record.packets.all()
    assert (packet.state, packet.response_code) == (Packet.State.FAILED, 200)
    assert "Invalid Reference Id" in packet.error
    assert "code 2500" in packet.error
    assert not AccountingObject.objects.filter(company__system=accounting_data.QUICKBOOKS)


@pytest.mark.parametrize("system", accounting_data.SYSTEMS)
def test_a_late_order_for_a_booked_day_updates_that_days_object(
    system, live_server, client, owner, tasks, post_order
):
    accounting_integration, _order, booked = _connected_with_one_day_booked(
        system, live_server, client, owner, tasks, post_order
    )
    post_order("T9")  # rung up on the same day, posted after it was booked

    record = _sync(accounting_integration, tasks)

    [packet] = record.packets.all()
    assert (packet.state, packet.external_id) == (Packet.State.SENT, booked.external_id)
    booked.refresh_from_db()
    assert _total(system, booked) == Decimal("43.20")
    assert AccountingObject.objects.filter(company__system=system).count() == 1
