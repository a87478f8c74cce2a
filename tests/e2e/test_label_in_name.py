"""Label in Name (WCAG 2.5.3) on every main page, in a real browser: a speech-input user says
what a control shows ("Sync now"), so each control's accessible name, as chromium computes
it for assistive technology, contains its visible text (issue 14, item 9)."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounting.demo import accounting_demo_setup
from accounting.models import Packet, SyncRecord
from datasync.models import ProgressRecord
from integration_hub import roles
from integration_hub.services.api_tokens import api_token_create
from syncing.models import Connection, Notification

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

# Each button, link and form control a sighted user can see, marked data-label-check=<n>,
# with the text it shows: its own rendered text (a button or link), its value (an input
# button) or the rendered text of its labels (any other control). Text inside an element
# clipped to a pixel (the visually-hidden pattern) is not shown, so it is left out.
CONTROLS_WITH_VISIBLE_TEXT = """() => {
  const CONTROLS = "button, a[href], summary, [role=button], [role=link], input, select, textarea";
  function hidden(element, root) {
    for (let el = element; el && el !== root.parentElement; el = el.parentElement) {
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (box.width <= 1 && box.height <= 1) return true;
      if (style.clip === "rect(0px, 0px, 0px, 0px)" || style.visibility === "hidden") return true;
    }
    return false;
  }
  function shownText(root, skip) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let text = "";
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (skip && skip.contains(node)) continue;
      if (parent.closest("select, textarea, option")) continue; // a control's value, not a label
      if (!hidden(parent, root)) text += node.textContent;
    }
    return text.replace(/\\s+/g, " ").trim();
  }
  const found = [];
  document.querySelectorAll(CONTROLS).forEach((el, n) => {
    if (el.type === "hidden" || !el.checkVisibility({ visibilityProperty: true })) return;
    let text;
    if (el.matches("input[type=submit], input[type=button], input[type=reset]")) text = el.value;
    else if (el.matches("input, select, textarea")) {
      text = [...(el.labels || [])].map((label) => shownText(label, el)).join(" ");
    } else text = shownText(el, null);
    text = (text || "").replace(/\\s+/g, " ").trim();
    if (!text) return; // nothing shown to say (an icon would need its own check)
    el.dataset.labelCheck = String(n);
    found.push({ mark: String(n), text, tag: el.tagName.toLowerCase() });
  });
  return found;
}"""


def _normalised(text: str) -> str:
    """Case and runs of white space aside, and a label's closing colon (WCAG: punctuation
    may differ)."""
    return re.sub(r"\s+", " ", text or "").strip().rstrip(":").strip().casefold()


def _accessible_name(cdp, mark: str) -> str:
    """The name chromium's accessibility tree gives the marked element."""
    handle = cdp.send(
        "Runtime.evaluate",
        {"expression": f"document.querySelector('[data-label-check=\"{mark}\"]')"},
    )
    tree = cdp.send(
        "Accessibility.getPartialAXTree",
        {"objectId": handle["result"]["objectId"], "fetchRelatives": False},
    )
    node = next(n for n in tree["nodes"] if not n.get("ignored"))
    return (node.get("name") or {}).get("value", "")


def label_in_name_problems(page) -> tuple[list[str], list[str]]:
    """(every control checked, as 'tag: visible text'; those whose name lacks that text)."""
    cdp = page.context.new_cdp_session(page)
    try:
        checked, problems = [], []
        for control in page.evaluate(CONTROLS_WITH_VISIBLE_TEXT):
            name = _accessible_name(cdp, control["mark"])
            checked.append(f"{control['tag']}: {control['text']}")
            if _normalised(control["text"]) not in _normalised(name):
                problems.append(f"{control['tag']} shows {control['text']!r}, named {name!r}")
        return checked, problems
    finally:
        cdp.detach()


@pytest.fixture
def owner(make_user):
    """An Owner of the default subscriber who also administers the hub: every control of
    every main page is there for this user (Data Sync's Run now and Replay included)."""
    from integration_hub.models import SubscriberOwner
    from integration_hub.selectors import default_subscriber

    user = make_user(roles.OWNER, roles.SYSTEM_ADMIN, roles.JOB_ADMIN, is_staff=True)
    SubscriberOwner.objects.create(user=user, subscriber=default_subscriber())
    return user


def test_every_control_on_every_main_page_is_named_with_its_visible_label(
    page, owner, organisation, base_url, cluster, sign_in, screenshot
):
    from syncing.services.connections import connection_create

    accounting_integration = accounting_demo_setup(base_url=base_url)
    record = SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status="Success",
        requested_at=timezone.now(),
        finished_at=timezone.now(),
    )
    Packet.objects.create(  # a failed packet: the record offers Resend
        sync_record=record, key="T1", state="Failed", error="No map", content={}, payload=None
    )
    connection = connection_create(user=owner, integration_id=organisation.pk)
    cluster.wait_until(
        lambda: Connection.objects.get(pk=connection.pk).status == "SUCCESS", timeout=90
    )
    account = connection.accounts.get(partner_id="A1001")
    service = account.locations.first().services.first().partner_id
    Notification.objects.create(
        user=owner,
        connection=connection,
        account=account,
        invoice_id="X-1",
        kind="INVOICE_NEW",
        message="New invoice X-1",
    )
    api_token_create(user=owner, name="Bookkeeping export")
    ProgressRecord.objects.create(
        object_name="Customer",
        unique_id="C1",
        action="CREATE",
        capture_order=1,
        subscriber_id=1,
        customer_key="C1",
        is_dead_letter=True,
        last_error="HTTP 500",
    )
    sign_in(page, owner)

    everything_checked = []
    for name, path in [
        ("dashboard", "/"),
        ("new-connection", "/connections/new/"),
        ("connection", f"/connections/{connection.pk}/"),
        ("service", f"/connections/{connection.pk}/services/{service}/"),
        ("invoices", f"/connections/{connection.pk}/accounts/A1001/invoices/"),
        ("accounting", f"/accounting/{accounting_integration.pk}/"),
        ("datasync", "/datasync/"),
        ("notifications", "/notifications/"),
        ("tokens", "/tokens/"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        checked, problems = label_in_name_problems(page)
        assert problems == [], name
        assert checked, f"{name}: no control was checked"
        everything_checked += checked
        screenshot(page, name)

    # The controls the issue names, and a sample of each kind, were among those checked.
    for control in [
        "button: Sync now",
        "button: Run now",
        "button: Replay",
        "button: Mark read",
        "button: Revoke",
        "button: Resend the failed packets",
        "button: Connect",
        "input: Phone number",
        "a: Add a connection",
    ]:
        assert control in everything_checked, control
    assert everything_checked.count("button: Sync now") >= 3  # connection, accounting, page
