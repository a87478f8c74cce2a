"""What a service raises when a write cannot be made for a reason its caller answers
differently from invalid input."""

from django.core.exceptions import PermissionDenied, ValidationError

from integration_hub.roles import user_may_save_secrets


class AlreadyExists(ValidationError):
    """The record would repeat a business key that exists (an existing customerId or
    retailTransactionId): a conflict (409) to the API. A ValidationError still, naming the
    field, so that forms and batch import report it as they report any refused value."""


class NamesNothing(ValidationError):
    """An id the caller gave names no record (customer ids to merge that the subscriber does not
    have): 404 to the API, naming the field; a ValidationError still for forms and batch
    import."""


class IntegrationDisabled(Exception):
    """A disabled integration is never called (DESIGN.md, "Connections and inbound sync"): a
    conflict (409) to the API, the message naming the integration."""

    def __init__(self, *names: str):
        self.names = tuple(names)
        if len(self.names) == 1:
            message = f"The integration {self.names[0]} is disabled."
        else:
            message = f"The integrations {', '.join(self.names)} are disabled."
        super().__init__(message)


def integration_enabled_guard(*, integration) -> None:
    """Refuse to call `integration` when it is disabled: the one check before every call to a
    partner (each call reads the integration row it was given, so pass a fresh one)."""
    if not integration.enabled:
        raise IntegrationDisabled(integration.name)


SECRET_ROUTING_MESSAGE = "Only System Admin may decide where a secret goes."  # noqa: S105


class SecretRoutingRefused(PermissionDenied):
    """Someone other than System Admin tried to set, change or clear a field that decides
    which host receives a credential, a token or a grant (DESIGN.md, "Roles"): 403 to the
    API, with the body naming each field as the API names it."""

    def __init__(self, fields):
        self.fields = tuple(fields)
        super().__init__(f"{', '.join(self.fields)}: {SECRET_ROUTING_MESSAGE}")

    @property
    def message_dict(self) -> dict[str, list[str]]:
        return {field: [SECRET_ROUTING_MESSAGE] for field in self.fields}


def secret_routing_guard(*, acting_user, fields) -> None:
    """Refuse a change to where a secret goes unless System Admin makes it. `fields` are the
    API names of the secret-routing fields whose value would change; the shell (acting_user
    None) acts as the operator and may change them."""
    fields = sorted(fields)
    if fields and acting_user is not None and not user_may_save_secrets(acting_user):
        raise SecretRoutingRefused(fields)
