"""Log lines (DESIGN.md "Running" → "Operations"; README "Operating the hub" → "Logs").

`LOG_FORMAT=text` (the default) writes readable lines; `LOG_FORMAT=json` one JSON object per
line with `time`, `level`, `logger`, `message`, and `requestId` / `taskId` where known. The
settings' LOGGING names the two formatters below; nothing here imports a model, because
logging is configured before the apps are loaded.

Where the ids come from:
- `RequestIdMiddleware` (first in MIDDLEWARE) takes a sane incoming `X-Request-ID` or makes
  one, keeps it for the request in a context variable and echoes it on the response. It is
  cleared when the response is closed (`request_finished`), after Django's own
  `django.request` and `django.server` lines for that request, so those carry it too.
- django-q2's `pre_execute` sets the task's id and name in the worker process; the worker's
  `post_execute_in_worker` clears them. (`post_execute` is sent by the cluster's monitor
  process, not by the worker that ran the task and logged its lines.)

Reading the context when a line is formatted is right for the handlers configured here
(a StreamHandler formats in the thread that logs). A thread started during a request or a
task starts with an empty context: its lines carry no id unless it runs in a copy
(`contextvars.copy_context().run`).
"""

import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is used only if it is this: anything else (too long, spaces, line breaks,
# markup) is replaced by a new id, so that no caller writes what they like into the log.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,200}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_task_id: ContextVar[str | None] = ContextVar("task_id", default=None)
_task_name: ContextVar[str | None] = ContextVar("task_name", default=None)


def request_id_current() -> str | None:
    return _request_id.get()


def task_id_current() -> str | None:
    return _task_id.get()


def request_id_from_header(value: str | None) -> str:
    """The incoming id if it is sane, else a new one (uuid4 hex)."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives every request an id (`request.request_id`), carried by every line logged while
    it is handled and echoed in the response's X-Request-ID.

    It depends on nothing else in MIDDLEWARE: place it first, so that responses that other
    middleware answer by themselves (health probes, 413s) carry the header too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from_header(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        _request_id.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def request_context_clear(**kwargs) -> None:
    """request_finished: the response is closed; lines after it belong to no request."""
    _request_id.set(None)


def task_context_set(sender=None, task=None, **kwargs) -> None:
    """django-q2 pre_execute, in the worker process, just before the task's function runs."""
    task = task or {}
    _task_id.set(str(task["id"]) if task.get("id") else None)
    _task_name.set(str(task["name"]) if task.get("name") else None)


def task_context_clear(**kwargs) -> None:
    """django-q2 post_execute_in_worker, in the same worker process, once the task is done."""
    _task_id.set(None)
    _task_name.set(None)


def _context_fields() -> dict[str, str]:
    fields = {}
    if (request_id := _request_id.get()) is not None:
        fields["requestId"] = request_id
    if (task_id := _task_id.get()) is not None:
        fields["taskId"] = task_id
        if (task_name := _task_name.get()) is not None:
            fields["taskName"] = task_name
    return fields


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [req=…]: message` (or `[task=…]`), tracebacks on the lines below."""

    def __init__(self, fmt=None, datefmt=None, style="%", **kwargs):
        fmt = fmt or "%(asctime)s %(levelname)s %(name)s%(_context)s: %(message)s"
        super().__init__(fmt, datefmt, style, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        context = _context_fields()
        marks = []
        if "requestId" in context:
            marks.append(f"req={context['requestId']}")
        if "taskId" in context:
            marks.append(f"task={context['taskId']}")
        # Underscored: the JSON formatter leaves such attributes out.
        record._context = f" [{' '.join(marks)}]" if marks else ""
        return super().format(record)


# Extra fields are written only when their value is one of these: an object's str() (a
# request, a socket) can hold a query string, headers or a secret.
_PLAIN_VALUES = (str, int, float, bool, type(None))
_OWN_FIELDS = ("time", "level", "logger", "message", "requestId", "taskId", "taskName")


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per line: `time` (ISO 8601, UTC), `level`, `logger`, `message`,
    `requestId` / `taskId` / `taskName` where known, the plain `extra=` fields of the call
    (an outbound call's `method`, `host`, `path`, `status`, `ms`), and `exception` (the whole
    traceback, as one string) or `stack`.

    python-json-logger copies every non-standard attribute of a record into the object;
    Django puts its request (whose str() holds the query string) and runserver its socket on
    theirs, so only plain values are kept."""

    def __init__(self, *args, **kwargs):
        # taskName is a record attribute from Python 3.12 on (asyncio's); ours is the task's.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "taskName"])
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        log_data.update(_context_fields())
        extra: dict = {}
        super().add_fields(extra, record, message_dict)
        exception = extra.pop("exc_info", None)
        stack = extra.pop("stack_info", None)
        for key, value in extra.items():
            if key not in _OWN_FIELDS and isinstance(value, _PLAIN_VALUES):
                log_data[key] = value
        if exception:
            log_data["exception"] = exception
        if stack:
            log_data["stack"] = stack


_QUERY = re.compile(r"\?.*?(?=\sHTTP/[0-9.]+\Z|\Z)", re.DOTALL)


def _query_redacted(value: object) -> object:
    if isinstance(value, str) and "?" in value:
        return _QUERY.sub("?<redacted>", value)
    return value


class QueryStringFilter(logging.Filter):
    """Replace query strings in a record's arguments with `?<redacted>`: partners put keys in
    them, and the hub's own URLs carry OAuth codes and personal numbers (the sandbox's
    account search). For urllib3's request lines and runserver's access lines
    (`"GET /path?… HTTP/1.1" 200 12`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_query_redacted(arg) for arg in record.args)
        return True
