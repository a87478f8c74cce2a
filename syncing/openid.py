"""OpenID Connect (Core 1.0, Discovery 1.0) as a relying party that verifies an email and logs
nobody in (DESIGN.md, "Connections and inbound sync"): the authorization code flow with
PKCE, `state` and `nonce`, scope `openid email`, and the ID token checked before its email
counts.

Authlib builds the PKCE pair and joserfc (Authlib's JOSE) verifies the ID token. Authlib's
Django client is not used: it caches a provider's metadata forever once registered, checks
`aud` only when told to (and then drops its `iss` check), logs the code verifier at DEBUG
and has an HTTP session of its own. Here every call (discovery, JWKS, token) goes through
the core's outbound client and its network policy, discovery and keys are cached per
discovery URL for a few minutes, and each claim is checked explicitly.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from integration_hub.models import OAuthGrant
from integration_hub.outbound import OutboundClient, OutboundError, check_url, ensure_success
from integration_hub.outbound.auth import credential_load
from integration_hub.outbound.grants import authorization_code_exchange
from integration_hub.outbound.redaction import url_for_log
from integration_hub.system_settings import setting_get

from .models import IdentityProvider

logger = logging.getLogger("syncing.openid")

SCOPE = "openid email"
# Registered with every provider as `{SITE_URL}/identities/verify/email/callback`.
CALLBACK_PATH = "/identities/verify/email/callback"
# Discovery documents and key sets are kept this long; a key set is fetched again at once
# when a token names a key it does not hold (a provider rotating its keys).
METADATA_CACHE_SECONDS = 300
# Clock skew allowed on `exp` and `iat`.
LEEWAY_SECONDS = 60
# RFC 7636 4.1: 43 to 128 characters.
CODE_VERIFIER_LENGTH = 64
METADATA_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


class OpenIdRefused(Exception):
    """The flow verified nothing; the message says why, for the user (never a token)."""


@dataclass(frozen=True)
class ProviderMetadata:
    """What the hub uses of a discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    client_auth: str


