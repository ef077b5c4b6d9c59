"""SigV4Middleware hardening (issue 12): paths, header bytes, preflights, refusal logs.

Requests are signed by botocore (the independent oracle) and sent as raw
bytes to a real uvicorn, so the path on the wire is exactly the one under
test (httpx would remove dot segments before sending).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from _servers import call_asgi, run_uvicorn
from botocore.auth import S3SigV4Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from sigv4kit.middleware import MemoryKeyStore, SigV4Middleware

from sigv4kit import KeyRecord

AKID = "AKIAHARDENINGEXAMPL1"
SECRET = "hardening/secret/key/for/the/middleware0"
BOTO = BotoCredentials(AKID, SECRET)


class Recorder:
    """An ASGI app that records the path it was handed and answers 200."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            self.seen.append({"path": scope["path"]})
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": 1000})
            return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.seen.append({"path": scope["path"], "raw_path": scope.get("raw_path"),
                          "method": scope["method"], "headers": headers,
                          "user": scope["user"].display_name})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        body = json.dumps(self.seen[-1]["path"]).encode()
        await send({"type": "http.response.body", "body": body})


def _store() -> MemoryKeyStore:
    return MemoryKeyStore([KeyRecord(access_key_id=AKID, secret_access_key=SECRET,
                                     principal="signer")])


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder) -> Iterator[str]:
    with run_uvicorn(SigV4Middleware(recorder, store=_store())) as url:
        yield url


def _raw(url: str, method: str, target: str, headers: dict[str, str],
         body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send one HTTP/1.1 request with ``target`` exactly as given; status, headers, body."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 80
    lines = [f"{method} {target} HTTP/1.1"]
    if not any(k.lower() == "host" for k in headers):
        lines.append(f"Host: {host}:{port}")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    response_headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        response_headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), response_headers, payload


def _code(payload: bytes) -> str:
    text = payload.decode("utf-8")
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def _botocore_headers(url: str, *, service: str = "execute-api",
                      auth: type[SigV4Auth] = SigV4Auth, method: str = "GET",
                      headers: dict[str, str] | None = None) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, headers=headers or {})
    auth(BOTO, service, "us-east-1").add_auth(request)
    return {k: v for k, v in request.headers.items() if k.lower() != "host"}


def _botocore_presign(url: str, *, service: str = "execute-api") -> str:
    request = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(BOTO, service, "us-east-1", expires=300).add_auth(request)
    return request.url


# -- item 1: a signature reaches only the path that was verified ----------------------------


@pytest.mark.parametrize("sent", [
    "/secret/../public/report.csv",
    "/secret/x/../../public/report.csv",
    "/public/./report.csv",
    "//public/report.csv",
    "/public//report.csv",
])
def test_presigned_url_does_not_reach_another_route(
    server: str, recorder: Recorder, sent: str
) -> None:
    presigned = _botocore_presign(f"{server}/public/report.csv")
    query = urlsplit(presigned).query
    # The URL as signed is accepted and the app sees its path.
    status, _, _ = _raw(server, "GET", f"/public/report.csv?{query}", {})
    assert status == 200
    assert recorder.seen[-1]["path"] == "/public/report.csv"
    # The same signature on a path that only normalizes to it is refused.
    status, _, payload = _raw(server, "GET", f"{sent}?{query}", {})
    assert (status, _code(payload)) == (400, "InvalidURI")
    assert len(recorder.seen) == 1


def test_header_signed_request_does_not_reach_another_route(
    server: str, recorder: Recorder
) -> None:
    headers = _botocore_headers(f"{server}/items/x")
    assert _raw(server, "GET", "/items/x", headers)[0] == 200
    status, _, payload = _raw(server, "GET", "/items/../items/x", headers)
    assert (status, _code(payload)) == (400, "InvalidURI")
    assert [seen["path"] for seen in recorder.seen] == ["/items/x"]


