"""SigV4Middleware through real servers, with botocore and sigv4kit as clients."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest
from _servers import call_asgi as _call
from _servers import run_hypercorn, run_uvicorn
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from defusedxml import ElementTree
from hypothesis import given, settings
from hypothesis import strategies as st
from sigv4kit.middleware import (
    ErrorFormat,
    MemoryKeyStore,
    SigV4Middleware,
    StoreUnavailableError,
)
from starlette.requests import Request  # module level: FastAPI resolves annotations here

import sigv4kit
from examples.echo_service import create_app
from sigv4kit import KeyRecord, SigningSettings, VerifierConfig

# The example key pair of the AWS documentation.
AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TEMP_AKID = "ASIAIOSFODNN7EXAMPLE"
TEMP_SECRET = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLEsessiontoken//+/=="


def _store() -> MemoryKeyStore:
    far = datetime.now(UTC) + timedelta(hours=1)
    return MemoryKeyStore(
        [
            KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="alice"),
            KeyRecord(
                access_key_id="AKIAINACTIVEEXAMPLE1",
                secret_access_key=SECRET,
                principal="bob",
                active=False,
            ),
            KeyRecord(
                access_key_id=TEMP_AKID,
                secret_access_key=TEMP_SECRET,
                principal="role/reader",
                session_token_sha256=hashlib.sha256(TOKEN.encode()).hexdigest(),
                expires_at=far,
            ),
            KeyRecord(
                access_key_id="ASIAEXPIREDEXAMPLE01",
                secret_access_key=TEMP_SECRET,
                principal="role/old",
                session_token_sha256=hashlib.sha256(TOKEN.encode()).hexdigest(),
                expires_at=datetime.now(UTC) - timedelta(seconds=1),
            ),
        ]
    )


@pytest.fixture(scope="module")
def store() -> MemoryKeyStore:
    return _store()


@pytest.fixture(scope="module")
def server(store: MemoryKeyStore) -> Iterator[str]:
    with run_uvicorn(create_app(store, memory_body_limit=4096)) as url:
        yield url


BOTO = BotoCredentials(AKID, SECRET)
SIGV4 = sigv4kit.Credentials(AKID, SECRET)


def _send_botocore(request: AWSRequest) -> httpx.Response:
    prepared = request.prepare()
    return httpx.request(
        prepared.method, prepared.url, headers=dict(prepared.headers.items()), content=prepared.body
    )


def _ok(response: httpx.Response, principal: str = "alice") -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["principal"] == principal
    return data


# -- botocore as the independent client --------------------------------------------------


def test_botocore_sigv4auth_post_with_body(server: str) -> None:
    body = b'{"hello": "world"}'
    # botocore signs the query as it is written (its serializers always send
    # %2B); a raw '+' is canonicalized by AWS as %2B, not as a space.
    request = AWSRequest(method="POST", url=f"{server}/items/a%20b?x=1&y=a%2Bb%20c", data=body)
    SigV4Auth(BOTO, "execute-api", "eu-west-1").add_auth(request)
    data = _ok(_send_botocore(request))
    assert data["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert data["query"] == "x=1&y=a%2Bb%20c"
    assert data["method"] == "POST"


def test_botocore_s3_sigv4auth_put(server: str) -> None:
    body = b"object body" * 1000  # larger than the in-memory limit: spooled
    request = AWSRequest(method="PUT", url=f"{server}/bucket/dir/a%20file%2Bx.txt", data=body)
    S3SigV4Auth(BOTO, "s3", "us-east-1").add_auth(request)
    data = _ok(_send_botocore(request))
    assert data["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert data["path"] == "/bucket/dir/a file+x.txt"


def test_botocore_query_auths(server: str) -> None:
    request = AWSRequest(method="GET", url=f"{server}/things?max=3")
    SigV4QueryAuth(BOTO, "execute-api", "us-east-1", expires=60).add_auth(request)
    _ok(_send_botocore(request))
    request = AWSRequest(method="GET", url=f"{server}/bucket/key~1.txt")
    S3SigV4QueryAuth(BOTO, "s3", "us-east-1", expires=60).add_auth(request)
    _ok(_send_botocore(request))


def _s3_client(server: str, **credentials: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id=credentials.get("key", AKID),
        aws_secret_access_key=credentials.get("secret", SECRET),
        aws_session_token=credentials.get("token"),
        region_name="us-east-1",
    )
    return session.client(
        "s3",
        endpoint_url=server,
        # SigV4 only: without it botocore presigns S3 URLs with SigV2.
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def test_boto3_generate_presigned_url(server: str, store: MemoryKeyStore) -> None:
    client = _s3_client(server)
    try:
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": "bucket", "Key": "reports/2024 q1+final.csv"},
            ExpiresIn=120,
        )
    finally:
        client.close()
    data = _ok(httpx.get(url))
    assert data["path"] == "/bucket/reports/2024 q1+final.csv"


async def _s3_like_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    # botocore's S3 client reads a 200 with a non-XML body as a failed request
    # (its "200 error" handling), so S3 calls go to an app that answers like S3.
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"etag", b'"0"'), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def s3_server(store: MemoryKeyStore) -> Iterator[str]:
    config = VerifierConfig(services={"s3"})
    with run_uvicorn(SigV4Middleware(_s3_like_app, store=store, config=config)) as url:
        yield url


def test_boto3_s3_client_put_and_head(s3_server: str, store: MemoryKeyStore) -> None:
    client = _s3_client(s3_server)
    try:
        client.put_object(Bucket="bucket", Key="hello.txt", Body=b"hello from boto3")
        assert store.last_used[AKID].service == "s3"
        client.head_object(Bucket="bucket", Key="hello.txt")
    finally:
        client.close()


def test_boto3_temporary_credentials(s3_server: str, store: MemoryKeyStore) -> None:
    client = _s3_client(s3_server, key=TEMP_AKID, secret=TEMP_SECRET, token=TOKEN)
    try:
        client.head_object(Bucket="bucket", Key="x")
        assert store.last_used[TEMP_AKID].service == "s3"
    finally:
        client.close()


def test_boto3_json_service_client(server: str, store: MemoryKeyStore) -> None:
    session = boto3.session.Session(
        aws_access_key_id=AKID, aws_secret_access_key=SECRET, region_name="eu-central-1"
    )
    client = session.client("dynamodb", endpoint_url=server)
    try:
        client.list_tables()
    finally:
        client.close()
    use = store.last_used[AKID]
    assert (use.service, use.region) == ("dynamodb", "eu-central-1")


# -- sigv4kit's own client -------------------------------------------------------------------


def test_sigv4kit_clients(server: str) -> None:
    auth = sigv4kit.SigV4Auth(SIGV4, region="us-west-2", service="execute-api")
    with httpx.Client(auth=auth) as client:
        _ok(client.post(f"{server}/a/b?q=1", content=b"payload"))
    s3_auth = sigv4kit.SigV4Auth(
        SIGV4, region="us-west-2", service="s3", settings=SigningSettings.s3()
    )
    with httpx.Client(auth=s3_auth) as client:
        data = _ok(client.put(f"{server}/bucket/k%20ey", content=b"x" * 10000))
        assert data["body_sha256"] == hashlib.sha256(b"x" * 10000).hexdigest()
    v4a = sigv4kit.SigV4AAuth(SIGV4, region_set="*", service="execute-api")
    with httpx.Client(auth=v4a) as client:
        _ok(client.get(f"{server}/v4a"))
    url = sigv4kit.presign(
        "GET", f"{server}/bucket/key.txt", credentials=SIGV4, region="us-east-1",
        service="s3", settings=SigningSettings.s3(), expires_in=60,
    )
    _ok(httpx.get(url))
    url = sigv4kit.presign(
        "GET", f"{server}/anything", credentials=SIGV4, region="us-east-1",
        service="execute-api", expires_in=60, algorithm=sigv4kit.SigningAlgorithm.SIGV4A,
    )
    _ok(httpx.get(url))


async def test_sigv4kit_async_client(server: str) -> None:
    auth = sigv4kit.SigV4Auth(SIGV4, region="us-east-1", service="execute-api")
    async with httpx.AsyncClient(auth=auth) as client:
        _ok(await client.get(f"{server}/async"))


def test_hypercorn(store: MemoryKeyStore) -> None:
    with run_hypercorn(create_app(store)) as url:
        auth = sigv4kit.SigV4Auth(SIGV4, region="us-east-1", service="execute-api")
        with httpx.Client(auth=auth) as client:
            _ok(client.post(f"{url}/h?x=1", content=b"body"))
            # sigv4kit signs every header it sends, x-amz-meta-* included.
            response = client.get(f"{url}/h", headers={"x-amz-meta-note": "1"})
        assert response.status_code == 200
        # An x-amz-* header added after signing is refused (header smuggling).
        request = AWSRequest(method="GET", url=f"{url}/h")
        SigV4Auth(BOTO, "execute-api", "us-east-1").add_auth(request)
        prepared = request.prepare()
        headers = dict(prepared.headers.items())
        headers["x-amz-copy-source"] = "other/bucket"
        refused = httpx.get(prepared.url, headers=headers)
        assert refused.status_code == 403
        assert _xml(refused)["HeadersNotSigned"] == "x-amz-copy-source"


# -- error table, body formats ------------------------------------------------------------------


def _xml(response: httpx.Response) -> dict[str, str]:
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Error"
    return {child.tag: child.text or "" for child in root}


def _signed(url: str, *, service: str = "execute-api", method: str = "GET",
            headers: dict[str, str] | None = None, body: bytes = b"",
            creds: BotoCredentials = BOTO, s3: bool = False) -> tuple[str, dict[str, str], bytes]:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    signer = S3SigV4Auth if s3 else SigV4Auth
    signer(creds, "s3" if s3 else service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    return prepared.url, dict(prepared.headers.items()), body


def test_error_codes_s3_xml(server: str) -> None:
    url, headers, _ = _signed(f"{server}/x")
    cases: list[tuple[str, int, httpx.Response]] = []

    def check(response: httpx.Response, code: str, status: int) -> dict[str, str]:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/xml"
        fields = _xml(response)
        assert fields["Code"] == code
        assert fields["RequestId"] == response.headers["x-amz-request-id"]
        cases.append((code, status, response))
        return fields

    # Two mechanisms.
    fields = check(httpx.get(f"{url}?X-Amz-Algorithm=AWS4-HMAC-SHA256", headers=headers),
                   "InvalidArgument", 400)
    assert fields["ArgumentName"] == "Authorization"
    # SigV2.
    check(httpx.get(url, headers={"Authorization": "AWS AKIAIOSFODNN7EXAMPLE:abc"}),
          "InvalidRequest", 400)
    # Missing component / missing equal sign.
    broken = headers["Authorization"].split(", Signature=")[0]
    check(httpx.get(url, headers={**headers, "Authorization": broken}),
          "AuthorizationHeaderMalformed", 400)
    check(httpx.get(url, headers={**headers, "Authorization": "AWS4-HMAC-SHA256 Credential"}),
          "IncompleteSignature", 400)
    # Bad terminal in the scope.
    bad_scope = headers["Authorization"].replace("aws4_request", "aws5_request")
    check(httpx.get(url, headers={**headers, "Authorization": bad_scope}),
          "AuthorizationHeaderMalformed", 400)
    # Presigned parameters.
    check(httpx.get(f"{server}/x?X-Amz-Algorithm=AWS4-HMAC-SHA256"),
          "AuthorizationQueryParametersError", 400)
    # No date.
    no_date = {k: v for k, v in headers.items() if k.lower() != "x-amz-date"}
    fields = check(httpx.get(url, headers=no_date), "AccessDenied", 403)
    assert "valid Date or x-amz-date" in fields["Message"]
    # Skew: signed 20 minutes ago.
    old = sigv4kit.sign(
        "GET", "/x", [("Host", url.split("//")[1].split("/")[0])], credentials=SIGV4,
        region="us-east-1", service="execute-api",
        now=datetime.now(UTC) - timedelta(minutes=20),
    )
    fields = check(httpx.get(url, headers=dict(old.headers)), "RequestTimeTooSkewed", 403)
    assert fields["MaxAllowedSkewMilliseconds"] == "900000"
    assert fields["RequestTime"] == old.string_to_sign.amz_date
    # Presigned URL expired.
    expired = sigv4kit.presign(
        "GET", f"{server}/x", credentials=SIGV4, region="us-east-1", service="execute-api",
        expires_in=1, now=datetime.now(UTC) - timedelta(seconds=30),
    )
    fields = check(httpx.get(expired), "AccessDenied", 403)
    assert fields["Message"] == "Request has expired"
    assert fields["X-Amz-Expires"] == "1"
    # Unknown and inactive keys.
    unknown = BotoCredentials("AKIAUNKNOWNEXAMPLE00", SECRET)
    u_url, u_headers, _ = _signed(f"{server}/x", creds=unknown)
    fields = check(httpx.get(u_url, headers=u_headers), "InvalidAccessKeyId", 403)
    assert fields["AWSAccessKeyId"] == "AKIAUNKNOWNEXAMPLE00"
    inactive = BotoCredentials("AKIAINACTIVEEXAMPLE1", SECRET)
    i_url, i_headers, _ = _signed(f"{server}/x", creds=inactive)
    check(httpx.get(i_url, headers=i_headers), "InvalidAccessKeyId", 403)
    # Temporary keys: wrong token, no token, expired.
    wrong = BotoCredentials(TEMP_AKID, TEMP_SECRET, "not-the-token")
    w_url, w_headers, _ = _signed(f"{server}/x", creds=wrong)
    check(httpx.get(w_url, headers=w_headers), "InvalidToken", 400)
    n_url, n_headers, _ = _signed(f"{server}/x", creds=BotoCredentials(TEMP_AKID, TEMP_SECRET))
    check(httpx.get(n_url, headers=n_headers), "InvalidToken", 400)
    e_url, e_headers, _ = _signed(
        f"{server}/x", creds=BotoCredentials("ASIAEXPIREDEXAMPLE01", TEMP_SECRET, TOKEN)
    )
    check(httpx.get(e_url, headers=e_headers), "ExpiredToken", 400)
    # Signature mismatch, with S3's diagnostics.
    wrong_secret = BotoCredentials(AKID, "not-the-secret")
    s_url, s_headers, _ = _signed(f"{server}/x", creds=wrong_secret)
    fields = check(httpx.get(s_url, headers=s_headers), "SignatureDoesNotMatch", 403)
    assert fields["CanonicalRequest"].startswith("GET\n/x\n")
    assert fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert fields["StringToSignBytes"].startswith("41 57 53 34")
    assert bytes.fromhex(fields["CanonicalRequestBytes"].replace(" ", "")).decode() == (
        fields["CanonicalRequest"]
    )
    assert SECRET not in response_texts(cases)
    # Payload hash: the body differs from the signed x-amz-content-sha256.
    p_url, p_headers, _ = _signed(f"{server}/bucket/k", method="PUT", body=b"abc", s3=True)
    fields = check(httpx.put(p_url, headers=p_headers, content=b"abd"),
                   "XAmzContentSHA256Mismatch", 400)
    assert fields["ClientComputedContentSHA256"] == hashlib.sha256(b"abc").hexdigest()
    assert fields["S3ComputedContentSHA256"] == hashlib.sha256(b"abd").hexdigest()
    # S3 rules: x-amz-content-sha256 is required; default rules refuse UNSIGNED-PAYLOAD.
    m_url, m_headers, _ = _signed(f"{server}/bucket/k")
    m_headers["Authorization"] = m_headers["Authorization"].replace("/execute-api/", "/s3/")
    check(httpx.get(m_url, headers=m_headers), "InvalidRequest", 400)
    unsigned = {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
    up_url, up_headers, _ = _signed(f"{server}/x", headers=unsigned)
    fields = check(httpx.get(up_url, headers=up_headers), "InvalidArgument", 400)
    assert fields["ArgumentName"] == "x-amz-content-sha256"
    # aws-chunked needs its decoded length declared (and signed).
    streaming = sigv4kit.sign(
        "PUT", "/bucket/k", [("Host", server.removeprefix("http://"))], credentials=SIGV4,
        region="us-east-1", service="s3", now=datetime.now(UTC),
        settings=SigningSettings.s3(), payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    )
    response = httpx.put(f"{server}/bucket/k", headers=dict(streaming.headers), content=b"")
    fields = check(response, "InvalidRequest", 400)
    assert "x-amz-decoded-content-length" in _xml(response)["Message"]
    # Event streams (another STREAMING-* payload) are refused clearly.
    ecdsa = sigv4kit.sign(
        "PUT", "/bucket/k", [("Host", server.removeprefix("http://"))], credentials=SIGV4,
        region="us-east-1", service="s3", now=datetime.now(UTC),
        settings=SigningSettings.s3(),
        payload_hash="STREAMING-AWS4-HMAC-SHA256-EVENTS",
    )
    response = httpx.put(f"{server}/bucket/k", headers=dict(ecdsa.headers), content=b"")
    assert response.status_code == 501
    assert _xml(response)["Code"] == "NotImplemented"


def response_texts(cases: list[tuple[str, int, httpx.Response]]) -> str:
    return "".join(response.text for _, _, response in cases)


def test_entity_too_large_and_spooling(store: MemoryKeyStore) -> None:
    app = create_app(store, memory_body_limit=1024, max_body_size=200_000)
    with run_uvicorn(app) as url:
        auth = sigv4kit.SigV4Auth(SIGV4, region="us-east-1", service="execute-api")
        with httpx.Client(auth=auth) as client:
            body = bytes(range(256)) * 700  # 179,200 bytes: spooled to a file
            data = _ok(client.put(f"{url}/big", content=body))
            assert data["body_sha256"] == hashlib.sha256(body).hexdigest()
            response = client.put(f"{url}/big", content=b"x" * 200_001)
        assert response.status_code == 413
        assert _xml(response)["Code"] == "EntityTooLarge"

        # Without Content-Length (chunked): refused while streaming.
        def chunks() -> Iterator[bytes]:
            for _ in range(30):
                yield b"y" * 10_000

        request = AWSRequest(method="PUT", url=f"{url}/big", headers={
            "X-Amz-Content-SHA256": hashlib.sha256(b"y" * 300_000).hexdigest()})
        SigV4Auth(BOTO, "execute-api", "us-east-1").add_auth(request)
        prepared = request.prepare()
        unsized = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
        streamed = httpx.put(prepared.url, headers=unsized, content=chunks())
        assert streamed.status_code == 413


@pytest.mark.parametrize(
    ("error_format", "content_type"),
    [(ErrorFormat.QUERY_XML, "text/xml"), (ErrorFormat.JSON, "application/x-amz-json-1.1")],
)
def test_other_error_formats(
    store: MemoryKeyStore, error_format: ErrorFormat, content_type: str
) -> None:
    app = create_app(store, error_format=error_format)
    with run_uvicorn(app) as url:
        s_url, s_headers, _ = _signed(f"{url}/x", creds=BotoCredentials(AKID, "wrong"))
        u_url, u_headers, _ = _signed(f"{url}/x", creds=BotoCredentials("AKIAUNKNOWN", SECRET))
        e_url, e_headers, _ = _signed(
            f"{url}/x", creds=BotoCredentials("ASIAEXPIREDEXAMPLE01", TEMP_SECRET, TOKEN))
        responses = {
            "SignatureDoesNotMatch": (403, httpx.get(s_url, headers=s_headers)),
            "InvalidAccessKeyId": (403, httpx.get(u_url, headers=u_headers)),
            "ExpiredToken": (400, httpx.get(e_url, headers=e_headers)),
            "AccessDenied": (403, httpx.get(f"{url}/x")),
            "InvalidArgument": (400, httpx.get(f"{s_url}?X-Amz-Algorithm=x", headers=s_headers)),
        }
        head = httpx.head(s_url, headers=s_headers)
    for code, (status, response) in responses.items():
        assert response.status_code == status
        assert response.headers["content-type"] == content_type
        request_id = response.headers["x-amz-request-id"]
        assert response.headers["x-amzn-requestid"] == request_id
        if error_format is ErrorFormat.JSON:
            assert response.json()["__type"] == code
            assert response.json()["message"]
            assert response.headers["x-amzn-errortype"] == code
        else:
            root = ElementTree.fromstring(response.content)
            assert root.tag == "ErrorResponse"
            assert root.findtext("Error/Code") == code
            assert root.findtext("Error/Type") == "Sender"
            assert root.findtext("RequestId") == request_id
    assert head.status_code == 403
    assert head.content == b""


def test_head_error_has_no_body(server: str) -> None:
    response = httpx.head(f"{server}/x")
    assert response.status_code == 403
    assert response.content == b""
    assert response.headers["x-amz-request-id"]


def test_anonymous_request_is_denied(server: str) -> None:
    response = httpx.get(f"{server}/x")
    assert response.status_code == 403
    assert _xml(response)["Code"] == "AccessDenied"


# -- store failures fail closed -----------------------------------------------------------------


class _BrokenStore(MemoryKeyStore):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def get_key(self, access_key_id: str) -> KeyRecord | None:
        raise self.error


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (StoreUnavailableError("database is down"), 503, "ServiceUnavailable"),
        (RuntimeError("password=hunter2 leaked in a message"), 500, "InternalError"),
    ],
)
def test_store_failure_fails_closed(
    error: Exception, status: int, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(_BrokenStore(error))
    with run_uvicorn(app) as url:
        s_url, s_headers, _ = _signed(f"{url}/x")
        response = httpx.get(s_url, headers=s_headers)
    assert response.status_code == status
    assert _xml(response)["Code"] == code
    assert "hunter2" not in caplog.text
    assert "hunter2" not in response.text


# -- pass-through, proxies, websockets ------------------------------------------------------------


async def _ok_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        return
    user = scope["user"]
    body = json.dumps({"user": user.display_name, "auth": user.is_authenticated}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def test_exempt_paths_and_cors_preflight(store: MemoryKeyStore) -> None:
    app = SigV4Middleware(_ok_app, store=store, exempt_paths=["/healthz", "/public/*"],
                          allow_cors_preflight=True)
    with run_uvicorn(app) as url:
        assert httpx.get(f"{url}/healthz").json() == {"user": "", "auth": False}
        assert httpx.get(f"{url}/public/a/b").status_code == 200
        assert httpx.get(f"{url}/healthz2").status_code == 403
        preflight = httpx.options(f"{url}/x", headers={
            "Origin": "https://example.com", "Access-Control-Request-Method": "PUT"})
        assert preflight.status_code == 200
        assert httpx.options(f"{url}/x").status_code == 403


def test_trusted_proxy_forwarded_host(store: MemoryKeyStore) -> None:
    # The client signed for the public host; the proxy (127.0.0.1) rewrote Host.
    signed = sigv4kit.sign(
        "GET", "/p", [("Host", "api.example.com:8443")], credentials=SIGV4,
        region="us-east-1", service="execute-api", now=datetime.now(UTC),
    )
    headers = {k: v for k, v in signed.headers if k.lower() != "host"}
    forwarded = {"X-Forwarded-Host": "api.example.com", "X-Forwarded-Port": "8443",
                 "X-Forwarded-Proto": "https"}
    trusting = SigV4Middleware(_ok_app, store=store, trusted_proxies=["127.0.0.0/8"])
    with run_uvicorn(trusting) as url:
        assert httpx.get(f"{url}/p", headers={**headers, **forwarded}).status_code == 200
    untrusting = SigV4Middleware(_ok_app, store=store, trusted_proxies=["10.0.0.0/8"])
    with run_uvicorn(untrusting) as url:
        response = httpx.get(f"{url}/p", headers={**headers, **forwarded})
        assert response.status_code == 403
        assert _xml(response)["Code"] == "SignatureDoesNotMatch"


def _websocket_status(url: str, target: str, headers: dict[str, str]) -> int:
    host, port = url.removeprefix("http://").split(":")
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *[f"{k}: {v}" for k, v in headers.items()],
    ]
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


def test_websocket_handshake(store: MemoryKeyStore) -> None:
    app = SigV4Middleware(_ok_app, store=store)
    with run_uvicorn(app) as url:
        host = url.removeprefix("http://")
        signed = sigv4kit.sign(
            "GET", "/ws", [("Host", host)], credentials=SIGV4, region="us-east-1",
            service="execute-api", now=datetime.now(UTC),
        )
        headers = {k: v for k, v in signed.headers if k.lower() != "host"}
        assert _websocket_status(url, "/ws", headers) == 101
        presigned = sigv4kit.presign(
            "GET", f"{url}/ws", credentials=SIGV4, region="us-east-1",
            service="execute-api", expires_in=60,
        )
        assert _websocket_status(url, presigned.removeprefix(url), {}) == 101
        assert _websocket_status(url, "/ws", {}) == 403
        authorization = headers["Authorization"]
        flipped = authorization[:-1] + ("1" if authorization[-1] == "0" else "0")
        bad = {**headers, "Authorization": flipped}
        assert _websocket_status(url, "/ws", bad) == 403


def test_verifier_config_restricts_regions_and_services(store: MemoryKeyStore) -> None:
    config = VerifierConfig(regions={"eu-west-1"}, services={"execute-api"})
    app = SigV4Middleware(_ok_app, store=store, config=config)
    with run_uvicorn(app) as url:
        r_url, r_headers, _ = _signed(f"{url}/x")  # signed for us-east-1
        response = httpx.get(r_url, headers=r_headers)
        fields = _xml(response)
        assert fields["Code"] == "AuthorizationHeaderMalformed"
        assert fields["Region"] == "eu-west-1"
        request = AWSRequest(method="GET", url=f"{url}/x")
        SigV4Auth(BOTO, "execute-api", "eu-west-1").add_auth(request)
        assert _send_botocore(request).status_code == 200
        request = AWSRequest(method="GET", url=f"{url}/x")
        SigV4Auth(BOTO, "lambda", "eu-west-1").add_auth(request)
        response = _send_botocore(request)
        assert _xml(response)["Code"] == "AuthorizationHeaderMalformed"
        assert "incorrect service" in _xml(response)["Message"]


# -- Starlette and FastAPI -------------------------------------------------------------------


def test_starlette_request_user_and_auth(store: MemoryKeyStore) -> None:
    from starlette.applications import Starlette
    from starlette.authentication import requires
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    @requires("authenticated")
    async def whoami(request: Request) -> JSONResponse:
        return JSONResponse({
            "user": request.user.display_name,
            "authenticated": request.user.is_authenticated,
            "scopes": request.auth.scopes,
            "akid": request.scope["sigv4"].access_key_id,
            "body": (await request.body()).decode(),
        })

    app = Starlette(routes=[Route("/whoami", whoami, methods=["GET", "POST"])])
    app.add_middleware(SigV4Middleware, store=store)
    with run_uvicorn(app) as url:
        auth = sigv4kit.SigV4Auth(SIGV4, region="us-east-1", service="execute-api")
        with httpx.Client(auth=auth) as client:
            response = client.post(f"{url}/whoami", content=b"verified body")
        assert httpx.get(f"{url}/whoami").status_code == 403
    assert response.json() == {
        "user": "alice", "authenticated": True, "scopes": ["authenticated"],
        "akid": AKID, "body": "verified body",
    }


def test_fastapi_request_user(store: MemoryKeyStore) -> None:
    from fastapi import FastAPI

    api = FastAPI()

    @api.post("/items")
    async def create(request: Request) -> dict[str, Any]:
        payload = await request.json()
        return {"user": request.user.display_name, "scopes": request.auth.scopes, **payload}

    with run_uvicorn(SigV4Middleware(api, store=store)) as url:
        request = AWSRequest(method="POST", url=f"{url}/items", data=b'{"name": "x"}',
                             headers={"Content-Type": "application/json"})
        SigV4Auth(BOTO, "execute-api", "us-east-1").add_auth(request)
        response = _send_botocore(request)
    assert response.status_code == 200, response.text
    assert response.json() == {"user": "alice", "scopes": ["authenticated"], "name": "x"}


# -- fuzzing through the middleware (in process) ---------------------------------------------


def _status_of(app: SigV4Middleware, headers: list[tuple[bytes, bytes]], query: bytes) -> int:
    async def run() -> int:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http", "method": "GET", "path": "/", "raw_path": b"/",
            "query_string": query, "headers": headers, "client": ("127.0.0.1", 1),
            "scheme": "http", "http_version": "1.1", "root_path": "",
        }
        await app(scope, receive, send)
        return int(sent[0]["status"])

    return asyncio.run(run())


_BYTES = st.binary(max_size=120)
_AUTH_PREFIX = st.sampled_from(
    [b"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/", b"AWS4-ECDSA-P256-SHA256 ",
     b"AWS4-HMAC-SHA256 ", b"", b"AWS "]
)


@settings(max_examples=200, deadline=None)
@given(prefix=_AUTH_PREFIX, tail=_BYTES, date=_BYTES, query=_BYTES,
       presign=st.booleans())
def test_fuzz_middleware_never_5xx(
    prefix: bytes, tail: bytes, date: bytes, query: bytes, presign: bool
) -> None:
    app = SigV4Middleware(_ok_app, store=_store())
    headers = [(b"host", b"example.com"), (b"x-amz-date", date)]
    if not presign:
        headers.append((b"authorization", prefix + tail))
    else:
        query = b"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + tail + b"&" + query
    status = _status_of(app, headers, query)
    assert status < 500 or status == 501


# -- the replay cache never lets a changed request or key through --------------------------------


def test_replay_cache_rechecks_time_key_and_body() -> None:
    now = [datetime.now(UTC)]
    store = _store()
    app = SigV4Middleware(_ok_app, store=store, clock=lambda: now[0])
    body = b"signed body"
    signed = sigv4kit.sign(
        "POST", "/r", [("Host", "svc.local"), ("Content-Length", str(len(body)))],
        credentials=SIGV4, region="us-east-1", service="execute-api", now=now[0], body=body,
    )
    headers = [(k.lower().encode(), v.encode()) for k, v in signed.headers]
    assert _call(app, headers, body)[0] == 200
    assert _call(app, headers, body)[0] == 200  # replayed: served from the cache
    assert len(app._verified) == 1
    # Same headers, another body: the signature covers the body, so it fails.
    assert _call(app, headers, b"other body!")[0] == 403
    # The key's secret changes: the cached success is not trusted.
    store.add(KeyRecord(access_key_id=AKID, secret_access_key="rotated", principal="alice"))
    assert _call(app, headers, body)[0] == 403
    # The key is deactivated.
    store.add(KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="alice",
                        active=False))
    status, payload = _call(app, headers, body)
    assert status == 403
    assert b"InvalidAccessKeyId" in payload
    # Time moves on beyond the skew.
    store.add(KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="alice"))
    assert _call(app, headers, body)[0] == 200
    now[0] += timedelta(minutes=16)
    status, payload = _call(app, headers, body)
    assert status == 403
    assert b"RequestTimeTooSkewed" in payload


def test_replay_cache_is_bounded_and_can_be_disabled() -> None:
    store = _store()
    app = SigV4Middleware(_ok_app, store=store, verified_request_cache_size=2)
    # Signed bodies: requests the fast path leaves to the general path, which
    # is the one that fills the cache.
    body = b"signed body"
    for index in range(5):
        signed = sigv4kit.sign(
            "POST", f"/r{index}", [("Host", "svc.local"), ("Content-Length", str(len(body)))],
            credentials=SIGV4, region="us-east-1", service="execute-api",
            now=datetime.now(UTC), body=body,
        )
        headers = [(k.lower().encode(), v.encode()) for k, v in signed.headers]
        assert _call(app, headers, body, path=f"/r{index}".encode())[0] == 200
    assert len(app._verified) == 2
    off = SigV4Middleware(_ok_app, store=store, verified_request_cache_size=0)
    assert _call(off, headers, body, path=b"/r4")[0] == 200
    assert len(off._verified) == 0


def test_raw_path_fallback_reencodes_path() -> None:
    # raw_path is optional in ASGI: the decoded path is re-encoded as the SDKs do.
    store = _store()
    app = SigV4Middleware(_ok_app, store=store)
    signed = sigv4kit.sign(
        "POST", "/a%20b/c~d", [("Host", "svc.local")], credentials=SIGV4,
        region="us-east-1", service="execute-api", now=datetime.now(UTC),
    )
    headers = [(k.lower().encode(), v.encode()) for k, v in signed.headers]

    async def run() -> int:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/a b/c~d", "query_string": b"",
                 "headers": headers, "http_version": "1.1"}
        await app(scope, receive, send)
        return int(sent[0]["status"])

    assert asyncio.run(run()) == 200


def test_echo_module_app_uses_the_store_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from sigv4kit.middleware.asgi import middleware as _asgi

    import examples.echo_service as echo

    opened: list[str] = []

    def fake_open_store(url: str) -> MemoryKeyStore:
        opened.append(url)
        return _store()

    monkeypatch.setattr(_asgi, "open_store", fake_open_store)
    monkeypatch.setenv("SIGV4KIT_STORE", "sqlite:///somewhere.db")
    monkeypatch.delitem(echo.__dict__, "app", raising=False)
    app = echo.app
    assert isinstance(app, SigV4Middleware)
    assert opened == ["sqlite:///somewhere.db"]
    monkeypatch.delitem(echo.__dict__, "app")


def test_http2_authority_is_the_signed_host() -> None:
    app = SigV4Middleware(_ok_app, store=_store())
    signed = sigv4kit.sign(
        "POST", "/r", [("Host", "svc.local:8443")], credentials=SIGV4,
        region="us-east-1", service="execute-api", now=datetime.now(UTC),
    )
    headers = [(b":authority", b"svc.local:8443")] + [
        (k.lower().encode(), v.encode()) for k, v in signed.headers if k.lower() != "host"
    ]
    assert _call(app, headers)[0] == 200
    wrong = [(b":authority", b"other.local"), *headers[1:]]
    assert _call(app, wrong)[0] == 403


def test_botocore_presigned_with_session_token(server: str) -> None:
    temporary = BotoCredentials(TEMP_AKID, TEMP_SECRET, TOKEN)
    request = AWSRequest(method="GET", url=f"{server}/bucket/t.txt")
    S3SigV4QueryAuth(temporary, "s3", "us-east-1", expires=60).add_auth(request)
    _ok(_send_botocore(request), principal="role/reader")
    request = AWSRequest(method="GET", url=f"{server}/bucket/t.txt")
    S3SigV4QueryAuth(BotoCredentials(TEMP_AKID, TEMP_SECRET, "forged"), "s3", "us-east-1",
                     expires=60).add_auth(request)
    response = _send_botocore(request)
    assert response.status_code == 400
    assert _xml(response)["Code"] == "InvalidToken"


def test_unsigned_payload_under_s3_rules_streams_the_body(server: str) -> None:
    body = b"not covered by the signature" * 500
    host = server.removeprefix("http://")
    signed = sigv4kit.sign(
        "PUT", "/bucket/u", [("Host", host), ("Content-Length", str(len(body)))],
        credentials=SIGV4, region="us-east-1", service="s3", now=datetime.now(UTC),
        settings=SigningSettings.s3(), payload_hash="UNSIGNED-PAYLOAD",
    )
    headers = {k: v for k, v in signed.headers if k.lower() != "host"}
    data = _ok(httpx.put(f"{server}/bucket/u", headers=headers, content=body))
    assert data["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_echo_service_on_the_sqlite_store(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64
    import os

    from sigv4kit.middleware import SQLiteKeyStore

    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    database = tmp_path / "keys.db"

    async def provision() -> tuple[Any, Any]:
        store = SQLiteKeyStore(str(database))
        try:
            await store.create_principal("carol")
            key = await store.create_key("carol")
            session = await store.create_session("carol", duration_seconds=900)
        finally:
            await store.aclose()
        return key, session

    key, session = asyncio.run(provision())
    with run_uvicorn(create_app(f"sqlite:///{database}")) as url:
        long_term = sigv4kit.Credentials(key.access_key_id, key.secret_access_key)
        auth = sigv4kit.SigV4Auth(long_term, region="us-east-1", service="execute-api")
        with httpx.Client(auth=auth) as client:
            data = _ok(client.post(f"{url}/sqlite?x=1", content=b"body"), principal="carol")
        assert data["access_key_id"] == key.access_key_id
        temporary = sigv4kit.Credentials(
            session.access_key_id, session.secret_access_key, session.session_token
        )
        s3 = sigv4kit.SigV4Auth(temporary, region="us-east-1", service="s3",
                                settings=SigningSettings.s3())
        with httpx.Client(auth=s3) as client:
            _ok(client.get(f"{url}/bucket/key"), principal="carol")
        wrong = sigv4kit.Credentials(key.access_key_id, "not-the-secret")
        with httpx.Client(auth=sigv4kit.SigV4Auth(wrong, region="us-east-1",
                                                  service="execute-api")) as client:
            assert client.get(f"{url}/x").status_code == 403


def test_fast_path_caller_follows_a_replaced_key_record() -> None:
    """Two requests of one client in one second share one verified Identity; when the
    store's record of the key changes in between (here its account), the second
    request's caller is built from the new record, not remembered from the first."""
    from sigv4kit.middleware.store.entities import StoredKey

    akid, secret = "AKIDCALLERCACHE00001", "caller/cache/secret"
    store = MemoryKeyStore([StoredKey(access_key_id=akid, secret_access_key=secret,
                                      principal="carol", account_id="111111111111")])
    seen: list[tuple[str, str]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        caller = scope["sigv4.caller"]
        seen.append((caller.account_id, caller.arn))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = SigV4Middleware(app, store=store)
    now = datetime.now(UTC).replace(microsecond=0)
    signed = sigv4kit.sign("GET", "/r", [("Host", "example.com")],
                           credentials=sigv4kit.Credentials(akid, secret),
                           region="us-east-1", service="svc", now=now)
    headers = [(b"host", b"example.com")] + [
        (name.lower().encode(), value.encode()) for name, value in signed.added_headers]
    assert _call(middleware, headers, method="GET")[0] == 204
    store.add(StoredKey(access_key_id=akid, secret_access_key=secret, principal="carol",
                        account_id="222222222222"))
    assert _call(middleware, headers, method="GET")[0] == 204
    assert seen == [("111111111111", "arn:aws:iam::111111111111:user/carol"),
                    ("222222222222", "arn:aws:iam::222222222222:user/carol")]
