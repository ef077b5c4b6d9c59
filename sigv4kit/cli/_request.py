"""``sigv4kit request``: send a signed request, curl-like, and explain AWS errors."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx

from .._exceptions import CredentialsError, SigV4Error
from .._settings import SigningSettings
from ..client import (
    SIGNING_RESULT_EXTENSION,
    RetryPolicy,
    RetryTransport,
    SigV4AAuth,
    SigV4Auth,
    parse_aws_error,
)
from ..explain import explain, render_explanation
from ..signing._signer import SigningResult
from ._common import EXIT_CODES_HELP, CLIError, ExitCode, Streams, redact
from ._options import add_common_signing_options, credentials_source, parse_headers, scope_from

__all__ = ["add_parser", "run"]

EXAMPLES = """\
examples:
  sigv4kit request GET 'https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15'
  sigv4kit request POST https://dynamodb.eu-west-1.amazonaws.com/ \\
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \\
    -H 'Content-Type: application/x-amz-json-1.0' -d '{}'
  sigv4kit request PUT https://my-bucket.s3.eu-west-1.amazonaws.com/big.iso --data-binary @big.iso
  sigv4kit request GET http://127.0.0.1:8000/items --region us-east-1 --service execute-api -v
  sigv4kit request GET https://abc.execute-api.us-east-1.amazonaws.com/prod/ --profile dev --json

