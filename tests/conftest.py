import pytest
from django.db import connections
from django.utils.module_loading import import_string
from rest_framework.test import APIClient

from integration_hub import roles
from integration_hub.services.api_tokens import api_token_create
from integration_hub.services.jobs import QueuedTask
from integration_hub.system_settings import settings_cache_clear

from .factories import UserFactory
from .listener import Listener
from .plugins.db_baseline import DatabaseBaseline, flush_replaced_by
from .project_logging import LoggingState, project_logging_configure

pytest_plugins = ["tests.plugins.markers"]


def page_queries(client, path: str) -> int:
    """The SQL queries one GET of `path` runs (it must answer 200): page tests compare
    them for little and much data."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.fixture
def settings_cache_steady(monkeypatch):
    """System settings, once read, stay cached until one changes (no version check once a
    second), so that a page's query count depends on its data, not on the cache's clock."""
    from integration_hub import system_settings

    monkeypatch.setattr(system_settings, "CHECK_INTERVAL", float("inf"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test databases as pytest-django sets them up; each transactional test then ends by
    putting back the rows migrate left, not by a flush (tests/plugins/db_baseline.py)."""
    with django_db_blocker.unblock():
        baselines = {alias: DatabaseBaseline(connections[alias]) for alias in connections}
    with flush_replaced_by(baselines):
        yield


@pytest.fixture(autouse=True)
def _fresh_settings_cache():
    """Each test starts with no cached system settings (a rolled-back test may have set one)."""
    settings_cache_clear()
    yield
    settings_cache_clear()


@pytest.fixture
def make_user(db):
    """make_user("System Admin", "Job Admin") → a user holding those roles."""

    def make(*role_names: str, **fields):
        for name in role_names:
            assert name in roles.ROLES, name
        return UserFactory(roles=list(role_names), **fields)

    return make


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(db):
    """api_as(user) → an APIClient sending that user's token as `Authorization: Token KEY`."""

    def make(user, keyword: str = "Token"):
        client = APIClient()
        value = api_token_create(user=user, name="test client").value
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {value}")
        return client

    return make


@pytest.fixture
def system_admin(make_user):
    return make_user(roles.SYSTEM_ADMIN, is_staff=True)


@pytest.fixture
def system_config(make_user):
    return make_user(roles.SYSTEM_CONFIG, is_staff=True)


@pytest.fixture
def job_admin(make_user):
    return make_user(roles.JOB_ADMIN, is_staff=True)


@pytest.fixture
def owner(make_user):
    from integration_hub.models import SubscriberOwner
    from integration_hub.selectors import default_subscriber

    user = make_user(roles.OWNER)
    SubscriberOwner.objects.create(user=user, subscriber=default_subscriber())
    return user


@pytest.fixture
def plain_user(make_user):
    return make_user()


@pytest.fixture(autouse=True)
def _rows_that_migrations_create(request):
    """A transactional test starts from what migrate leaves: roles with their permissions and
    schedules (post_migrate) and the default subscriber and settings version (migration 0002).

    Transactional tests end by putting those rows back (tests/plugins/db_baseline.py), except
    one that keeps Django's flush (serialized rollback, available_apps, sequences reset): that
    flush re-runs post_migrate but not the data migration (after serialized rollback, neither).
    """
    marker = request.node.get_closest_marker("django_db")
    is_transactional = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not is_transactional:
        return
    request.getfixturevalue("transactional_db")
    from django.contrib.auth.models import Group
    from django.core.management.sql import emit_post_migrate_signal

    from integration_hub.models import SettingsVersion, Subscriber

    if Group.objects.filter(name__in=roles.ROLES).count() < len(roles.ROLES):
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    if not Subscriber.objects.exists():
        Subscriber.objects.create(name="Default subscriber")
    if not SettingsVersion.objects.exists():
        SettingsVersion.objects.create(version=0)


class TaskQueue:
    """Stands in for django-q2 behind `integration_hub.services.jobs`: a task queued by
    `task_enqueue` arrives here, as (func, args), once its transaction commits, and waits
    until `run()` runs it, and what it queues, in this process.

    Inside the test's own transaction (which never commits), tasks whose transaction has
    ended without a rollback count as committed when `queued` is read or `run()` is called,
    as they would at the end of a request."""

    def __init__(self):
        self._queued: list[QueuedTask] = []
        self._seen: dict[int, QueuedTask] = {}  # by id, held so that no id is reused
        self.ran: list[tuple[str, tuple]] = []

    def add(self, task: QueuedTask) -> None:
        # Once per task: a test's django_capture_on_commit_callbacks may run it again.
        if id(task) not in self._seen:
            self._seen[id(task)] = task
            self._queued.append(task)

    @property
    def queued(self) -> list[tuple[str, tuple]]:
        self._commit()
        return [(task.func, task.args) for task in self._queued]

    def args_of(self, func: str) -> list[tuple]:
        """The arguments of each queued call of `func`, in order."""
        return [args for queued_func, args in self.queued if queued_func == func]

    def delays_of(self, func: str) -> list[float]:
        """How long after its commit each queued call of `func` is to run, in order."""
        return [task.delay_seconds for task in self._queued_tasks() if task.func == func]

    def _queued_tasks(self) -> list[QueuedTask]:
        self._commit()
        return list(self._queued)

    def ran_of(self, func: str) -> list[tuple]:
        """The arguments of each run of `func`, in order."""
        return [args for ran_func, args in self.ran if ran_func == func]

    def clear(self) -> None:
        self._commit()
        self._queued.clear()

    def run(self) -> int:
        """Run every queued task, and what they queue; how many ran."""
        count = 0
        while self.queued:
            task = self._queued.pop(0)
            self.ran.append((task.func, task.args))
            import_string(task.func)(*task.args)
            count += 1
        return count

    def _commit(self) -> None:
        """Tasks waiting only for the test's own transaction (rolled-back ones Django has
        discarded already); none while a transaction of the code under test is open."""
        for alias in connections:
            connection = connections[alias]
            if not all(block._from_testcase for block in connection.atomic_blocks):
                continue
            for _savepoint_ids, callback, _robust in list(connection.run_on_commit):
                if isinstance(callback, QueuedTask):
                    self.add(callback)


@pytest.fixture
def tasks(monkeypatch):
    """The task queue: `tasks.queued`, `tasks.args_of(func)`, `tasks.run()`."""
    queue = TaskQueue()
    monkeypatch.setattr("integration_hub.services.jobs._task_send", queue.add)
    return queue


@pytest.fixture
def fresh_metrics(monkeypatch):
    """This process's metrics start from nothing counted (not what earlier tests counted),
    as a new process does; the store is returned (`fresh_metrics.deltas`)."""
    from integration_hub.metrics import instruments

    store = instruments.Store()
    monkeypatch.setattr(instruments, "store", store)
    return store


@pytest.fixture
def listener():
    """listener() → a local HTTP listener recording what it receives (closed after the test)."""
    started = []

    def start(**options) -> Listener:
        started.append(Listener(**options))
        return started[-1]

    yield start
    for each in started:
        each.close()


@pytest.fixture
def project_logging():
    """project_logging("json" | "text", level="DEBUG") → the lines the project's own LOGGING
    writes from then on (`.lines()`, `.objects()`, `.text`); logging is put back afterwards."""
    state = LoggingState.save()
    yield project_logging_configure
    state.restore()
