"""Request intake: the request as the client signed it, proxies, and what logs may name.

* :func:`signed_request` builds the :class:`~sigv4kit.SignedRequest` from an
  ASGI scope (raw path, ``:authority`` as ``host``, and behind a trusted
  proxy the ``X-Forwarded-Host/Proto/Port`` the client really addressed);
* :func:`is_cors_preflight` recognises the unsigned preflights browsers send;
* :func:`claimed_access_key_id` is the only part of a request a refusal log
  names.

Imports: the core (``sigv4kit``) and :mod:`.types`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote_to_bytes

from sigv4kit import SignedRequest

from .types import Scope

__all__ = [
    "TrustedProxies",
    "claimed_access_key_id",
    "claimed_scope",
    "forwarded_host",
    "header_value",
    "is_cors_preflight",
    "is_trusted",
    "parse_trusted_proxies",
    "signed_request",
]

TrustedProxies = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
_HEADER_CREDENTIAL = re.compile(rb"Credential=([^,\s]*)")
# Where the credential scope starts: "/YYYYMMDD/" (a key id may contain "/").
_SCOPE_START = re.compile(r"/\d{8}/")
_MAX_LOGGED_KEY_ID = 128


def parse_trusted_proxies(addresses: Iterable[str]) -> TrustedProxies:
    """Addresses or networks (``10.0.0.0/8``) as networks; ValueError for a malformed one."""
    return tuple(ipaddress.ip_network(address, strict=False) for address in addresses)


def header_value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def claimed_access_key_id(scope: Scope) -> str:
    """The access key id a request claims (its credential's first part), for logs.

    Only the key id: never the signature, the session token or the rest of
    the request. Printable characters only and bounded, so a forged value
    cannot forge log lines; ``-`` when there is none.
    """
    key_id = _SCOPE_START.split(_claimed_credential(scope), maxsplit=1)[0]
    key_id = "".join(ch for ch in key_id[:_MAX_LOGGED_KEY_ID] if ch.isprintable() and ch != " ")
    return key_id or "-"


def claimed_scope(scope: Scope) -> tuple[str | None, str | None]:
    """``(region, service)`` of the credential scope a request claims
    (``KEY/DATE/REGION/SERVICE/aws4_request``), for the audit trail of a refused
    request; None for a part that is missing or not a plain name."""
    parts = _SCOPE_START.split(_claimed_credential(scope), maxsplit=1)
    names = parts[1].split("/")[:2] if len(parts) == 2 else []
    found = [n if 0 < len(n) <= 64 and n.replace("-", "").isalnum() else None for n in names]
    found += [None] * (2 - len(found))
    return found[0], found[1]


def _claimed_credential(scope: Scope) -> str:
    authorization = header_value(scope.get("headers", ()), b"authorization")
    if authorization is not None:
        match = _HEADER_CREDENTIAL.search(authorization)
        return match.group(1).decode("latin-1") if match else ""
    for piece in bytes(scope.get("query_string", b"")).split(b"&"):
        name, _, value = piece.partition(b"=")
        if unquote_to_bytes(name) == b"X-Amz-Credential":
            return unquote_to_bytes(value).decode("latin-1")
    return ""


def is_cors_preflight(scope: Scope) -> bool:
    """A real CORS preflight (Fetch standard, "CORS-preflight request").

    ``OPTIONS`` over HTTP with ``Origin`` and ``Access-Control-Request-Method``,
    and nothing a browser never puts in a preflight: no credentials (an
    ``Authorization`` header or presigned ``X-Amz-*`` parameters) and no body.
    """
    if scope.get("type") != "http" or scope.get("method") != "OPTIONS":
        return False
    headers = scope.get("headers", ())
    if (
        header_value(headers, b"origin") is None
        or header_value(headers, b"access-control-request-method") is None
        or header_value(headers, b"authorization") is not None
        or header_value(headers, b"transfer-encoding") is not None
        or (header_value(headers, b"content-length") or b"0").strip() != b"0"
    ):
        return False
    query = bytes(scope.get("query_string", b"")).lower()
    return b"x-amz-" not in query


def is_trusted(scope: Scope, trusted_proxies: TrustedProxies) -> bool:
    """True when the request came straight from one of ``trusted_proxies``."""
    client = scope.get("client")
    if not trusted_proxies or not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    return any(address in network for network in trusted_proxies)


def signed_request(scope: Scope, trusted_proxies: TrustedProxies) -> SignedRequest:
    """The request as the client signed it: raw path, query, headers, and the host it named."""
    raw_path = scope.get("raw_path")
    if not raw_path:
        # raw_path is optional in ASGI: re-encode the decoded path the way
        # the SDKs encode it (botocore quotes everything but "/" and "~").
        raw_path = quote(scope.get("path") or "/", safe="/~").encode("ascii")
    headers: list[tuple[bytes, bytes]] = list(scope.get("headers", ()))
    if header_value(headers, b"host") is None:
        # HTTP/2 and HTTP/3 carry the host as :authority; SigV4 signs it as host.
        authority = header_value(headers, b":authority")
        if authority is not None:
            headers.append((b"host", authority))
    if is_trusted(scope, trusted_proxies):
        headers = forwarded_host(headers, scope)
    return SignedRequest.from_wire(
        scope.get("method", "GET"), raw_path, scope.get("query_string", b""), headers
    )


def forwarded_host(headers: list[tuple[bytes, bytes]], scope: Scope) -> list[tuple[bytes, bytes]]:
    # The host the client signed is the one it sent to the first proxy; a
    # proxy that rewrites Host passes it on in X-Forwarded-Host (the last
    # value is the one our trusted proxy added).
    forwarded = header_value(headers, b"x-forwarded-host")
    if not forwarded:
        return headers
    host = forwarded.split(b",")[-1].strip()
    port = header_value(headers, b"x-forwarded-port")
    proto = header_value(headers, b"x-forwarded-proto")
    scheme = (proto or scope.get("scheme", "http").encode()).split(b",")[-1].strip().lower()
    has_port = host.rsplit(b"]", 1)[-1].count(b":") == 1
    if port and not has_port:
        port = port.split(b",")[-1].strip()
        if DEFAULT_PORTS.get(scheme.decode("latin-1")) != port.decode("latin-1"):
            host = host + b":" + port
    return [(name, value) for name, value in headers if name.lower() != b"host"] + [(b"host", host)]