@pytest.mark.parametrize("signed_path", [
    "/a/%2e%2e/secret",        # the app sees /a/../secret
    "/a/%2E/secret",           # the app sees /a/./secret
    "/a%2F..%2Fsecret",        # the app sees /a/../secret
    "/a%2F%2Fsecret",          # the app sees /a//secret
])
def test_encoded_dot_and_slash_segments_are_refused(
    server: str, recorder: Recorder, signed_path: str
) -> None:
    # botocore signs the path as written (it normalizes only literal dots), so
    # the signature matches; the app would route on the decoded dot segments.
    headers = _botocore_headers(f"{server}{signed_path}")
    status, _, payload = _raw(server, "GET", signed_path, headers)
    assert (status, _code(payload)) == (400, "InvalidURI")
    assert recorder.seen == []


def test_encoded_slash_without_dot_segments_still_works(server: str, recorder: Recorder) -> None:
    headers = _botocore_headers(f"{server}/files/a%2Fb.txt")
    assert _raw(server, "GET", "/files/a%2Fb.txt", headers)[0] == 200
    assert recorder.seen[-1]["path"] == "/files/a/b.txt"
    assert recorder.seen[-1]["raw_path"] == b"/files/a%2Fb.txt"


@pytest.mark.parametrize("key_path", ["/bucket//double/slash", "/bucket/a/../b", "/bucket/./c"])
def test_s3_rules_sign_and_deliver_the_raw_path(
    server: str, recorder: Recorder, key_path: str
) -> None:
    # S3 signs the path as sent (no normalization), so keys with '//', '.'
    # and '..' segments are what was signed and what the app sees.
    headers = _botocore_headers(f"{server}{key_path}", service="s3", auth=S3SigV4Auth)
    status, _, payload = _raw(server, "GET", key_path, headers)
    assert status == 200, payload
    assert recorder.seen[-1]["raw_path"] == key_path.encode()


def _ws_status(url: str, target: str, headers: dict[str, str]) -> int:
    parts = urlsplit(url)
    lines = [
        f"GET {target} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}",
        "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        *[f"{k}: {v}" for k, v in headers.items()],
    ]
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


def test_websocket_handshake_path_is_the_verified_one(server: str, recorder: Recorder) -> None:
    headers = _botocore_headers(f"{server}/ws/feed")
    assert _ws_status(server, "/ws/feed", headers) == 101
    assert _ws_status(server, "/ws/admin/../feed", headers) == 400  # InvalidURI
    assert [seen["path"] for seen in recorder.seen] == ["/ws/feed"]


# -- item 2: a header value is verified as the bytes that were sent -------------------------


def test_header_value_is_compared_as_sent_bytes(server: str, recorder: Recorder) -> None:
    # botocore signs the text "é" as UTF-8 (C3 A9) in the canonical request.
    headers = _botocore_headers(f"{server}/items/x", headers={"X-Label": "é"})
    # _raw writes header text as Latin-1, so "Ã©" goes out as the bytes C3 A9.
    utf8 = {**headers, "X-Label": "Ã©"}
    assert _raw(server, "GET", "/items/x", utf8)[0] == 200
    assert recorder.seen[-1]["headers"]["x-label"].encode("latin-1") == b"\xc3\xa9"
    # The single byte E9 is another value: it must not pass under the same signature.
    latin1 = {**headers, "X-Label": "é"}
    status, _, payload = _raw(server, "GET", "/items/x", latin1)
    assert (status, _code(payload)) == (400, "InvalidRequest")
    assert b"x-label" in payload.lower()
    assert len(recorder.seen) == 1


# -- item 3: CORS preflights pass only when asked to, and only real ones ----------------------

PREFLIGHT = {"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"}


def test_cors_preflight_is_verified_by_default(server: str, recorder: Recorder) -> None:
    status, _, payload = _raw(server, "OPTIONS", "/admin/users", PREFLIGHT)
    assert (status, _code(payload)) == (403, "AccessDenied")
    assert recorder.seen == []


