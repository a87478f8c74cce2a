"""A business owner's journeys in a real browser (DESIGN.md, "Web UI"; issue: "Web UI for
business owners"), against the live server with a real cluster beside it and the sandbox's
Organisation Kit simulator and accounting receiver as the partners."""

import re

import pytest
from playwright.sync_api import expect

from accounting.demo import accounting_demo_setup
from accounting.models import SyncRecord
from syncing.demo import DEMO_PERSONAL_NUMBER
from syncing.models import Connection
from tests.accounting.conftest import _post_order

from .conftest import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

SCROLL_WIDTH = "document.documentElement.scrollWidth"
# What a screen reader user needs of a page: every control named, headings in order (one h1,
# no level skipped), no clickable div or span.
ACCESSIBILITY_PROBLEMS = """() => {
  const problems = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label");
    if (!named) problems.push(`unlabelled ${el.tagName.toLowerCase()} ${el.name}`);
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!(el.textContent.trim() || el.getAttribute("aria-label"))) problems.push("unnamed control");
  }
  const levels = [...document.querySelectorAll("h1, h2, h3, h4")].map((h) => Number(h.tagName[1]));
  if (levels.filter((l) => l === 1).length !== 1) problems.push("not exactly one h1");
  levels.forEach((level, i) => {
    if (i && level > levels[i - 1] + 1) problems.push(`heading h${level} after h${levels[i - 1]}`);
  });
  if (document.querySelector("div[onclick], span[onclick]")) problems.push("clickable div");
  for (const svg of document.querySelectorAll("svg")) {
    if (!svg.querySelector("title")) problems.push("svg without a title");
  }
  return problems;
}"""
# What a page sets on itself: still there after a sync only if the page never reloaded.
NO_RELOAD_MARK = "window.__noReload = 'still the same page'"


def test_an_owner_connects_syncs_and_watches_it_succeed_without_a_reload(
    page, owner, organisation, cluster, sign_in, screenshot
):
    sign_in(page, owner)
    page.get_by_role("link", name="Add a connection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a connection")
    page.get_by_label("Organisation").first.select_option(label=organisation.name)
    page.get_by_label("Connect as").select_option(label=f"Personal number {DEMO_PERSONAL_NUMBER}")
    screenshot(page, "connection-new")
    page.get_by_role("button", name="Connect").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(organisation.name)
    connection = Connection.objects.get(user=owner)
    status = page.locator(f"[data-connection-status='{connection.pk}']")
    # The initial sync, queued by connecting, runs on the cluster; the page follows it.
    expect(status).to_have_text("Success", timeout=90_000)
    expect(page.locator("#accounts")).to_contain_text("Lind household", timeout=15_000)

    page.evaluate(NO_RELOAD_MARK)
    page.get_by_role("button", name="Sync now").click()
    step = page.locator(f"[data-connection-step='{connection.pk}']")
    expect(step).not_to_have_text("Done")  # this second sync starts...
    expect(step).to_have_text("Done", timeout=90_000)  # ...and ends, followed live
    expect(status).to_have_text("Success")
    expect(page.locator("[data-progress-log] li").last).to_have_text(
        f"{organisation.name}: sync succeeded"
    )
    assert connection.sync_jobs.filter(status="SUCCESS").count() == 2  # initial, and this one
    assert page.evaluate("window.__noReload") == "still the same page"
    screenshot(page, "connection-synced")

    page.get_by_role("link", name="Electricity").first.click()
    expect(page.get_by_role("heading", level=2, name="Measurements")).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.locator("figcaption").first).to_contain_text("hourly values")
    screenshot(page, "service-measurements")

    page.get_by_role("link", name=organisation.name).click()
    page.get_by_role("link", name="Invoices of this account").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invoices of")
    expect(page.locator("tr[data-invoice]")).to_have_count(12)
    screenshot(page, "invoices")


def test_an_owner_runs_an_accounting_sync_and_sees_its_packets(
    page, owner, base_url, cluster, sign_in, screenshot
):
    accounting_integration = accounting_demo_setup(base_url=base_url)
    _post_order("T1", payments=(("VISA", "21.60"),))
    _post_order("T2", items=(("Retail", "0.0000", "2", "5.00"),), payments=(("CASH", "10.00"),))
    sign_in(page, owner)
    page.get_by_role("link", name="Generic").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Generic for")
    page.evaluate(NO_RELOAD_MARK)

    page.get_by_role("button", name="Sync now").click()

    expect(page.locator("[data-record-status]")).to_have_text("Success", timeout=90_000)
    record = SyncRecord.objects.get(accounting_integration=accounting_integration)
    history = page.locator(f"[data-sync-record='{record.pk}']")
    expect(history).to_contain_text("Orders from the beginning", timeout=15_000)
    expect(history.locator("[data-packet-counts]")).to_contain_text("2 sent")
    assert page.evaluate("window.__noReload") == "still the same page"
    screenshot(page, "accounting-history")


