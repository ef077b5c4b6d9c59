"""``sigv4kit explain``: why did the service answer SignatureDoesNotMatch?"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from .._exceptions import SigV4Error
from .._settings import PathNormalization, PercentEncoding, SigningAlgorithm, SigningSettings
from ..canonical._raw import RawRequest
from ..canonical._request import encode_query_pairs
from ..client import AWSErrorDetails, EndpointInferenceError, infer_region_service, parse_aws_error
from ..explain import (
    Cause,
    Explanation,
    Finding,
    explain,
    recompute_signed,
    render_explanation,
)
from ..signing._credentials import Credentials
from ..signing._signer import calculate_signature, derive_signing_key, sign
from ..verify._errors import VerificationError
from ..verify._verifier import Verifier, VerifierConfig
from ._common import (
    EXIT_CODES_HELP,
    CLIError,
    ExitCode,
    Streams,
    parse_time,
    read_input,
    read_request,
    redact,
    scope_part,
)
from ._options import parse_headers

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
request is signed at the time the service's string to sign names (or
--time), for --region/--service, else those inferred from an amazonaws.com
host, else the service's scope. For a signed request, the secret
(--secret-access-key or AWS_SECRET_ACCESS_KEY) lets explain find which rules
made its signature. Without a request, explain says what the error body
alone tells. Exit code 0 when it ran.
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
    p.add_argument("--region", default=None, type=scope_part)
    p.add_argument("--service", default=None, type=scope_part)
    p.add_argument("--time", default=None, help="signing time (default: the service's)")
    p.add_argument("--s3", action="store_true", help="S3 rules")
    p.add_argument("--sigv4a", action="store_true")
    p.add_argument("--access-key-id", default=None)
    p.add_argument("--secret-access-key", default=None)
    p.add_argument("--session-token", default=None)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def _read_error(path: str, streams: Streams) -> bytes:
    return read_input(path, streams)


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
        raw = read_request(args.request, streams)
        if args.header and not _is_signed(raw):
            extra = tuple(parse_headers(args.header))
            raw = RawRequest(raw.method, raw.target, raw.headers + extra, raw.body)
        return raw
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
        return _recompute(raw, args)
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


# Signing rules a client may have used; with the secret, the one that
# reproduces the request's own signature is what the client really signed.
_RULES: tuple[tuple[str, SigningSettings], ...] = (
    ("AWS service rules", SigningSettings()),
    ("S3 rules", SigningSettings.s3()),
    ("AWS service rules without path normalization",
     SigningSettings().replace(path_normalization=PathNormalization.DISABLED)),
    # S3's path rules without S3's x-amz-content-sha256 header: what
    # `curl --aws-sigv4` signs for any service (the path as sent, encoded once).
    ("AWS service rules with the path encoded once and not normalized",
     SigningSettings().replace(percent_encoding=PercentEncoding.SINGLE,
                               path_normalization=PathNormalization.DISABLED)),
    ("S3 rules with double encoding",
     SigningSettings.s3().replace(percent_encoding=PercentEncoding.DOUBLE)),
)
_SIGNATURE = re.compile(r"(?:Signature=|X-Amz-Signature=)([0-9a-fA-F]{64})")


def _signature_of(raw: RawRequest) -> str | None:
    match = _SIGNATURE.search(raw.header("authorization") or "") or _SIGNATURE.search(raw.target)
    return match.group(1).lower() if match else None


def _query_as_sent(canonical: str, raw: RawRequest) -> str:
    """The canonical request with the query in the order sent, not sorted.

    What signers that skip the sort sign: curl's ``--aws-sigv4`` did
    (curl/curl#9717), so did several small libraries.
    """
    lines = canonical.split("\n")
    pairs = encode_query_pairs(raw.target.partition("?")[2])
    lines[2] = "&".join(f"{key}={value}" for key, value in pairs if key != "X-Amz-Signature")
    return "\n".join(lines)


def _string_to_sign_for(string_to_sign: str, canonical: str) -> str:
    """``string_to_sign`` with the hash line of another canonical request."""
    head = string_to_sign.split("\n")[:3]
    return "\n".join([*head, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])


def _identify_rules(
    raw: RawRequest, secret: str, signature: str
) -> tuple[str, str, str] | None:
    """``(rules, canonical request, string to sign)`` that reproduce ``signature``.

    Every rule set is tried, each also with the query left unsorted; rules
    that cannot read the request at all (S3's need x-amz-content-sha256) are
    skipped, never fatal. None when nothing reproduces the signature.
    """
    for name, settings in _RULES:
        verifier = Verifier(VerifierConfig(service_settings={}, default_settings=settings))
        try:
            signed_text, string_to_sign = recompute_signed(raw, verifier, redact_token=False)
            shown, _ = recompute_signed(raw, verifier)
        except VerificationError:
            continue
        lines = string_to_sign.split("\n")
        scope = lines[2].split("/")
        if lines[0] != SigningAlgorithm.SIGV4.value or len(scope) != 4:
            return None  # a SigV4A signature cannot be recomputed from the secret alone
        key = derive_signing_key(secret, scope[0], scope[1], scope[2])
        unsorted = _query_as_sent(signed_text, raw)
        for rules, text, candidate in (
            (name, shown, string_to_sign),
            (f"{name}, the query unsorted (in the order sent)", _query_as_sent(shown, raw),
             _string_to_sign_for(string_to_sign, unsorted)),
        ):
            if hmac.compare_digest(calculate_signature(key, candidate), signature):
                return rules, text, candidate
    return None


def _recompute(raw: RawRequest, args: argparse.Namespace) -> tuple[str, str]:
    """Our canonical request for a request that is already signed.

    Without the secret, the request is read with the rules --s3 names (the
    verifier's rules otherwise). With it, every known rule set is tried and
    the one whose signature is the request's own wins: that is what the
    client really signed.
    """
    secret = args.secret_access_key or os.environ.get("AWS_SECRET_ACCESS_KEY")
    signature = _signature_of(raw)
    if secret and signature:
        found = _identify_rules(raw, secret, signature)
        if found is not None:
            args.identified_rules, canonical, string_to_sign = found
            return canonical, string_to_sign
        args.identified_rules = ""
    if args.s3:
        s3 = SigningSettings.s3()
        return recompute_signed(raw, Verifier(VerifierConfig(default_settings=s3)))
    return recompute_signed(raw)


def _honest(analysis: Explanation, args: argparse.Namespace, signed: bool) -> Explanation:
    """Adjust the conclusion to what a signed request can and cannot prove."""
    if not signed or [f.cause for f in analysis.findings] != [Cause.SECRET_KEY]:
        return analysis
    rules = getattr(args, "identified_rules", None)
    if rules:
        return analysis
    if rules == "":
        text = (
            "with the secret given, no signing rules reproduce the request's own signature: "
            "the secret access key is not the one the request was signed with."
        )
    else:
        text = (
            "the canonical request recomputed from the signed request matches the service's. "
            "Either the secret access key is wrong, or your signer canonicalized the request "
            "differently from the rules used here (path encoding, normalization): pass "
            "--secret-access-key (or set AWS_SECRET_ACCESS_KEY) so explain can find the rules "
            "that produced the signature, or give the unsigned request with the signing options."
        )
    return replace(analysis, findings=(Finding(cause=Cause.SECRET_KEY, text=text),))


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
    analysis = _honest(analysis, args, raw is not None and _is_signed(raw))
    rules = getattr(args, "identified_rules", None)
    if args.json:
        document = analysis.to_dict()
        document["our_rules"] = rules or None
        streams.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        if rules:
            streams.stdout.write(f"The request's own signature was made with {rules}.\n\n")
        streams.stdout.write(render_explanation(analysis, colour=streams.colour))
    return ExitCode.OK
