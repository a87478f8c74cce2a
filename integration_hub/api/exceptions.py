from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from integration_hub.middleware import BODY_LIMIT_MESSAGE


def exception_handler(exc, context):
    """DRF's handler, plus: a service's Django ValidationError is a 400 naming its fields,
    a service's PermissionDenied is a 403, and an oversized body is a 413."""
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": BODY_LIMIT_MESSAGE}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)
