"""``sigv4kit sign``: sign a raw HTTP request and show every step."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from .._exceptions import CredentialsError
from .._settings import (
    PathNormalization,
    PayloadChecksumKind,
    PayloadMode,
    SessionTokenMode,
    SignatureLocation,
    SigningAlgorithm,
    SigningSettings,
)
from ..canonical._raw import RawRequest
from ..signing._credentials import Credentials
from ..signing._signer import SigningResult, sign
from ._common import (
    EXIT_CODES_HELP,
    CLIError,
    ExitCode,
    Streams,
    parse_time,
    read_request,
    scope_part,
    write_sections,
)

__all__ = ["add_parser", "run"]

EXAMPLES = """\
examples:
  printf 'GET /?Param1=value1 HTTP/1.1\\nHost:example.amazonaws.com\\n\\n' |
    sigv4kit sign --region us-east-1 --service service --time 2015-08-30T12:36:00Z
  sigv4kit sign request.txt --s3 --service s3 --region eu-west-1 --json
  sigv4kit sign request.txt --presign --expires 600 --service s3 --s3
  sigv4kit sign request.txt --sigv4a --region '*' --service s3
"""


def add_parser(sub: Any) -> None:
    """Register the ``sign`` subcommand."""
    p = sub.add_parser(
        "sign",
        help="sign a raw HTTP request",
        description=(
            "Read a raw HTTP/1.1 request (from FILE or standard input) and sign it. "
            "Shows the canonical request, the string to sign, the signature and the "
            "signed request. Credentials default to AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN."
        ),
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", nargs="?", default="-", help="raw request file, or - for stdin")
    p.add_argument("--access-key-id", default=None)
    p.add_argument("--secret-access-key", default=None)
    p.add_argument("--session-token", default=None)
    p.add_argument(
        "--region", default=None, type=scope_part, help="region (the region set with --sigv4a)"
    )
    p.add_argument(
        "--service", required=True, type=scope_part, help="signing name of the service"
    )
    p.add_argument("--time", default=None, help="signing time, ISO 8601 with a zone")
    p.add_argument("--no-normalize-path", action="store_true")
    p.add_argument("--s3", action="store_true", help="S3 rules (single encoding, no normalize)")
    p.add_argument("--sign-body", action="store_true", help="add and sign x-amz-content-sha256")
    p.add_argument("--unsigned-payload", action="store_true", help="payload UNSIGNED-PAYLOAD")
    p.add_argument("--omit-session-token", action="store_true", help="add the token after signing")
    p.add_argument("--sigv4a", action="store_true", help="SigV4A (ECDSA P-256)")
    p.add_argument("--presign", action="store_true", help="sign in the query string")
    p.add_argument("--expires", type=int, default=3600, help="presign expiry in seconds")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def credentials_from(args: argparse.Namespace) -> Credentials:
    """Credentials from the options, falling back to the AWS_* variables."""
    akid = args.access_key_id or os.environ.get("AWS_ACCESS_KEY_ID")
    secret = args.secret_access_key or os.environ.get("AWS_SECRET_ACCESS_KEY")
    token = args.session_token or os.environ.get("AWS_SESSION_TOKEN") or None
    if not akid or not secret:
        raise CLIError(
            "no credentials: pass --access-key-id and --secret-access-key or set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            ExitCode.USAGE,
        )
    try:
        return Credentials(akid, secret, token)
    except CredentialsError as exc:
        raise CLIError(str(exc), ExitCode.USAGE) from None


def settings_from(args: argparse.Namespace) -> SigningSettings:
    """Signing settings from the options."""
    settings = SigningSettings.s3() if args.s3 else SigningSettings()
    changes: dict[str, object] = {}
    if args.no_normalize_path:
        changes["path_normalization"] = PathNormalization.DISABLED
    if args.sign_body:
        changes["payload_checksum"] = PayloadChecksumKind.X_AMZ_CONTENT_SHA256
    if args.unsigned_payload:
        changes["payload"] = PayloadMode.UNSIGNED
    if args.omit_session_token:
        changes["session_token_mode"] = SessionTokenMode.EXCLUDE
    if args.presign:
        changes["signature_location"] = SignatureLocation.QUERY
    return settings.replace(**changes) if changes else settings


def run(args: argparse.Namespace, streams: Streams) -> ExitCode:
    """Sign the request and print the result."""
    request = read_request(args.file, streams)
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise CLIError("no region: pass --region or set AWS_REGION", ExitCode.USAGE)
    result = sign(
        request.method,
        request.target,
        request.headers,
        credentials=credentials_from(args),
        region=region,
        service=args.service,
        now=parse_time(args.time),
        body=request.body,
        settings=settings_from(args),
        algorithm=SigningAlgorithm.SIGV4A if args.sigv4a else SigningAlgorithm.SIGV4,
        expires_in=args.expires,
    )
    signed = RawRequest(request.method, result.target, result.headers, request.body)
    signed_text = signed.to_text()
    if not request.body:
        # The blank line ending the headers would be the output's last line:
        # without a body the request is complete without it.
        signed_text = signed_text.rstrip("\n")
    if args.json:
        document = result_summary(result)
        streams.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return ExitCode.OK
    write_sections(
        streams,
        [
            ("Canonical request", str(result.canonical_request)),
            ("String to sign", str(result.string_to_sign)),
            ("Signature", result.signature),
            ("Signed request", signed_text),
        ],
    )
    return ExitCode.OK


def result_summary(result: SigningResult) -> dict[str, Any]:
    """The JSON-friendly summary of a signing result (shared by other commands)."""
    return {
        "canonical_request": str(result.canonical_request),
        "string_to_sign": str(result.string_to_sign),
        "signature": result.signature,
        "authorization": result.authorization,
        "url": result.target,
        "headers": [list(pair) for pair in result.headers],
    }
