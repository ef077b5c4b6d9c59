"""``sigv4kit verify``: check a captured signed request like the middleware would."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
from typing import Any

from .._settings import SigningSettings
from ..explain._explain import recompute_signed
from ..verify._errors import SignatureDoesNotMatch, VerificationError
from ..verify._keys import KeyRecord
from ..verify._verifier import (
    DEFAULT_SERVICE_SETTINGS,
    Identity,
    SignedRequest,
    Verifier,
    VerifierConfig,
)
from ._common import (
    EXIT_CODES_HELP,
    CLIError,
    ExitCode,
    Streams,
    parse_time,
    read_request,
    write_sections,
)
from ._hook import load_verify_support

__all__ = ["add_parser", "run"]

EXAMPLES = """\
examples:
  sigv4kit verify captured.txt --secret-access-key "$SECRET" --time 2015-08-30T12:36:00Z
  sigv4kit verify - --store sqlite:///keys.db --service s3 --s3 < request.txt
  sigv4kit verify req.txt --store sqlite:///keys.db --region eu-west-1 --format json --json

The request is raw HTTP/1.1 text (request line, headers, blank line, body),
signed in its Authorization header or presigned in its query. The access key
id is the one in the request. --time defaults to now: pass the time the
request was captured at to verify it later. Exit code 4 when it does not verify.
"""

_FORMATS = ("s3-xml", "query-xml", "json")


def add_parser(sub: Any) -> None:
    """Register the ``verify`` subcommand."""
    p = sub.add_parser(
        "verify",
        help="verify a signed raw HTTP request",
        description=(
            "Verify a signed request with the same Verifier the middleware uses. Prints "
            "the identity, or the exact AWS error the middleware would answer (code, "
            "status, message and body), plus the canonical request and string to sign "
            "the verifier computed."
        ),
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", nargs="?", default="-", help="raw request file, or - for stdin")
    key = p.add_mutually_exclusive_group(required=True)
    key.add_argument("--secret-access-key", default=None, help="the key id's secret")
    key.add_argument("--store", default=None, help="access-key store URL (sqlite:///keys.db)")
    p.add_argument("--region", action="append", default=None, help="accepted region (repeat)")
    p.add_argument("--service", action="append", default=None, help="accepted service (repeat)")
    p.add_argument("--s3", action="store_true", help="S3 rules for every service")
    p.add_argument("--time", default=None, help="verification time, ISO 8601 (default now)")
    p.add_argument("--format", choices=_FORMATS, default="s3-xml", help="error body format")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def _config(args: argparse.Namespace) -> VerifierConfig:
    try:
        return VerifierConfig(
            regions=frozenset(args.region) if args.region else None,
            services=frozenset(args.service) if args.service else None,
            service_settings=DEFAULT_SERVICE_SETTINGS,
            default_settings=SigningSettings.s3() if args.s3 else SigningSettings(),
        )
    except ValueError as exc:
        raise CLIError(str(exc), ExitCode.USAGE) from None


def _identity_dict(identity: Identity) -> dict[str, Any]:
    return {
        "principal": identity.principal,
        "access_key_id": identity.access_key_id,
        "temporary": identity.temporary,
        "region": identity.region,
        "service": identity.service,
        "signed_headers": list(identity.signed_headers),
        "algorithm": identity.algorithm.value,
        "presigned": identity.presigned,
        "request_time": identity.request_time.isoformat(),
    }


def render_body(error: VerificationError, error_format: str) -> str:
    """The error body the middleware would send, in ``error_format`` (server half)."""
    return load_verify_support().render_error(error, error_format)


def run(args: argparse.Namespace, streams: Streams) -> ExitCode:
    """Verify and print the identity or the error."""
    verifier = Verifier(_config(args))
    now = parse_time(args.time)
    raw = read_request(args.file, streams)
    request = SignedRequest.from_raw(raw)
    identity: Identity | None = None
    error: VerificationError | None = None
    try:
        parsed = verifier.parse_at(request, now)
        if args.secret_access_key is not None:
            token = parsed.session_token
            key: KeyRecord | None = KeyRecord(
                access_key_id=parsed.access_key_id,
                secret_access_key=args.secret_access_key,
                principal=parsed.access_key_id,
                session_token_sha256=(
                    hashlib.sha256(token.encode("utf-8")).hexdigest() if token else None
                ),
            )
        else:
            support = load_verify_support()
            key = asyncio.run(support.fetch_key(args.store, parsed.access_key_id))
        identity = verifier.verify_at(request, key=key, now=now, body=raw.body)
    except VerificationError as exc:
        error = exc
    canonical: str | None = None
    string_to_sign: str | None = None
    if isinstance(error, SignatureDoesNotMatch) and dict(error.fields).get("CanonicalRequest"):
        fields = dict(error.fields)
        canonical, string_to_sign = fields["CanonicalRequest"], fields["StringToSign"]
    else:
        # When the authentication itself cannot be parsed, the error says why.
        with contextlib.suppress(VerificationError):
            canonical, string_to_sign = recompute_signed(raw, verifier, now=now)
    if args.json:
        document: dict[str, Any] = {
            "verified": error is None,
            "canonical_request": canonical,
            "string_to_sign": string_to_sign,
        }
        if identity is not None:
            document["identity"] = _identity_dict(identity)
        if error is not None:
            document["error"] = {
                "code": error.code,
                "status": error.status,
                "message": error.message,
                "body": render_body(error, args.format),
            }
        streams.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        sections: list[tuple[str, str]] = []
        if identity is not None:
            sections.append(
                ("Verified", "\n".join(f"{k}: {v}" for k, v in _identity_dict(identity).items()))
            )
        if error is not None:
            sections.append(
                ("Rejected", f"{error.status} {error.code}: {error.message}")
            )
            sections.append((f"Error body ({args.format})", render_body(error, args.format)))
        if canonical is not None and string_to_sign is not None:
            sections.append(("Canonical request", canonical))
            sections.append(("String to sign", string_to_sign))
        write_sections(streams, sections)
    return ExitCode.OK if error is None else ExitCode.AWS_ERROR
