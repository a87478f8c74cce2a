"""An Owner connects the sandbox Xero through its consent page, syncs, and sees the packets
Sent with their ids in Xero, in a real browser (issue 15, "Tests that must exist"; DESIGN.md,
"Accounting" and "Web UI"), against the live server with a real cluster beside it."""

import re

import pytest
from playwright.sync_api import expect

from accounting.demo import accounting_systems_demo_setup
from accounting.models import Packet, SyncRecord
from integration_hub.sandbox import accounting_data
from integration_hub.sandbox.models import AccountingObject
from tests.accounting.conftest import _post_order

from .test_owner_journeys import NO_RELOAD_MARK

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

NOT_CONNECTED = "Not connected"


def test_an_owner_connects_xero_syncs_and_sees_each_packets_id_in_xero(
    page, owner, base_url, cluster, sign_in, screenshot
):
    xero = next(
        ai
        for ai in accounting_systems_demo_setup(base_url=base_url)
        if ai.integration_type == accounting_data.XERO
    )
    company, other_company = accounting_data.COMPANIES[accounting_data.XERO]
    sign_in(page, owner)
    page.get_by_role("link", name="Xero", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xero for")
    connection = page.get_by_role("region", name="Xero company")
    expect(connection).to_contain_text(NOT_CONNECTED)
    expect(connection.get_by_role("button", name="Disconnect")).to_have_count(0)

    connection.get_by_role("button", name="Connect", exact=True).click()

    # Xero's consent page, as the sandbox plays it: one organisation ticked, then Allow.
    expect(page.get_by_role("heading", level=1)).to_contain_text("wants to connect to Xero")
    page.get_by_role("checkbox", name=company.name, exact=True).check()
    page.get_by_role("checkbox", name=other_company.name, exact=True).uncheck()
    screenshot(page, "xero-consent")
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(re.compile(rf"/accounting/{xero.pk}/$"))
    expect(page.get_by_role("status")).to_contain_text(f"Connected to Xero: {company.name}")
    expect(connection).to_contain_text(f"Connected to {company.name} ({company.tenant_id})")
    expect(connection).not_to_contain_text(NOT_CONNECTED)
    xero.refresh_from_db()
    assert (xero.is_connected, xero.tenant_id) == (True, company.tenant_id)

    # The day's sales at the point of sale: one order paid by VISA, one by VISA and cash.
    _post_order("T1", items=(("Classes", "0.0800", "1", "20.00"),), payments=(("VISA", "21.60"),))
    _post_order(
        "T2",
        items=(("Retail", "0.0800", "1", "10.00"), ("Memberships", "0.0000", "1", "49.00")),
        payments=(("VISA", "20.00"), ("CASH", "39.80")),
    )
    page.evaluate(NO_RELOAD_MARK)

    sync = page.get_by_role("region", name="Sync")
    sync.get_by_role("button", name="Sync now").click()

    # The latest status changes in place, where a screen reader announces it.
    expect(sync.locator("[aria-live=polite] [data-record-status]")).to_have_text(
        "Success", timeout=90_000
    )
    record = SyncRecord.objects.get(accounting_integration=xero)
    history = page.locator(f"[data-sync-record='{record.pk}']")
    expect(history.locator("[data-packet-counts]")).to_have_text("Packets: 2 sent", timeout=15_000)
    history.get_by_text("Packets", exact=True).click()  # the summary that opens the table
    books = AccountingObject.objects.filter(company__tenant_id=company.tenant_id)
    for key in ("2026-11-20/VISA", "2026-11-20/CASH"):
        packet = record.packets.get(key=key)
        assert packet.state == Packet.State.SENT, packet.error
        book_object = books.get(external_id=packet.external_id, is_deleted=False)
        row = history.get_by_role("row").filter(has=page.get_by_role("cell", name=key))
        expect(row.get_by_role("cell").nth(1)).to_have_text("Sent")
        expect(row.locator("[data-label='Id in Xero']")).to_have_text(book_object.external_id)
    assert books.count() == 2
    assert not AccountingObject.objects.filter(company__tenant_id=other_company.tenant_id).exists()
    assert page.evaluate("window.__noReload") == "still the same page"
    screenshot(page, "xero-synced")

    connection.get_by_role("button", name="Disconnect").click()

    expect(page.get_by_role("status")).to_contain_text("Disconnected from Xero")
    expect(connection).to_contain_text(NOT_CONNECTED)
    expect(connection.get_by_role("button", name="Connect", exact=True)).to_be_visible()
    xero.refresh_from_db()
    assert not xero.is_connected
    screenshot(page, "xero-disconnected")