def test_cors_preflight_pass_through_is_opt_in_and_only_for_real_preflights(
    recorder: Recorder,
) -> None:
    app = SigV4Middleware(recorder, store=_store(), allow_cors_preflight=True)
    with run_uvicorn(app) as url:
        assert _raw(url, "OPTIONS", "/admin/users", PREFLIGHT)[0] == 200
        assert recorder.seen[-1]["user"] == ""  # AnonymousUser
        # Not preflights: no Access-Control-Request-Method, credentials, a body.
        not_preflights = [
            ({"Origin": "https://app.example"}, b"", "/admin/users"),
            ({**PREFLIGHT, "Authorization": "AWS4-HMAC-SHA256 Credential=x"}, b"", "/a"),
            (PREFLIGHT, b"", "/a?X-Amz-Credential=x"),
            (PREFLIGHT, b"payload", "/a"),
        ]
        for headers, body, target in not_preflights:
            status, _, payload = _raw(url, "OPTIONS", target, headers, body)
            assert status in (400, 403), (headers, target, payload)
        assert len(recorder.seen) == 1


# -- item 14: every refusal is logged once, at WARNING, without secrets ---------------------

TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessiontokenNEVERinLOGS=="


def test_refusal_is_logged_once_at_warning(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    headers = _botocore_headers(f"{server}/items/x")
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    forged = headers["Authorization"][: -len(signature)] + "0" * len(signature)
    caplog.set_level(logging.DEBUG, logger="sigv4kit.middleware")
    status, response_headers, payload = _raw(
        server, "GET", "/items/x", {**headers, "Authorization": forged}
    )
    assert (status, _code(payload)) == (403, "SignatureDoesNotMatch")
    records = [r for r in caplog.records if r.name == "sigv4kit.middleware"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    line = records[0].getMessage()
    assert response_headers["x-amz-request-id"] in line
    assert "SignatureDoesNotMatch" in line
    assert AKID in line
    assert signature not in caplog.text
    assert "0" * 64 not in caplog.text


def test_refusal_log_never_holds_token_or_signature(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    request = AWSRequest(method="GET", url=f"{server}/items/x")
    SigV4QueryAuth(BotoCredentials("ASIAUNKNOWNKEYEXAMPL", SECRET, TOKEN), "execute-api",
                   "us-east-1", expires=300).add_auth(request)
    target = request.url.removeprefix(server)
    signature = target.rsplit("X-Amz-Signature=", 1)[1]
    caplog.set_level(logging.DEBUG)
    status, _, payload = _raw(server, "GET", target, {})
    assert (status, _code(payload)) == (403, "InvalidAccessKeyId")
    records = [r for r in caplog.records if r.name == "sigv4kit.middleware"]
    assert [r.levelno for r in records] == [logging.WARNING]
    assert "ASIAUNKNOWNKEYEXAMPL" in records[0].getMessage()
    assert "InvalidAccessKeyId" in records[0].getMessage()
    assert TOKEN not in caplog.text
    assert "IQoJb3JpZ2lu" not in caplog.text
    assert signature not in caplog.text


def test_refusal_log_level_is_configurable(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    app = SigV4Middleware(recorder, store=_store(), refusal_log_level=logging.INFO)
    caplog.set_level(logging.DEBUG, logger="sigv4kit.middleware")
    with run_uvicorn(app) as url:
        assert _raw(url, "GET", "/items/x", {})[0] == 403
    records = [r for r in caplog.records if r.name == "sigv4kit.middleware"]
    assert [(r.levelno, "AccessDenied" in r.getMessage()) for r in records] == [
        (logging.INFO, True)
    ]
    assert records[0].getMessage().endswith("access key id -")


# -- item 10: a huge header value is not echoed without a bound -----------------------------


def test_error_body_for_a_huge_signed_header_is_bounded() -> None:
    big = "v" * 60_000
    request = AWSRequest(method="GET", url="http://svc.local/items/x", headers={"X-Big": big})
    SigV4Auth(BotoCredentials(AKID, "not-the-secret"), "execute-api", "us-east-1").add_auth(
        request)
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    status, body = call_asgi(SigV4Middleware(Recorder(), store=_store()), headers,
                             path=b"/items/x", method="GET")
    assert status == 403
    assert _code(body) == "SignatureDoesNotMatch"
    assert len(body) <= 32 * 1024  # was 240 KB: the value in CanonicalRequest and its hex


# -- item 4: presigned credentials stay out of uvicorn's access log -------------------------


def test_uvicorn_access_log_redacts_presigned_credentials(recorder: Recorder) -> None:
    from uvicorn.logging import AccessFormatter

    import examples.echo_service as echo

    access = logging.getLogger("uvicorn.access")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    # uvicorn's own access formatter reads the record's arguments by position.
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s',
                                         use_colors=False))
    app = SigV4Middleware(recorder, store=MemoryKeyStore([KeyRecord(
        access_key_id="ASIATEMPORARYEXAMPLE", secret_access_key=SECRET, principal="temp",
        session_token_sha256=hashlib.sha256(TOKEN.encode()).hexdigest())]))
    try:
        with run_uvicorn(app, access_log=True, log_level="info") as url:
            # What the example services do when uvicorn loads their app.
            echo.install_access_log_redactor("uvicorn.access")
            echo.install_access_log_redactor("uvicorn.access")  # idempotent
            access.addHandler(handler)
            request = AWSRequest(method="GET", url=f"{url}/files/report.csv?part=1")
            SigV4QueryAuth(BotoCredentials("ASIATEMPORARYEXAMPLE", SECRET, TOKEN),
                           "execute-api", "us-east-1", expires=300).add_auth(request)
            target = request.url.removeprefix(url)
            signature = target.rsplit("X-Amz-Signature=", 1)[1]
            assert _raw(url, "GET", target, {})[0] == 200
    finally:
        access.removeHandler(handler)
        for existing in list(access.filters):
            access.removeFilter(existing)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith("127.0.0.1:")
    assert line.endswith('" 200 OK')
    assert "GET /files/report.csv?part=1&X-Amz-Algorithm=AWS4-HMAC-SHA256" in line
    assert "X-Amz-Credential=REDACTED" in line
    assert "X-Amz-Security-Token=REDACTED" in line
    assert "X-Amz-Signature=REDACTED" in line
    assert "X-Amz-Expires=300" in line  # other parameters are kept
    assert "ASIATEMPORARYEXAMPLE" not in line
    assert signature not in line
    assert "IQoJb3JpZ2lu" not in line


def test_redactor_matches_names_as_the_verifier_reads_them() -> None:
    from sigv4kit.middleware import AccessLogRedactor

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5000", "GET",
         "/a?x-amz-signature=abc&X%2DAmz%2DCredential=AKIA%2F1&X-Amz-Date=20260101T000000Z",
         "1.1", 200), None,
    )
    assert AccessLogRedactor().filter(record) is True
    assert record.getMessage() == (
        '10.0.0.1:5000 - "GET /a?x-amz-signature=REDACTED&X%2DAmz%2DCredential=REDACTED'
        '&X-Amz-Date=20260101T000000Z HTTP/1.1" 200'
    )


