"""Signing in and the dashboard, in a real browser (DESIGN.md, "Web UI")."""

import re

import pytest
from playwright.sync_api import expect

from integration_hub.models import ClusterHeartbeat
from tests.reliability.cluster import run_cluster

from .conftest import PHONE

# The live server answers from another thread, so test data is committed.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _panel(page, name: str):
    return page.locator(f"section.panel[data-panel={name}]")


def test_an_owner_signs_in_and_sees_connections_and_accounting_but_not_data_sync(
    page, owner, sign_in, screenshot
):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    screenshot(page, "sign-in")

    sign_in(page, owner)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(_panel(page, "connections")).to_be_visible()
    expect(_panel(page, "accounting")).to_be_visible()
    expect(_panel(page, "datasync")).to_have_count(0)
    screenshot(page, "dashboard-owner")


def test_a_system_admin_sees_data_sync_and_a_running_cluster(
    page, system_admin, sign_in, screenshot
):
    with run_cluster() as cluster:
        cluster.enqueue("integration_hub.tasks.cluster_heartbeat")
        cluster.wait_until(
            lambda: ClusterHeartbeat.objects.filter(cluster_name=cluster.name).exists()
        )
        sign_in(page, system_admin)

        expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
        expect(_panel(page, "datasync")).to_be_visible()
        expect(_panel(page, "system")).to_contain_text("Background jobs are running.")
        expect(_panel(page, "system")).to_contain_text(cluster.name)
        screenshot(page, "dashboard-system-admin")


def test_a_wrong_password_shows_an_error_and_stays_on_sign_in(page, owner, sign_in, screenshot):
    sign_in(page, owner, password="not the password")

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    screenshot(page, "sign-in-error")


def test_signing_out_returns_to_sign_in(page, owner, sign_in, screenshot):
    sign_in(page, owner)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    screenshot(page, "signed-out")


def test_sign_in_and_dashboard_fit_a_phone_screen_without_sideways_scrolling(
    new_page, owner, sign_in, screenshot
):
    page = new_page(viewport=PHONE)
    scroll_width = "document.documentElement.scrollWidth"

    page.goto("/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate(scroll_width) <= PHONE["width"]
    screenshot(page, "sign-in-phone")

    sign_in(page, owner)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    assert page.evaluate(scroll_width) <= PHONE["width"]
    screenshot(page, "dashboard-phone")
