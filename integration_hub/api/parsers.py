"""JSON request bodies for every API (DESIGN.md, "REST API"): a body that cannot be parsed, or
that is nested more than 64 levels deep, is a 400 naming the problem, never a 500 (Python's
parser raises RecursionError long before a 2.5 MB body runs out)."""

from django.conf import settings
from djangorestframework_camel_case.parser import CamelCaseJSONParser
from djangorestframework_camel_case.settings import api_settings as camel_case_settings
from djangorestframework_camel_case.util import underscoreize
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

MAX_DEPTH = 64


def json_loads_bounded(text: str):
    """The JSON value `text` holds, refused (ParseError) when it is not JSON or is nested
    more than MAX_DEPTH levels."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels.") from None
    except ValueError as exc:
        raise ParseError(f"JSON parse error - {exc}") from None
    if _depth_exceeds(value, MAX_DEPTH):
        raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels.")
    return value


def _depth_exceeds(value, limit: int) -> bool:
    """Whether arrays and objects nest deeper than `limit` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _body_text(stream, parser_context) -> str:
    encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
    try:
        return stream.read().decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseError(f"JSON parse error - {exc}") from None


class JSONParser(parsers.JSONParser):
    """Plain JSON, as the /v2.1/ contract takes it."""

    def parse(self, stream, media_type=None, parser_context=None):
        return json_loads_bounded(_body_text(stream, parser_context))


class CamelCaseJSONBoundedParser(CamelCaseJSONParser):
    """camelCase JSON, as /api/v1/ takes it: names become snake_case once parsed."""

    def parse(self, stream, media_type=None, parser_context=None):
        value = json_loads_bounded(_body_text(stream, parser_context))
        return underscoreize(value, **camel_case_settings.JSON_UNDERSCOREIZE)
