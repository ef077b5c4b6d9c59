"""``sigv4kit presign``: print a presigned URL."""

from __future__ import annotations

import argparse
import json
from typing import Any

import httpx

from .._settings import SigningAlgorithm, SigningSettings
from ..client import CredentialsProvider, presign
from ._common import EXIT_CODES_HELP, CLIError, ExitCode, Streams, parse_time
from ._options import add_common_signing_options, credentials_source, parse_headers, scope_from

__all__ = ["add_parser", "run"]

EXAMPLES = """\
examples:
  sigv4kit presign GET https://my-bucket.s3.eu-west-1.amazonaws.com/report.csv --expires 600
  sigv4kit presign PUT https://my-bucket.s3.amazonaws.com/upload.bin --expires 3600 --profile dev
  sigv4kit presign PUT https://abc.execute-api.us-east-1.amazonaws.com/prod/in \
      --payload-hash "$(sha256sum body.json | cut -d' ' -f1)"
  sigv4kit presign GET http://127.0.0.1:8000/files/a.txt --region us-east-1 --service s3 --s3
  curl "$(sigv4kit presign GET https://my-bucket.s3.amazonaws.com/a.txt --expires 60)"

The region and service are inferred from *.amazonaws.com host names when omitted.
Only Host and the -H headers are signed, so a presigned PUT/POST accepts a body of
any length (under S3 rules the payload is UNSIGNED-PAYLOAD; other services check
the body against --payload-hash, the empty body's hash by default).
"""


def add_parser(sub: Any) -> None:
    """Register the ``presign`` subcommand."""
    p = sub.add_parser(
        "presign",
        help="print a presigned URL",
        description="Sign a URL in its query string (X-Amz-* parameters) and print it.",
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_signing_options(p)
    p.add_argument("--expires", type=int, default=3600, help="seconds, 1..604800 (default 3600)")
    p.add_argument("--time", default=None, help="signing time, ISO 8601 with a zone (default now)")
    p.add_argument(
        "--payload-hash",
        default=None,
        metavar="HASH",
        help="payload line to sign: the body's hex SHA-256 or UNSIGNED-PAYLOAD (default: "
        "UNSIGNED-PAYLOAD under S3 rules, else the empty body's hash)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, streams: Streams) -> ExitCode:
    """Presign and print the URL."""
    url = httpx.URL(args.url)
    if url.scheme not in {"http", "https"} or not url.host:
        raise CLIError(f"bad URL {args.url!r}: expected http(s)://host/path", ExitCode.USAGE)
    region, service = scope_from(args, url.netloc.decode("ascii"))
    settings = SigningSettings.s3() if args.s3 or service == "s3" else SigningSettings()
    source = credentials_source(args)
    credentials = source.resolve() if isinstance(source, CredentialsProvider) else source
    signed = presign(
        args.method.upper(),
        url,
        credentials=credentials,
        region=region,
        service=service,
        expires_in=args.expires,
        settings=settings,
        now=parse_time(args.time),
        headers=parse_headers(args.header),
        algorithm=SigningAlgorithm.SIGV4A if args.sigv4a else SigningAlgorithm.SIGV4,
        payload_hash=args.payload_hash,
    )
    if args.json:
        document = {"url": signed, "region": region, "service": service, "expires": args.expires}
        streams.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        streams.stdout.write(signed + "\n")
    return ExitCode.OK
