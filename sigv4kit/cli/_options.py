"""Signing options shared by ``request``, ``presign`` and ``explain``."""

from __future__ import annotations

import argparse
import os

from .._exceptions import CredentialsError
from ..client import (
    CredentialsProvider,
    EndpointInferenceError,
    default_credentials_provider,
    infer_region_service,
)
from ..signing._credentials import Credentials
from ._common import CLIError, ExitCode, scope_part

__all__ = ["add_common_signing_options", "credentials_source", "parse_headers", "scope_from"]


def add_common_signing_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``request`` and ``presign``."""
    p.add_argument("method", help="HTTP method")
    p.add_argument("url", help="the URL")
    p.add_argument(
        "--region", default=None, type=scope_part, help="region (region set with --sigv4a)"
    )
    p.add_argument(
        "--service", default=None, type=scope_part, help="signing name of the service"
    )
    p.add_argument("--s3", action="store_true", help="S3 rules (single encoding, no normalize)")
    p.add_argument("--sigv4a", action="store_true", help="SigV4A (ECDSA P-256)")
    p.add_argument("--profile", default=None, help="profile of ~/.aws/credentials and config")
    p.add_argument("--access-key-id", default=None)
    p.add_argument("--secret-access-key", default=None)
    p.add_argument("--session-token", default=None)
    p.add_argument("-H", "--header", action="append", default=[], metavar="'Name: value'")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def scope_from(args: argparse.Namespace, host: str) -> tuple[str, str]:
    """The region and service: given, else inferred from the host name."""
    region, service = args.region, args.service
    if region is None or service is None:
        try:
            inferred_region, inferred_service = infer_region_service(host)
        except EndpointInferenceError as exc:
            env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            if service is not None and env_region:
                return region or env_region, service
            raise CLIError(str(exc), ExitCode.USAGE) from None
        region = region or inferred_region
        service = service or inferred_service
    return region, service


def credentials_source(args: argparse.Namespace) -> Credentials | CredentialsProvider:
    """Explicit keys, else the default chain (with ``--profile``)."""
    if args.access_key_id or args.secret_access_key:
        # One given on the command line, the other from the environment (a
        # secret pasted for one call, the key id exported) is a complete pair.
        akid = args.access_key_id or os.environ.get("AWS_ACCESS_KEY_ID")
        secret = args.secret_access_key or os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not (akid and secret):
            raise CLIError(
                "pass both --access-key-id and --secret-access-key (or set "
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for the other one)",
                ExitCode.USAGE,
            )
        token = args.session_token or os.environ.get("AWS_SESSION_TOKEN") or None
        try:
            return Credentials(akid, secret, token)
        except CredentialsError as exc:
            raise CLIError(str(exc), ExitCode.USAGE) from None
    provider = default_credentials_provider(args.profile)
    try:
        provider.resolve()
    except CredentialsError as exc:
        raise CLIError(f"no credentials: {exc}", ExitCode.USAGE) from None
    return provider


def parse_headers(values: list[str]) -> list[tuple[str, str]]:
    """``Name: value`` options as pairs."""
    headers = []
    for item in values:
        name, colon, value = item.partition(":")
        if not colon or not name.strip():
            raise CLIError(f"bad header {item!r}: expected 'Name: value'", ExitCode.USAGE)
        headers.append((name.strip(), value.strip()))
    return headers
