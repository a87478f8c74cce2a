from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from integration_hub.middleware import BODY_LIMIT_MESSAGE
from integration_hub.services import errors as services_errors


def exception_handler(exc, context):
    """DRF's handler, plus: a service's Django ValidationError is a 400 naming its fields (409
    when the value exists already, 404 when an id names nothing), a service's PermissionDenied
    is a 403 (naming each field when it would change where a secret goes), a disabled
    integration that a call would reach is a 409 naming it, and an oversized body is a 413."""
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": BODY_LIMIT_MESSAGE}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, services_errors.AlreadyExists):
        exc = Conflict(exc.message_dict)
    elif isinstance(exc, services_errors.IntegrationDisabled):
        exc = Conflict(str(exc))
    elif isinstance(exc, services_errors.NamesNothing):
        exc = NamesNothing(exc.message_dict)
    elif isinstance(exc, services_errors.SecretRoutingRefused):
        exc = exceptions.PermissionDenied(exc.message_dict)
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


class Conflict(exceptions.APIException):
    """A resource with that business key exists already, or a run is going on (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "It exists already."
    default_code = "conflict"


class NamesNothing(exceptions.APIException):
    """An id given in the body names no record (404, the body naming the field)."""

    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "Not found."
    default_code = "not_found"


def serializer_validated(serializer) -> dict:
    """`serializer`'s validated data, or its refusal as DESIGN.md says: 409 when every refused
    value is one that must be unique and exists already, 404 when every refused value is an id
    that names nothing, else 400; each naming its fields."""
    if serializer.is_valid():
        return serializer.validated_data
    codes = set(_error_codes(serializer.errors))
    if codes == {"unique"}:
        raise Conflict(serializer.errors)
    if codes == {"does_not_exist"}:
        raise NamesNothing(serializer.errors)
    raise exceptions.ValidationError(serializer.errors)


def _error_codes(errors):
    if isinstance(errors, dict):
        for value in errors.values():
            yield from _error_codes(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from _error_codes(value)
    else:
        yield getattr(errors, "code", None)
