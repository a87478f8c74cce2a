"""Browser tests: Debian's chromium driven by playwright against pytest-django's live server.

The live server runs on the file-based test database; a test that needs background jobs starts
a real cluster beside it with `run_cluster()` (tests/reliability/cluster.py). Tests carry the
`e2e` marker, which skips them only where /usr/bin/chromium is absent (tests/plugins/markers.py).
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# playwright's sync API runs an event loop in the test thread, which makes Django refuse
# database access from that thread unless told it is safe (it is: no coroutine touches it).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# An IPv4 address, not "localhost", so chromium does not try ::1 first.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = "/usr/bin/chromium"
# As DESIGN.md "Testing" says; the background-networking flags keep chromium from calling
# hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # While playwright runs, this thread has a running event loop, and Django then keeps its
    # connections per async context instead of per thread: tests would get a second set of
    # connection objects, without what the test database setup stored on the first (such as
    # serialized contents). Carry the thread's connections over.
    thread_connections = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        for alias, connection in thread_connections.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _rows_that_migrations_create(transactional_db) -> None:
    """Each test starts from what migrate leaves: roles with their permissions and schedules
    (post_migrate) and the default subscriber and settings version (migration 0002).

    Transactional tests end by putting those rows back (tests/plugins/db_baseline.py); one that
    keeps Django's flush instead (serialized rollback, say) leaves post_migrate's rows at most.
    """
    from django.contrib.auth.models import Group
    from django.core.management.sql import emit_post_migrate_signal

    from integration_hub import roles
    from integration_hub.models import SettingsVersion, Subscriber

    if Group.objects.filter(name__in=roles.ROLES).count() < len(roles.ROLES):
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    if not Subscriber.objects.exists():
        Subscriber.objects.create(name="Default subscriber")
    if not SettingsVersion.objects.exists():
        SettingsVersion.objects.create(version=0)


@pytest.fixture
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture
def new_page(browser, base_url) -> Iterator[Callable]:
    """new_page(viewport=PHONE) → a page in a fresh browser context (its own cookies)."""
    contexts = []

    def make(*, viewport: dict = DESKTOP):
        context = browser.new_context(viewport=viewport, base_url=base_url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def screenshot(request) -> Callable:
    """screenshot(page, "dashboard") saves test-artifacts/screenshots/<test>--dashboard.png."""
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)

    def save(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{test_name}--{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def sign_in() -> Callable:
    """sign_in(page, user) fills and submits the sign-in form."""
    from tests.factories import PASSWORD

    def fill(page, user, *, password: str = PASSWORD) -> None:
        page.goto("/login/")
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", password)
        page.get_by_role("button", name="Sign in").click()

    return fill


@pytest.fixture
def cluster():
    """A real cluster beside the live server, running what this process queues too."""
    from tests.reliability.cluster import run_cluster

    with run_cluster(workers=2) as cluster, cluster.receiving_this_process_tasks():
        yield cluster


@pytest.fixture
def organisation(base_url, owner):
    """The simulator as an organisation, and the owner verified as Anna Lind, its customer."""
    from syncing.demo import DEMO_PERSONAL_NUMBER, demo_integration_ensure
    from syncing.services.identities import identity_verify

    identity_verify(user=owner, personal_number=DEMO_PERSONAL_NUMBER)
    return demo_integration_ensure(base_url=base_url)
