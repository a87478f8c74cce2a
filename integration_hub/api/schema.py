from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework.settings import api_settings


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus: a list under /api/v1/ is documented as the page it is.

    DESIGN.md "REST API": every list under /api/v1/ answers {count, next, previous, results}
    and takes ?page=&pageSize=. Plain APIViews page by hand with the default paginator and have
    no `pagination_class` for drf-spectacular to see, so it would document a bare array.
    Lists under /v2.1/ are bare arrays and stay so.
    """

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
