from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from integration_hub.crypto import EncryptedTextField
from integration_hub.models import DEFAULT_CREDENTIAL_MAP as DEFAULT_MAP
from integration_hub.models import Credential
from integration_hub.roles import user_may_save_secrets

from .audit import audit_record

SECRET_FIELDS = ("client_secret", "api_key", "refresh_token")


def _ensure_may_save(acting_user) -> None:
    # acting_user None is an operator at the shell (manage.py), who holds the keys anyway.
    if acting_user is not None and not user_may_save_secrets(acting_user):
        raise PermissionDenied("Only System Admin may save credentials.")


def _clean_name(field: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: ["This field is required."]})
    if len(value) > 100:
        raise ValidationError({field: ["Ensure this field has no more than 100 characters."]})
    return value


def credential_input_validate(
    *,
    map_name: str,
    key_name: str,
    client_id: str | None,
    client_secret: str | None,
    api_key: str | None,
    refresh_token: str | None,
) -> tuple[str, str, str | None]:
    """The rules of a credential save, for the service and for forms that show errors early.

    Returns the cleaned map name, key name and client id; raises ValidationError naming the
    field (camelCase, as the API and CLI name it)."""
    map_name = _clean_name("mapName", map_name)
    key_name = _clean_name("keyName", key_name)
    client_id = client_id.strip() if client_id is not None else None
    if client_id is not None or client_secret is not None:
        # Reference 003: saving needs both the client ID and the secret.
        for name, value in (("clientId", client_id), ("clientSecret", client_secret)):
            if not value:
                raise ValidationError(
                    {name: ["A client ID and its secret are saved together: enter both."]}
                )
    if client_id is None and api_key is None and refresh_token is None:
        raise ValidationError(
            {
                "clientId": [
                    "Nothing to save: give client credentials, an API key or a refresh token."
                ]
            }
        )
    for name, value in (("apiKey", api_key), ("refreshToken", refresh_token)):
        if value is not None and not value.strip():
            raise ValidationError({name: ["Must not be blank."]})
    return map_name, key_name, client_id


@transaction.atomic
def credential_set(
    *,
    map_name: str = DEFAULT_MAP,
    key_name: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    api_key: str | None = None,
    refresh_token: str | None = None,
    acting_user=None,
) -> Credential:
    """Save secrets into the credential store entry (map_name, key_name).

    Reference 003: client credentials are saved only when both the client id and the secret
    are given. An API key or a refresh token is saved on its own. Fields left None keep
    their stored value. Cached tokens of the entry are dropped, since they came from the
    old secrets.
    """
    _ensure_may_save(acting_user)
    map_name, key_name, client_id = credential_input_validate(
        map_name=map_name,
        key_name=key_name,
        client_id=client_id,
        client_secret=client_secret,
        api_key=api_key,
        refresh_token=refresh_token,
    )
    credential, _ = Credential.objects.select_for_update().get_or_create(
        map_name=map_name, key_name=key_name
    )
    changed = []
    if client_id is not None:
        credential.client_id = client_id
        credential.client_secret = client_secret
        changed += ["clientId", "clientSecret"]
    if api_key is not None:
        credential.api_key = api_key.strip()
        changed.append("apiKey")
    if refresh_token is not None:
        credential.refresh_token = refresh_token.strip()
        changed.append("refreshToken")
    credential.updated_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    credential.save()
    credential.tokens.all().delete()
    audit_record(
        actor=acting_user,
        action="credential.saved",
        target=str(credential),
        details={"fields": changed},
    )
    return credential


def credential_store_refresh_token(*, credential: Credential, refresh_token: str) -> None:
    """Keep the refresh token a token endpoint rotated (no user involved)."""
    # update() encrypts through the field, like save().
    Credential.objects.filter(pk=credential.pk).update(refresh_token=refresh_token)


@transaction.atomic
def credential_delete(*, map_name: str = DEFAULT_MAP, key_name: str, acting_user=None) -> None:
    _ensure_may_save(acting_user)
    deleted, _ = Credential.objects.filter(map_name=map_name, key_name=key_name).delete()
    if not deleted:
        raise ValidationError({"keyName": [f"No credential {map_name}/{key_name} is stored."]})
    audit_record(actor=acting_user, action="credential.deleted", target=f"{map_name}/{key_name}")


def _encrypted_fields():
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            yield model, names


@transaction.atomic
def credential_rotate(*, acting_user=None) -> int:
    """Re-encrypt every stored secret (credentials, tokens, secret settings, any model with an
    encrypted field) under the first key of FIELD_ENCRYPTION_KEYS. Returns how many values
    were re-encrypted. A value no key can read stops the rotation and changes nothing."""
    _ensure_may_save(acting_user)
    count = 0
    for model, names in _encrypted_fields():
        for obj in model._base_manager.select_for_update().all().iterator(chunk_size=500):
            present = [name for name in names if getattr(obj, name)]
            if present:
                # Reading decrypted with any key; saving encrypts under the first.
                model._base_manager.filter(pk=obj.pk).update(
                    **{name: getattr(obj, name) for name in present}
                )
                count += len(present)
    audit_record(actor=acting_user, action="credential.rotated", details={"values": count})
    return count
