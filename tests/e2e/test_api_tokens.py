"""An Owner gets an API token for their app at /tokens/, uses it, and revokes it, in a real
browser (DESIGN.md, "REST API": this is how an external app that polls History gets its token)."""

import re

import pytest
import requests
from playwright.sync_api import expect

from .conftest import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCROLL_WIDTH = "document.documentElement.scrollWidth"


def _api_status(base_url: str, token: str) -> int:
    """The API's answer to a client of its own: no browser cookies, only the token."""
    response = requests.get(
        f"{base_url}/api/v1/notifications/", headers={"Authorization": f"Token {token}"}, timeout=10
    )
    return response.status_code


def test_an_owner_creates_a_token_sees_it_once_uses_it_and_revokes_it(
    page, owner, sign_in, base_url, screenshot
):
    sign_in(page, owner)
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()

    page.get_by_label("Name").fill("History poller")
    page.get_by_role("button", name="Create token").click()

    expect(page.get_by_role("status")).to_contain_text("it will not be shown again")
    value = page.get_by_label("Token", exact=True).input_value()
    assert re.fullmatch(r"[0-9a-f]{64}", value)
    row = page.locator("tr", has_text="History poller")
    expect(row).to_contain_text(value[:15])
    expect(row).to_contain_text("never")
    screenshot(page, "token-created")
    assert _api_status(base_url, value) == 200

    page.goto("/tokens/")
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)
    assert value not in page.content()
    row = page.locator("tr", has_text="History poller")
    expect(row).to_have_count(1)
    expect(row.locator("td[data-label='Last used']")).not_to_have_text("never")  # just now

    row.get_by_role("button", name=re.compile(r"^Revoke")).click()

    expect(page.get_by_role("status")).to_contain_text("Revoked the API token History poller")
    expect(page.locator("tr", has_text="History poller")).to_have_count(0)
    screenshot(page, "token-revoked")
    assert _api_status(base_url, value) == 401


def test_the_tokens_page_fits_a_phone_screen(new_page, owner, sign_in, screenshot):
    from integration_hub.services.api_tokens import api_token_create

    api_token_create(user=owner, name="A long token name for the reporting job", expires_in_days=90)
    page = new_page(viewport=PHONE)
    sign_in(page, owner)
    page.goto("/tokens/")
    expect(page.get_by_role("button", name=re.compile(r"^Revoke"))).to_be_visible()
    assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"]
    screenshot(page, "tokens-phone")