The region and service are inferred from *.amazonaws.com host names when
omitted. Credentials: --access-key-id/--secret-access-key (one of them may
come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), else the AWS default
chain (AWS_* variables, --profile or AWS_PROFILE in ~/.aws, ...).
On an AWS error the parsed error and the `explain` analysis go to stderr and
the exit code is 4.
"""

#: Uploads larger than this show a progress bar (on a terminal only).
PROGRESS_THRESHOLD = 8 * 1024 * 1024
_CHUNK = 64 * 1024


def add_parser(sub: Any) -> None:
    """Register the ``request`` subcommand."""
    p = sub.add_parser(
        "request",
        help="send a signed HTTP request (curl-like)",
        description=(
            "Sign a request with SigV4 (or SigV4A) and send it. The response body goes "
            "to standard output; with -v the canonical request and string to sign go "
            "to standard error."
        ),
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_signing_options(p)
    p.add_argument("-d", "--data", default=None, help="request body (text; @file reads a file)")
    p.add_argument(
        "--data-binary", default=None, help="request body; @file streams the file from disk"
    )
    p.add_argument(
        "--retries", type=int, default=2,
        help="retries after the first attempt (default 2; a file streamed with "
        "--data-binary @file is not sent twice: its retry fails with an error)",
    )
    p.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    p.add_argument("-v", "--verbose", action="store_true", help="show what was signed")
    p.set_defaults(run=run)


def make_auth(
    args: argparse.Namespace, host: str, *, prehashed: str | None = None
) -> SigV4Auth:
    """The httpx auth the options describe."""
    region, service = scope_from(args, host)
    settings = SigningSettings.s3() if args.s3 or service == "s3" else SigningSettings()
    source = credentials_source(args)
    if args.sigv4a:
        return SigV4AAuth(source, region_set=region, service=service, settings=settings)
    if prehashed is not None:
        return _PrehashedAuth(source, region=region, service=service, settings=settings,
                              payload_hash=prehashed)
    return SigV4Auth(source, region=region, service=service, settings=settings)


class _PrehashedAuth(SigV4Auth):
    """Signs a file body with its SHA-256, computed while streaming it from disk once."""

    def __init__(self, *args: Any, payload_hash: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._payload_hash = payload_hash

    def _payload_plan(self, request: httpx.Request) -> tuple[str | None, bool]:
        if isinstance(request.stream, FileStream):
            return self._payload_hash, False
        return super()._payload_plan(request)


class FileStream(httpx.SyncByteStream):
    """A file sent from disk in chunks, with an optional progress bar on stderr."""

    def __init__(self, path: Path, size: int, progress: IO[str] | None) -> None:
        self.path = path
        self.size = size
        self.progress = progress

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        with self.path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                sent += len(chunk)
                if self.progress is not None:
                    width = 40
                    done = int(width * sent / max(self.size, 1))
                    self.progress.write(
                        f"\r[{'#' * done}{'.' * (width - done)}] {sent * 100 // max(self.size, 1)}%"
                    )
                    self.progress.flush()
                yield chunk
        if self.progress is not None:
            self.progress.write("\n")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _is_tty(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def body_from(
    args: argparse.Namespace, streams: Streams
) -> tuple[bytes | FileStream | None, str | None, int | None]:
    """The body: bytes, or a file stream with its hash and size."""
    if args.data is not None and args.data_binary is not None:
        raise CLIError("pass -d or --data-binary, not both", ExitCode.USAGE)
    value = args.data if args.data is not None else args.data_binary
    if value is None:
        return None, None, None
    if value == "@-":
        return streams.stdin.read(), None, None
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            size = path.stat().st_size
            if args.data is not None:
                return path.read_bytes(), None, None
            digest = file_sha256(path)
        except OSError as exc:
            raise CLIError(f"cannot read {path}: {exc.strerror}", ExitCode.BAD_INPUT) from None
        big = size >= PROGRESS_THRESHOLD
        progress = streams.stderr if big and _is_tty(streams.stderr) else None
        return FileStream(path, size, progress), digest, size
    return value.encode("utf-8"), None, None


def signed_texts(result: SigningResult | None, token: str | None) -> tuple[str | None, str | None]:
    """The canonical request (token redacted) and string to sign of a result."""
    if result is None:
        return None, None
    return redact(str(result.canonical_request), token), str(result.string_to_sign)


def run(args: argparse.Namespace, streams: Streams) -> ExitCode:
    """Send the request, print the response; explain an AWS error."""
    url = httpx.URL(args.url)
    if url.scheme not in {"http", "https"} or not url.host:
        raise CLIError(f"bad URL {args.url!r}: expected http(s)://host/path", ExitCode.USAGE)
    if args.retries < 0:
        raise CLIError("--retries must be 0 or more", ExitCode.USAGE)
    headers = parse_headers(args.header)
    body, digest, size = body_from(args, streams)
    auth = make_auth(args, url.netloc.decode("ascii"), prehashed=digest)
    request_headers = httpx.Headers(headers)
    if isinstance(body, FileStream) and size is not None:
        request_headers["content-length"] = str(size)
    transport = RetryTransport(policy=RetryPolicy(max_attempts=args.retries + 1))
    try:
        with httpx.Client(auth=auth, transport=transport, timeout=args.timeout) as client:
            request = client.build_request(
                args.method.upper(), url, headers=request_headers,
                content=body if isinstance(body, bytes) else None,
            )
            if isinstance(body, FileStream):
                request.stream = body
            response = client.send(request)
            response.read()
    except httpx.HTTPError as exc:
        raise CLIError(f"{type(exc).__name__}: {exc}", ExitCode.ERROR) from None
    except SigV4Error as exc:
        raise CLIError(str(exc), ExitCode.ERROR) from None
    token = _token(auth)
    result = response.request.extensions.get(SIGNING_RESULT_EXTENSION)
    creq, sts = signed_texts(result, token)
    if args.verbose and not args.json and creq is not None:
        streams.stderr.write(f"== Canonical request ==\n{creq}\n\n== String to sign ==\n{sts}\n\n")
    failed = response.status_code >= 400
    analysis = None
    details = None
    if failed:
        details = parse_aws_error(response.status_code, response.headers, response.content)
        analysis = explain(details, canonical_request=creq, string_to_sign=sts)
    if args.json:
        document: dict[str, Any] = {
            "status": response.status_code,
            "headers": [list(pair) for pair in response.headers.multi_items()],
            "body": response.content.decode("utf-8", "replace"),
            "canonical_request": creq,
            "string_to_sign": sts,
        }
        if details is not None and analysis is not None:
            document["error"] = {
                "code": details.code, "message": details.message,
                "request_id": details.request_id,
            }
            document["explain"] = analysis.to_dict()
        streams.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        _write_body(streams.stdout, response.content)
        if details is not None and analysis is not None:
            streams.stderr.write(
                f"\nHTTP {response.status_code}: {details.code}: {details.message}\n"
                + (f"request id: {details.request_id}\n" if details.request_id else "")
                + "\n"
                + render_explanation(analysis, colour=_is_tty(streams.stderr))
            )
    return ExitCode.AWS_ERROR if failed else ExitCode.OK


def _token(auth: SigV4Auth) -> str | None:
    try:
        return auth.provider.resolve().session_token
    except CredentialsError:
        return None


def _write_body(stdout: IO[str], content: bytes) -> None:
    buffer = getattr(stdout, "buffer", None)
    if buffer is not None and stdout is sys.stdout:
        stdout.flush()
        buffer.write(content)
        buffer.flush()
        return
    stdout.write(content.decode("utf-8", "replace"))

