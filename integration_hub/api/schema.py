from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework.settings import api_settings

from integration_hub.api.ids import ID_MAXIMUM

THROTTLED = {
    "description": "Too many requests: wait the seconds Retry-After gives, then try again.",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before the next request.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
            }
        }
    },
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus what every operation of this API promises:

    - a list under /api/v1/ is documented as the page it is. DESIGN.md "REST API": every list
      under /api/v1/ answers {count, next, previous, results} and takes ?page=&pageSize=. Plain
      APIViews page by hand with the default paginator and have no `pagination_class` for
      drf-spectacular to see, so it would document a bare array. Lists under /v2.1/ are bare
      arrays and stay so;
    - any operation may answer 429 with Retry-After (the throttle stands before every view);
    - an integer id in a path is at least 1 and at most 18 digits (`ids.ID`).
    """

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        operation.setdefault("responses", {}).setdefault("429", THROTTLED)
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter.get("in") == "path" and schema.get("type") == "integer":
                schema.setdefault("minimum", 1)
                schema.setdefault("maximum", ID_MAXIMUM)
        return operation

    def _get_paginator(self):
        paginator = super()._get_paginator()
        if paginator is None and self.path.startswith("/api/v1/"):
            return api_settings.DEFAULT_PAGINATION_CLASS()
        return paginator

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        is_paged_list = self.method == "GET" and self._is_list_view() and self._get_paginator()
        if is_paged_list:
            responses.setdefault("400", {"description": "page or pageSize is not a number >= 1."})
            responses.setdefault("404", {"description": "The page is past the last one."})
        return responses


# DRF's CharField refuses a null character in any string, and a blank one ("", or only spaces,
# which it trims) where blanks are not allowed (drf-spectacular writes minLength 1 there).
NO_NULL_CHARACTER = r"^[^\u0000]*$"
NOT_BLANK = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"


def request_strings_declared(result, generator, request, public):
    """drf-spectacular postprocessing hook: every free-text string a request may carry says
    what DRF refuses in it (a null character; blanks where they are not allowed), so that a
    body the schema calls valid is never refused with 400 for it."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _strings_declared(schema)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            body = operation.get("requestBody", {}) if isinstance(operation, dict) else {}
            for media in body.get("content", {}).values():
                _strings_declared(media.get("schema"))
    return result


def _strings_declared(schema) -> None:
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    constrained = {"pattern", "enum", "format"} & schema.keys()
    if schema.get("type") == "string" and not constrained:
        schema["pattern"] = NOT_BLANK if schema.get("minLength", 0) >= 1 else NO_NULL_CHARACTER
    for sub in schema.get("properties", {}).values():
        _strings_declared(sub)
    for key in ("items", "additionalProperties"):
        _strings_declared(schema.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            _strings_declared(sub)
