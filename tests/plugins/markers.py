"""Skip policy of the markers (DESIGN.md, "Testing").

- `postgres` tests skip on any database but PostgreSQL, `redis` tests skip when REDIS_URL is
  unset, and `e2e` tests skip when Debian's chromium is not installed: each with its reason.
- `FORBID_SKIPS=postgres,e2e,redis` turns a skip of a test carrying one of those markers into
  a failed session, with a summary naming the tests. `.ci/run` sets it for each of its runs,
  so a PostgreSQL-only or browser test can never pass CI by quietly not running.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

_forbidden_skips_key = pytest.StashKey[list[tuple[str, str, str]]]()


def _forbidden_markers() -> set[str]:
    return {name.strip() for name in os.environ.get("FORBID_SKIPS", "").split(",") if name.strip()}


def _skip_reasons() -> dict[str, str | None]:
    """Marker name → why its tests cannot run here (None: they can)."""
    from django.conf import settings
    from django.db import connection

    return {
        "postgres": (
            None
            if connection.vendor == "postgresql"
            else f"needs PostgreSQL; the test database is {connection.vendor} (set DATABASE_URL)"
        ),
        "redis": None if settings.REDIS_URL else "needs Redis: REDIS_URL is not set",
        "e2e": None if CHROMIUM.exists() else f"needs Debian's chromium at {CHROMIUM}",
    }


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_forbidden_skips_key] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reasons = _skip_reasons()
    for item in items:
        for marker, reason in reasons.items():
            if reason and item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        carried = sorted(m for m in _forbidden_markers() if item.get_closest_marker(m))
        if carried:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            item.config.stash[_forbidden_skips_key].append(
                (item.nodeid, ",".join(carried), str(reason))
            )
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.config.stash[_forbidden_skips_key] and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    forbidden = config.stash[_forbidden_skips_key]
    if not forbidden:
        return
    markers = ",".join(sorted(_forbidden_markers()))
    terminalreporter.section(f"skips forbidden by FORBID_SKIPS={markers}", red=True)
    for nodeid, carried, reason in forbidden:
        terminalreporter.line(f"FORBIDDEN SKIP [{carried}] {nodeid}: {reason}", red=True)
    terminalreporter.line(
        f"{len(forbidden)} test(s) carrying a forbidden marker skipped: the session fails.",
        red=True,
    )
