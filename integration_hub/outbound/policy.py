"""The network policy every outbound URL passes (DESIGN.md, "Outbound HTTP").

Two checks:
- `check_url`: the URL itself (scheme, host present, no credentials in it, a literal IP
  address in an allowed class). Used when an admin saves an endpoint; needs no DNS.
- `check_address`: every address a host name resolves to, at connection time, so that a
  name that resolves to a private address is refused too (see outbound.transport).

Loopback, private, link-local (which holds the cloud metadata address 169.254.169.254),
shared (CGNAT), multicast, reserved and unspecified addresses are refused unless
OUTBOUND_ALLOW_PRIVATE_NETWORKS is on. An IPv4-mapped IPv6 address is judged as the IPv4
address it carries. Decimal, hex and octal spellings of IPv4 (2130706433, 0x7f000001,
0177.0.0.1) resolve to the same addresses and are refused on the resolved address.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings

from .errors import OutboundPolicyError


def _private_networks_allowed() -> bool:
    return settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS


def _https_required() -> bool:
    return settings.OUTBOUND_REQUIRE_HTTPS


# NAT64 (RFC 6052): on an IPv6-only host DNS64 answers these for IPv4-only partners; the
# gateway connects to the IPv4 address in the last 32 bits, so that address is judged.
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


def address_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_is_public(address.ipv4_mapped)
        if address in _NAT64_PREFIX:
            return address_is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None or address.teredo is not None:
            return False
        if address.is_site_local:
            return False
    # is_global alone lets through multicast and, on Python 3.11, reserved IPv6 ranges such
    # as IPv4-compatible ::127.0.0.1 (::/8).
    return address.is_global and not (address.is_multicast or address.is_reserved)


def check_address(host: str, address: str) -> None:
    """Refuse `address` (one resolved address of `host`) unless it is public or allowed."""
    if _private_networks_allowed():
        return
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not address_is_public(ip):
        raise OutboundPolicyError(
            f"{host} resolves to {ip}, a non-public address; outbound calls to loopback, "
            "private, link-local and reserved networks are refused "
            "(OUTBOUND_ALLOW_PRIVATE_NETWORKS is off)."
        )


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url: str) -> None:
    """Refuse a URL that the policy can refuse without resolving it."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        # Not the URL itself: its query string may hold a key.
        raise OutboundPolicyError(f"The URL is not valid: {exc}.") from exc
    allowed_schemes = ("https",) if _https_required() else ("https", "http")
    if parts.scheme not in allowed_schemes:
        allowed = " and ".join(allowed_schemes)
        raise OutboundPolicyError(
            f"Only {allowed} URLs are allowed, not {parts.scheme or 'none'!r}."
        )
    if not parts.hostname:
        raise OutboundPolicyError("The URL has no host name.")
    if parts.username or parts.password:
        raise OutboundPolicyError("Credentials may not be written into the URL.")
    if port == 0:
        raise OutboundPolicyError("Port 0 is not a valid destination port.")
    ip = _literal_ip(parts.hostname)
    if ip is not None:
        check_address(parts.hostname, str(ip))


_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_origin(url: str) -> str:
    """The origin of a URL (RFC 6454): scheme, host and port, lowercased, with the default
    port spelled out, so that https://Api.example.com/v1 and https://api.example.com:443/x
    are the same origin. "" for a URL without a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    if not parts.hostname:
        return ""
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS.get(scheme, 0)}"
