"""A real local SigV4 service for client tests: uvicorn on 127.0.0.1, random port.

Every attempt's signature is recomputed independently with botocore (the
oracle) and recorded; replies can be scripted (503, throttling, skew errors)
and always carry a ``Date`` header from the service's own clock.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import uvicorn
from botocore.auth import SigV4Auth as BotoSigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Attempt:
    method: str
    path: str
    amz_date: str
    signature: str
    valid: bool
    body: bytes
    headers: dict[str, str]


def botocore_signature(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    *,
    access_key: str,
    secret_key: str,
    token: str | None,
    region: str,
    service: str,
) -> str:
    """The signature botocore computes for the headers the request says it signed."""
    auth = headers["authorization"]
    signed = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    request = AWSRequest(
        method=method, url=url, data=body, headers={name: headers[name] for name in signed}
    )
    request.context["timestamp"] = headers["x-amz-date"]
    boto = BotoSigV4Auth(BotoCredentials(access_key, secret_key, token), service, region)
    canonical = boto.canonical_request(request)
    string_to_sign = boto.string_to_sign(request, canonical)
    return str(boto.signature(string_to_sign, request))


def xml_error(code: str, message: str = "", status: int = 400) -> Reply:
    body = (
        f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
        f"<Message>{message}</Message><RequestId>req-1</RequestId></Error>"
    ).encode()
    return status, {"content-type": "application/xml"}, body


@dataclass
class FakeService:
    access_key: str = "AKIDFAKE"
    secret_key: str = "fake/secret+key"
    region: str = "us-east-1"
    service: str = "fakesvc"
    #: the service's clock (real time unless a test says otherwise)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    #: "skew" answers RequestTimeTooSkewed when X-Amz-Date is > 5 min off;
    #: "signature" answers SignatureDoesNotMatch instead (services that do not say why)
    skew_reply: str = "skew"
    attempts: list[Attempt] = field(default_factory=list)
    script: list[Reply] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        raw_path = scope["raw_path"].decode("ascii")
        query = scope["query_string"].decode("ascii")
        url = f"http://{headers.get('host', '')}{raw_path}" + (f"?{query}" if query else "")
        status, reply_headers, reply_body = self._decide(
            scope["method"], url, raw_path, headers, body
        )
        now = self.clock()
        out = [(b"date", format_datetime(now, usegmt=True).encode())]
        out += [(k.encode(), v.encode()) for k, v in reply_headers.items()]
        out.append((b"content-length", str(len(reply_body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": reply_body})

    def _decide(
        self, method: str, url: str, path: str, headers: dict[str, str], body: bytes
    ) -> Reply:
        auth = headers.get("authorization", "")
        signature = auth.rsplit("Signature=", 1)[-1] if "Signature=" in auth else ""
        valid = False
        if signature and "x-amz-date" in headers:
            expected = botocore_signature(
                method,
                url,
                headers,
                body,
                access_key=self.access_key,
                secret_key=self.secret_key,
                token=headers.get("x-amz-security-token"),
                region=self.region,
                service=self.service,
            )
            valid = hmac.compare_digest(expected, signature)
        amz_date = headers.get("x-amz-date", "")
        with self.lock:
            self.attempts.append(
                Attempt(method, path, amz_date, signature, valid, body, dict(headers))
            )
            scripted = self.script.pop(0) if self.script else None
        if not valid:
            return xml_error("SignatureDoesNotMatch", status=403)
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if abs(signed_at - self.clock()) > timedelta(minutes=5):
            code = "RequestTimeTooSkewed" if self.skew_reply == "skew" else "SignatureDoesNotMatch"
            return xml_error(code, "clock", status=403)
        if scripted is not None:
            return scripted
        return 200, {"content-type": "application/json"}, b'{"ok": true}'


@contextmanager
def run_service(service: FakeService) -> Iterator[str]:
    """Serve ``service`` on 127.0.0.1 at a free port; yields the base URL."""
    config = uvicorn.Config(
        service,
        host="127.0.0.1",
        port=0,
        log_level="error",
        lifespan="off",
        ws="none",
        date_header=False,
        server_header=False,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
