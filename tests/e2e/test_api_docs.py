"""Swagger UI at /api/docs/ works offline: everything it loads comes from the hub itself."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_the_schema_with_every_request_to_the_hub(page, base_url, screenshot):
    requested, failed = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))

    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Integration Hub API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.get_by_text("/api/v1/integrations/").first).to_be_visible()
    screenshot(page, "api-docs")

    hub = urlsplit(base_url).netloc
    fetched = [urlsplit(url) for url in requested if not url.startswith(("data:", "blob:"))]
    assert any(url.path.rstrip("/") == "/api/schema" for url in fetched), requested
    assert {(url.scheme, url.netloc) for url in fetched} == {("http", hub)}, requested
    assert failed == []
