"""What a service raises when a write cannot be made for a reason its caller answers
differently from invalid input."""

from django.core.exceptions import ValidationError


class AlreadyExists(ValidationError):
    """The record would repeat a business key that exists (an existing customerId or
    retailTransactionId): a conflict (409) to the API. A ValidationError still, naming the
    field, so that forms and batch import report it as they report any refused value."""


class NamesNothing(ValidationError):
    """An id the caller gave names no record (customer ids to merge that the subscriber does not
    have): 404 to the API, naming the field; a ValidationError still for forms and batch
    import."""