@dataclass(frozen=True)
class OpenIdStart:
    """Where to send the user, and what the caller keeps (server side, once) until the
    callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str

    def __repr__(self) -> str:
        return "<OpenIdStart>"


@dataclass(frozen=True)
class VerifiedEmail:
    email: str
    subject: str


def openid_redirect_uri() -> str:
    return settings.SITE_URL.rstrip("/") + CALLBACK_PATH


def _cache_key(kind: str, url: str) -> str:
    return f"openid:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"


def _json_get(url: str, what: str) -> dict:
    try:
        response = ensure_success(
            OutboundClient().get(url, timeout=setting_get("OutboundTimeoutSeconds"))
        )
        body = response.json()
    except OutboundError as exc:
        raise OpenIdRefused(f"The provider's {what} could not be read: {exc}") from None
    except ValueError:
        raise OpenIdRefused(f"The provider's {what} at {url_for_log(url)} is not JSON.") from None
    if not isinstance(body, dict):
        raise OpenIdRefused(f"The provider's {what} at {url_for_log(url)} is not an object.")
    return body


def _metadata_parse(body: dict, discovery_url: str) -> ProviderMetadata:
    missing = [
        name for name in ("issuer", *METADATA_ENDPOINTS) if not isinstance(body.get(name), str)
    ]
    if missing:
        raise OpenIdRefused(
            f"The discovery document at {url_for_log(discovery_url)} lacks {', '.join(missing)}."
        )
    # Discovery 1.0 4.3: the issuer is the URL the document was read under, so that one
    # provider cannot speak for another.
    suffix = "/.well-known/openid-configuration"
    if (
        discovery_url.endswith(suffix)
        and body["issuer"].rstrip("/") != discovery_url[: -len(suffix)]
    ):
        raise OpenIdRefused(
            f"The discovery document at {url_for_log(discovery_url)} names another issuer "
            f"({url_for_log(body['issuer'])})."
        )
    # Discovery 1.0 3: both are JSON arrays of strings (a string is not iterated letter by
    # letter, nor a number met with a TypeError).
    for name in ("id_token_signing_alg_values_supported", "token_endpoint_auth_methods_supported"):
        value = body.get(name)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            raise OpenIdRefused(
                f"The discovery document at {url_for_log(discovery_url)}: {name} is not a list "
                "of strings."
            )
    # Never `none` (an unsigned token), whatever the document lists.
    algorithms = tuple(
        alg
        for alg in body.get("id_token_signing_alg_values_supported") or []
        if alg.lower() != "none"
    )
    if not algorithms:
        raise OpenIdRefused(
            f"The discovery document at {url_for_log(discovery_url)} lists no ID token signing "
            "algorithm the hub accepts."
        )
    # Core 1.0 9: client_secret_basic unless the provider supports only the form body.
    methods = body.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    client_auth = (
        OAuthGrant.ClientAuth.BODY
        if "client_secret_basic" not in methods and "client_secret_post" in methods
        else OAuthGrant.ClientAuth.BASIC
    )
    return ProviderMetadata(
        issuer=body["issuer"],
        authorization_endpoint=body["authorization_endpoint"],
        token_endpoint=body["token_endpoint"],
        jwks_uri=body["jwks_uri"],
        algorithms=algorithms,
        client_auth=client_auth,
    )


def provider_metadata(provider: IdentityProvider) -> ProviderMetadata:
    """The provider's discovery document, fetched through the outbound client (cached a few
    minutes per discovery URL, so a changed URL is read at once)."""
    key = _cache_key("discovery", provider.discovery_url)
    body = cache.get(key)
    if body is None:
        body = _json_get(provider.discovery_url, "discovery document")
        metadata = _metadata_parse(body, provider.discovery_url)
        cache.set(key, body, METADATA_CACHE_SECONDS)
        return metadata
    return _metadata_parse(body, provider.discovery_url)


def _key_set(metadata: ProviderMetadata, *, fresh: bool = False) -> KeySet:
    key = _cache_key("jwks", metadata.jwks_uri)
    body = None if fresh else cache.get(key)
    if body is None:
        body = _json_get(metadata.jwks_uri, "key set (JWKS)")
        cache.set(key, body, METADATA_CACHE_SECONDS)
    try:
        return KeySet.import_key_set(body)
    except (JoseError, KeyError, TypeError, ValueError):
        raise OpenIdRefused(
            f"The provider's key set at {url_for_log(metadata.jwks_uri)} holds no usable key."
        ) from None


def openid_start(*, provider: IdentityProvider, redirect_uri: str) -> OpenIdStart:
    """The provider's authorization URL (response_type=code, scope `openid email`, state,
    nonce and an S256 code challenge)."""
    metadata = provider_metadata(provider)
    state, nonce = generate_token(43), generate_token(43)
    code_verifier = generate_token(CODE_VERIFIER_LENGTH)
    query = {
        "response_type": "code",
        "client_id": provider.credential.client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPE,
        "state": state,
        "nonce": nonce,
        "code_challenge": create_s256_code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    try:
        check_url(metadata.authorization_endpoint)
    except OutboundError as exc:
        raise OpenIdRefused(f"The provider's authorization endpoint is refused: {exc}") from None
    parts = urlsplit(metadata.authorization_endpoint)
    url = urlunsplit(parts._replace(query="&".join(filter(None, [parts.query, urlencode(query)]))))
    return OpenIdStart(url=url, state=state, nonce=nonce, code_verifier=code_verifier)


def id_token_verify(
    *, provider: IdentityProvider, metadata: ProviderMetadata, id_token: str, nonce: str
) -> dict:
    """The ID token's claims once its signature (an algorithm the discovery lists, a key of
    the provider's JWKS, fetched again once for an unknown `kid`), `iss`, `aud`, `exp`, `iat`
    and `nonce` hold; OpenIdRefused naming the first that does not."""
    client_id = provider.credential.client_id
    try:
        try:
            token = jwt.decode(id_token, _key_set(metadata), algorithms=list(metadata.algorithms))
        except InvalidKeyIdError:
            token = jwt.decode(
                id_token, _key_set(metadata, fresh=True), algorithms=list(metadata.algorithms)
            )
    except InvalidKeyIdError:
        raise OpenIdRefused(
            "The ID token is signed with a key the provider does not publish."
        ) from None
    except JoseError as exc:
        raise OpenIdRefused(f"The ID token's signature does not verify ({exc.error}).") from None
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": metadata.issuer},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ClaimError as exc:
        raise OpenIdRefused(
            f"The ID token's {exc.claim} claim does not hold ({exc.error})."
        ) from None
    # Core 1.0 3.1.3.7: with several audiences, the token was issued for `azp`.
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
        raise OpenIdRefused("The ID token was issued for another client (azp).")
    return claims


def openid_finish(
    *,
    provider: IdentityProvider,
    code: str,
    code_verifier: str,
    nonce: str,
    redirect_uri: str,
) -> VerifiedEmail:
    """Exchange the code (with its verifier) outside any transaction, verify the ID token, and
    return its email when the provider says it verified it (`email_verified` the JSON value
    true); OpenIdRefused otherwise."""
    metadata = provider_metadata(provider)
    credential = credential_load(provider.credential.map_name, provider.credential.key_name)
    try:
        token = authorization_code_exchange(
            token_url=metadata.token_endpoint,
            credential=credential,
            client_auth=metadata.client_auth,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
            timeout=setting_get("OutboundTimeoutSeconds"),
        )
    except OutboundError as exc:
        raise OpenIdRefused(f"The provider did not exchange the code: {exc}") from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise OpenIdRefused("The provider answered without an ID token.")
    claims = id_token_verify(provider=provider, metadata=metadata, id_token=id_token, nonce=nonce)
    email = claims.get("email")
    if claims.get("email_verified") is not True:
        raise OpenIdRefused(
            f"{provider.name} did not say it verified the email "
            f"(email_verified is {json.dumps(claims.get('email_verified'))})."
        )
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        raise OpenIdRefused(f"{provider.name} gave no usable email.")
    logger.info("Identity provider %s verified an email", provider.pk)
    return VerifiedEmail(email=email.strip().lower(), subject=str(claims.get("sub", "")))