# -- item 11: aws-chunked only where the rules enable streaming payloads ----------------------

# One 5-byte aws-chunked chunk and the final one, unsigned framing (as STREAMING-UNSIGNED-
# PAYLOAD-TRAILER frames it, without a trailer), written out by hand.
FRAMED = b"5\r\nhello\r\n0\r\n\r\n"


def test_aws_chunked_body_under_service_rules_is_refused(
    server: str, recorder: Recorder
) -> None:
    # botocore signs the framed bytes as an ordinary body: the signature
    # matches, but the app would get an aws-chunked body it never asked for.
    chunked_headers = {"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "5"}
    request = AWSRequest(method="PUT", url=f"{server}/items/x", data=FRAMED,
                         headers=chunked_headers)
    SigV4Auth(BOTO, "execute-api", "us-east-1").add_auth(request)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    status, _, payload = _raw(server, "PUT", "/items/x", headers, FRAMED)
    assert (status, _code(payload)) == (400, "InvalidArgument")
    assert b"aws-chunked" in payload
    # Content-Encoding alone declares it too.
    only_encoding = {"Content-Encoding": "gzip, aws-chunked"}
    request = AWSRequest(method="PUT", url=f"{server}/items/x", data=FRAMED,
                         headers=only_encoding)
    SigV4Auth(BOTO, "execute-api", "us-east-1").add_auth(request)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    assert _raw(server, "PUT", "/items/x", headers, FRAMED)[0] == 400
    assert recorder.seen == []


def test_sigv4kit_chunked_upload_for_a_service_gets_a_clear_error(server: str) -> None:
    import httpx

    import sigv4kit

    auth = sigv4kit.SigV4Auth(sigv4kit.Credentials(AKID, SECRET), region="us-east-1",
                              service="execute-api",
                              chunked=sigv4kit.ChunkedEncoding(mode=sigv4kit.StreamingMode.SIGNED))
    with httpx.Client(auth=auth) as client:
        response = client.put(f"{server}/items/x", content=iter([b"x" * 10_000]),
                              headers={"Content-Length": "10000"})
    assert response.status_code == 400
    assert _code(response.content) == "InvalidArgument"


def test_exempt_prefix_does_not_cover_dot_segments(recorder: Recorder) -> None:
    app = SigV4Middleware(recorder, store=_store(), exempt_paths=["/public/*", "/healthz"])
    with run_uvicorn(app) as url:
        assert _raw(url, "GET", "/public/a.css", {})[0] == 200
        assert _raw(url, "GET", "/healthz", {})[0] == 200
        for sent in ["/public/../admin", "/public/%2e%2e/admin", "/public//admin"]:
            status, _, payload = _raw(url, "GET", sent, {})
            assert (status, _code(payload)) == (403, "AccessDenied"), sent
    assert [seen["path"] for seen in recorder.seen] == ["/public/a.css", "/healthz"]


# -- items 4 and 14 under a plain `uvicorn module:app`, no logging configured ------------------


def test_plain_uvicorn_shows_refusals_and_redacts_the_access_log(tmp_path: Any) -> None:
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    repo = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.echo_service:app", "--port", str(port)],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"SIGV4KIT_STORE": f"sqlite:///{tmp_path}/keys.db", "PATH": "/usr/bin:/bin"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/ready", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        request = AWSRequest(method="GET", url=f"{url}/files/report.csv")
        SigV4QueryAuth(BotoCredentials("ASIAUNKNOWNKEYEXAMPL", SECRET, TOKEN), "s3",
                       "us-east-1", expires=300).add_auth(request)
        signature = request.url.rsplit("X-Amz-Signature=", 1)[1]
        response = httpx.get(request.url)
        assert response.status_code == 403
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    refusals = [line for line in err.splitlines() if line.startswith("refused request")]
    # The readiness probe (no authentication) and the presigned request.
    assert len(refusals) == 2
    assert refusals[1] == (
        f"refused request {response.headers['x-amz-request-id']}: InvalidAccessKeyId (403), "
        "access key id ASIAUNKNOWNKEYEXAMPL"
    )
    access = [line for line in out.splitlines() if "/files/report.csv" in line]
    assert len(access) == 1
    assert "X-Amz-Security-Token=REDACTED" in access[0]
    assert "X-Amz-Signature=REDACTED" in access[0]
    assert "X-Amz-Credential=REDACTED" in access[0]
    for text in (out, err):
        assert TOKEN not in text
        assert "IQoJb3JpZ2lu" not in text
        assert signature not in text