def test_sync_now_on_the_dashboards_accounting_panel_is_followed_to_its_outcome_live(
    page, owner, base_url, cluster, sign_in, screenshot
):
    accounting_integration = accounting_demo_setup(base_url=base_url)
    _post_order("T1", payments=(("VISA", "21.60"),))
    sign_in(page, owner)
    row = page.locator(f"[data-accounting-integration='{accounting_integration.pk}']")
    expect(row.locator("[data-record-status]")).to_have_text("Never synced")
    page.evaluate(NO_RELOAD_MARK)

    row.get_by_role("button", name="Sync now").click()

    # Sent in the background: no page came back with a "Sync queued" message...
    expect(row.locator("[data-record-status]")).to_have_text("Success", timeout=90_000)
    assert page.evaluate("window.__noReload") == "still the same page"
    expect(page.get_by_role("status")).to_have_count(0)
    # ...and the row shows what the finished record says, as a fresh page would.
    expect(row).to_contain_text("1 order", timeout=15_000)
    record = SyncRecord.objects.get(accounting_integration=accounting_integration)
    assert record.status == SyncRecord.Status.SUCCESS
    screenshot(page, "dashboard-accounting-synced")


def test_an_owner_neither_sees_nor_reaches_data_sync(page, owner, sign_in, screenshot):
    sign_in(page, owner)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("link", name="Data Sync")).to_have_count(0)
    expect(page.locator("section.panel[data-panel=datasync]")).to_have_count(0)

    response = page.goto("/datasync/")

    assert response.status == 403
    expect(page.get_by_role("button", name="Run now")).to_have_count(0)


def test_a_job_admin_finds_data_sync_and_runs_it(page, make_user, sign_in, screenshot, cluster):
    job_admin = make_user("Job Admin", is_staff=True)
    sign_in(page, job_admin)
    page.get_by_role("link", name="Data Sync").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Data Sync")
    expect(page.get_by_role("button", name="Send Sample Message")).to_have_count(0)

    page.get_by_role("button", name="Run now").click()

    expect(page.get_by_role("status")).to_contain_text("Data Sync run queued")
    screenshot(page, "datasync")


def test_every_main_page_fits_a_phone_and_names_its_controls_and_headings(
    new_page, owner, organisation, base_url, cluster, sign_in, screenshot
):
    from syncing.services.connections import connection_create

    accounting_integration = accounting_demo_setup(base_url=base_url)
    connection = connection_create(user=owner, integration_id=organisation.pk)
    cluster.wait_until(
        lambda: Connection.objects.get(pk=connection.pk).status == "SUCCESS", timeout=90
    )
    service = connection.accounts.get(partner_id="A1001").locations.first().services.first()
    service = service.partner_id
    page = new_page(viewport=PHONE)
    sign_in(page, owner)
    for name, path in [
        ("dashboard", "/"),
        ("connection", f"/connections/{connection.pk}/"),
        ("accounting", f"/accounting/{accounting_integration.pk}/"),
        ("notifications", "/notifications/"),
        ("new-connection", "/connections/new/"),
        ("service", f"/connections/{connection.pk}/services/{service}/"),
        ("invoices", f"/connections/{connection.pk}/accounts/A1001/invoices/"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], name
        assert page.evaluate(ACCESSIBILITY_PROBLEMS) == [], name
        screenshot(page, f"{name}-phone")
    expect(page).to_have_url(re.compile(r"/invoices/$"))


def test_an_owner_syncs_from_the_keyboard_alone(page, owner, organisation, cluster, sign_in):
    from syncing.services.connections import connection_create

    connection = connection_create(user=owner, integration_id=organisation.pk)
    cluster.wait_until(lambda: Connection.objects.get(pk=connection.pk).status == "SUCCESS")
    sign_in(page, owner)

    sync_button = page.get_by_role("button", name=f"Sync now: {organisation.name}")
    for _ in range(30):  # Tab through the page until the button has the focus
        page.keyboard.press("Tab")
        if sync_button.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Sync now cannot be reached with Tab")
    page.keyboard.press("Enter")

    # Signing in queued an account sync; Sync now asks for ALL, which that sync takes on
    # (still queued) or follows with (already running). Either way ALL runs to success.
    cluster.wait_until(
        lambda: (
            connection.sync_jobs.filter(kind="ALL", status="SUCCESS").count() >= 1
            and not connection.sync_jobs.filter(status__in=["QUEUED", "RUNNING"]).exists()
        ),
        timeout=90,
    )
    step = page.locator(f"[data-connection-step='{connection.pk}']")
    expect(step).to_have_text("Done", timeout=30_000)
