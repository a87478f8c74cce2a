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
