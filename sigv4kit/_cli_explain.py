"""``sigv4kit explain``: why did the service answer SignatureDoesNotMatch?"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ._cli import EXIT_CODES_HELP, CLIError, ExitCode, Streams
from ._cli_request import parse_headers, redact
from ._cli_sign import parse_time, read_request
from ._credentials import Credentials
from ._endpoints import EndpointInferenceError, infer_region_service
from ._errors import AWSErrorDetails, parse_aws_error
from ._exceptions import SigV4Error
from ._explain import explain, recompute_signed, render_explanation
from ._rawrequest import RawRequest
from ._settings import SigningAlgorithm, SigningSettings
from ._signing import sign
from ._verifier import Verifier, VerifierConfig
from ._verify_errors import VerificationError

__all__ = ["add_parser", "run"]

EXAMPLES = """\
examples:
  sigv4kit explain error.xml --request signed-request.txt
  curl -s ... | sigv4kit explain - --request request.txt
  sigv4kit explain error.json --url 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/a b' \\
    -H 'Content-Type: application/json' -d '{"k": 1}'
  sigv4kit explain error.xml --json

ERROR is the service's error body (REST-XML as S3 sends, query-XML as STS/IAM
send, or JSON) from a file or standard input. The request is what we signed:
a raw request (--request; already signed, or unsigned with the signing
options), or --url/--method/-H/-d as for `sigv4kit request`. An unsigned
request is signed at the time, region and service the service's string to
sign names unless --time/--region/--service are given. Without a request,
explain says what the error body alone tells. Exit code 0 when it ran.
"""


def add_parser(sub: Any) -> None:
    """Register the ``explain`` subcommand."""
    p = sub.add_parser(
        "explain",
        help="explain a signature error from the service's error body",
        description=(
            "Line up the service's canonical request and string to sign with ours, "
            "mark the first difference and name the likely cause."
        ),
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("error", nargs="?", default="-", help="error body file, or - for stdin")
    p.add_argument("--status", type=int, default=403, help="HTTP status of the error")
    p.add_argument("--request", default=None, help="raw request file we sent (signed or not)")
    p.add_argument("--url", default=None, help="URL of the request we signed")
    p.add_argument("--method", default="GET")
    p.add_argument("-H", "--header", action="append", default=[], metavar="'Name: value'")
    p.add_argument("-d", "--data", default=None, help="request body (@file reads a file)")
    p.add_argument("--region", default=None)
    p.add_argument("--service", default=None)
    p.add_argument("--time", default=None, help="signing time (default: the service's)")
    p.add_argument("--s3", action="store_true", help="S3 rules")
    p.add_argument("--sigv4a", action="store_true")
    p.add_argument("--access-key-id", default=None)
    p.add_argument("--secret-access-key", default=None)
    p.add_argument("--session-token", default=None)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def _read_error(path: str, streams: Streams) -> bytes:
    try:
        return streams.stdin.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}", ExitCode.BAD_INPUT) from None


def _server_scope(details: AWSErrorDetails) -> tuple[datetime | None, str | None, str | None]:
    sts = details.server_string_to_sign
    if sts is None:
        return None, None, None
    lines = sts.replace("\r\n", "\n").split("\n")
    when = None
    if len(lines) > 1:
        try:
            when = datetime.strptime(lines[1].strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            when = None
    scope = lines[2].split("/") if len(lines) > 2 else []
    if len(scope) == 4:
        return when, scope[1], scope[2]
    return when, None, None


def _is_signed(raw: RawRequest) -> bool:
    return raw.header("authorization") is not None or "X-Amz-Signature=" in raw.target


def _unsigned_request(args: argparse.Namespace, streams: Streams) -> RawRequest | None:
    if args.request is not None:
        return read_request(args.request, streams)
    if args.url is None:
        return None
    url = httpx.URL(args.url)
    if not url.host:
        raise CLIError(f"bad URL {args.url!r}", ExitCode.USAGE)
    body = b""
    if args.data is not None:
        if args.data.startswith("@"):
            try:
                body = Path(args.data[1:]).read_bytes()
            except OSError as exc:
                raise CLIError(f"cannot read {args.data[1:]}: {exc.strerror}",
                               ExitCode.BAD_INPUT) from None
        else:
            body = args.data.encode("utf-8")
    headers = [("Host", url.netloc.decode("ascii")), *parse_headers(args.header)]
    if body:
        headers.append(("Content-Length", str(len(body))))
    return RawRequest(args.method.upper(), url.raw_path.decode("ascii"), tuple(headers), body)


def _ours(
    raw: RawRequest, args: argparse.Namespace, details: AWSErrorDetails
) -> tuple[str, str]:
    if _is_signed(raw):
        if args.s3:
            s3 = SigningSettings.s3()
            return recompute_signed(raw, Verifier(VerifierConfig(default_settings=s3)))
        return recompute_signed(raw)
    when, server_region, server_service = _server_scope(details)
    region, service = args.region, args.service
    if region is None or service is None:
        try:
            inferred = infer_region_service(raw.header("host") or "")
        except EndpointInferenceError:
            inferred = (server_region or os.environ.get("AWS_REGION") or "", server_service or "")
        region = region or inferred[0]
        service = service or inferred[1]
    if not region or not service:
        raise CLIError(
            "cannot tell the region and service we signed for: pass --region and --service",
            ExitCode.USAGE,
        )
    akid = args.access_key_id or os.environ.get("AWS_ACCESS_KEY_ID") or "AKIDEXAMPLE"
    # The secret does not change the canonical request or the string to sign.
    secret = args.secret_access_key or os.environ.get("AWS_SECRET_ACCESS_KEY") or "unused"
    token = args.session_token or os.environ.get("AWS_SESSION_TOKEN") or None
    now = parse_time(args.time) if args.time else (when or datetime.now(UTC))
    settings = SigningSettings.s3() if args.s3 or service == "s3" else SigningSettings()
    result = sign(
        raw.method,
        raw.target,
        raw.headers,
        credentials=Credentials(akid, secret, token),
        region=region,
        service=service,
        now=now,
        body=raw.body,
        settings=settings,
        algorithm=SigningAlgorithm.SIGV4A if args.sigv4a else SigningAlgorithm.SIGV4,
    )
    return redact(str(result.canonical_request), token), str(result.string_to_sign)


def run(args: argparse.Namespace, streams: Streams) -> ExitCode:
    """Parse the error, recompute our side, print the analysis."""
    if args.request == "-" and args.error == "-":
        raise CLIError("the error body and the request cannot both come from stdin",
                       ExitCode.USAGE)
    body = _read_error(args.error, streams)
    details = parse_aws_error(args.status, {}, body)
    raw = _unsigned_request(args, streams)
    canonical = string_to_sign = None
    if raw is not None:
        try:
            canonical, string_to_sign = _ours(raw, args, details)
        except VerificationError as exc:
            raise CLIError(f"cannot read the request's signature: {exc.code}: {exc.message}",
                           ExitCode.BAD_INPUT) from None
        except SigV4Error as exc:
            if isinstance(exc, CLIError):
                raise
            raise CLIError(f"cannot sign the request: {exc}", ExitCode.BAD_INPUT) from None
    analysis = explain(details, canonical_request=canonical, string_to_sign=string_to_sign)
    if args.json:
        streams.stdout.write(json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        streams.stdout.write(render_explanation(analysis, colour=streams.colour))
    return ExitCode.OK
