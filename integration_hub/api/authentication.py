"""API token authentication (DESIGN.md, "REST API"): `Authorization: Token KEY` or
`Authorization: Bearer KEY`, checked against knox's digests in `ApiToken`."""

import re
from hmac import compare_digest

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework.exceptions import AuthenticationFailed

from integration_hub.models import ApiToken

KEYWORDS = ("token", "bearer")
# What a token can look like: the hex of knox's tokens and of the DRF keys carried over.
# Anything else is refused before it reaches the database (a NUL byte, say, that PostgreSQL
# would refuse with an error, or a megabyte of text).
TOKEN_SHAPE = re.compile(r"[0-9A-Za-z_-]{1,128}")
INVALID = "Invalid token."


def token_last_used_record(token: ApiToken) -> None:
    """Record the token's use to the minute: one write per token per minute at most, however
    busy its client."""
    minute = timezone.now().replace(second=0, microsecond=0)
    if token.last_used != minute:
        ApiToken.objects.filter(pk=token.pk).update(last_used=minute)
        token.last_used = minute


class TokenOrBearerAuthentication(TokenAuthentication):
    """knox's token authentication, with both keywords, tokens that never expire unless made
    to, and last use recorded.

    knox's own `authenticate_credentials` deletes expired tokens as it meets them (without an
    audit row, and out of their owner's list), fails with a server error on a header that is
    not UTF-8, and records no use, so the lookup is done here, with knox's digest."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if isinstance(header, bytes):
            header = header.decode("latin-1")
        parts = header.split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                "Invalid token header: send `Token KEY` or `Bearer KEY`, one key, no spaces."
            )
        return self.authenticate_credentials(parts[1])

    def authenticate_credentials(self, token: str):
        if not TOKEN_SHAPE.fullmatch(token):
            raise AuthenticationFailed(INVALID)
        digest = hash_token(token)
        candidates = ApiToken.objects.filter(
            token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH]
        ).select_related("user")
        for candidate in candidates:
            if not compare_digest(digest, candidate.digest):
                continue
            if candidate.expiry is not None and candidate.expiry <= timezone.now():
                raise AuthenticationFailed("Token expired.")
            user, _ = self.validate_user(candidate)
            token_last_used_record(candidate)
            return user, candidate
        raise AuthenticationFailed(INVALID)

    def authenticate_header(self, request):
        return "Token"


class TokenOrBearerScheme(OpenApiAuthenticationExtension):
    """The schema's two ways of sending a token: either one will do."""

    target_class = TokenOrBearerAuthentication
    name = ["tokenAuth", "bearerAuth"]

    def get_security_requirement(self, auto_schema):
        return [{"tokenAuth": []}, {"bearerAuth": []}]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "An API token with its keyword: `Token KEY`. Create tokens at "
                "/tokens/ or with `manage.py tokens create`.",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "description": "The same API token, sent as `Bearer KEY`.",
            },
        ]
