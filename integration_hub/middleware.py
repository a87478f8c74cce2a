import json

from django.conf import settings
from django.http import HttpResponse

BODY_LIMIT_MESSAGE = "The request body is larger than 2.5 MB."


class RequestBodyLimitMiddleware:
    """Answer 413 before reading an API body whose declared length is over the limit.

    The admin is left alone: its upload forms stream files to disk instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE and not request.path.startswith("/admin/"):
            return HttpResponse(
                json.dumps({"detail": BODY_LIMIT_MESSAGE}),
                status=413,
                content_type="application/json",
            )
        return self.get_response(request)
