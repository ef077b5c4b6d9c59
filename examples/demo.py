"""The sigv4kit demo (what `make demo` runs): a SigV4-protected service, end to end.

1. Checks the signer against AWS's published signature for the test-suite
   request get-vanilla.
2. Starts examples/echo_service.py under uvicorn on the embedded SQLite store
   (a throw-away directory), creates an access key with `sigv4kit keys create`,
   and calls the service with sigv4kit's client (sync and async), with a
   presigned URL, and with an aws-chunked upload.
3. Sends a tampered request and shows the service's answer: AWS's exact
   SignatureDoesNotMatch error, with the canonical request it computed.
4. Deactivates the key and shows it refused.
5. IAM for the service (examples/_iam_story.py): `sigv4kit iam bootstrap`,
   `sigv4kit serve` (the IAM and STS APIs) managed with boto3, the orders
   service (examples/orders_service.py) authorizing each request by IAM
   policies, `sigv4kit policy simulate`, a role assumed with MFA, and the
   audit trail and access report of all that.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from defusedxml import ElementTree

import sigv4kit

ROOT = Path(__file__).resolve().parent.parent
# aws-c-auth tests/aws-signing-test-suite/v4/get-vanilla/header-signature.txt
PUBLISHED = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"


def section(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


def check_published_vector() -> None:
    section("1. The signer reproduces AWS's published signature")
    result = sigv4kit.sign(
        "GET", "/", [("Host", "example.amazonaws.com")],
        credentials=sigv4kit.Credentials(
            "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        ),
        region="us-east-1", service="service", now=datetime(2015, 8, 30, 12, 36, tzinfo=UTC),
    )
    print("String to sign:\n" + str(result.string_to_sign))
    print("Signature:", result.signature)
    if result.signature != PUBLISHED:
        raise SystemExit("the signature differs from AWS's published value")
    print("-> identical to AWS's published signature")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(*args: str, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "sigv4kit", *args], env=env, capture_output=True, text=True,
        check=False, timeout=60,
    )
    if proc.returncode != 0:
        raise SystemExit(f"sigv4kit {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def start_service(env: dict[str, str], port: int,
                  command: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        list(command) or [
            sys.executable, "-m", "uvicorn", "examples.echo_service:app", "--port", str(port),
            "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90  # a loaded CI machine imports slowly
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the service did not start") from None
            time.sleep(0.05)


def show(label: str, response: httpx.Response) -> None:
    print(f"{label}: HTTP {response.status_code}")
    if response.headers.get("content-type", "").startswith("application/json"):
        print("   ", json.dumps(response.json()))


def main() -> None:
    check_published_vector()
    with tempfile.TemporaryDirectory(prefix="sigv4kit-demo-") as workdir:
        store = f"sqlite:///{workdir}/keys.db"
        env = {**os.environ, "SIGV4KIT_STORE": store, "PYTHONPATH": str(ROOT)}
        env.pop("SIGV4KIT_MASTER_KEY", None)
        env.pop("SIGV4KIT_MASTER_KEY_FILE", None)

        section("2. Create an access key (embedded SQLite store, secrets encrypted at rest)")
        key = json.loads(cli("keys", "create", "--principal", "alice", "--json", env=env))
        print(f"sigv4kit keys create --principal alice -> {key['access_key_id']} "
              f"(status {key['status']}; the secret is shown once)")
        credentials = sigv4kit.Credentials(key["access_key_id"], key["secret_access_key"])

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_service(env, port)
        try:
            section("3. Call the service with sigv4kit's client")
            auth = sigv4kit.SigV4Auth(credentials, region="us-east-1", service="execute-api")
            with httpx.Client(auth=auth, transport=sigv4kit.RetryTransport()) as client:
                show("sync  GET  /orders?status=open", client.get(f"{base}/orders?status=open"))
                show("sync  POST /orders", client.post(f"{base}/orders", json={"item": "book"}))

            async def call_async() -> httpx.Response:
                async with httpx.AsyncClient(auth=auth) as client:
                    return await client.get(f"{base}/orders/42")

            show("async GET  /orders/42", asyncio.run(call_async()))

            url = sigv4kit.presign("GET", f"{base}/reports/q3.csv", credentials=credentials,
                                   region="us-east-1", service="s3",
                                   settings=sigv4kit.SigningSettings.s3(), expires_in=300)
            print("presigned URL:", url[:110] + "...")
            show("plain GET of the presigned URL", httpx.get(url))

            upload = sigv4kit.SigV4Auth(
                credentials, region="us-east-1", service="s3",
                settings=sigv4kit.SigningSettings.s3(),
                chunked=sigv4kit.ChunkedEncoding(
                    mode=sigv4kit.StreamingMode.SIGNED_TRAILER,
                    checksum=sigv4kit.ChecksumAlgorithm.CRC32,
                ),
            )

            def stream() -> Iterator[bytes]:
                for _ in range(4):
                    yield b"x" * 100_000

            with httpx.Client(auth=upload) as client:
                show("aws-chunked PUT of 400000 bytes, every 64 KiB chunk signed",
                     client.put(f"{base}/bucket/upload.bin", content=stream(),
                                headers={"Content-Length": "400000"}))

            section("4. A tampered request is refused, with the diagnostics S3 gives")
            request = httpx.Request("GET", f"{base}/orders?status=open")
            auth.sign(request)
            tampered = httpx.Request("GET", f"{base}/orders?status=closed",
                                     headers=request.headers)
            with httpx.Client() as client:
                response = client.send(tampered)
            error = ElementTree.fromstring(response.content)
            print(f"query changed after signing -> HTTP {response.status_code} "
                  f"{error.findtext('Code')}: {error.findtext('Message')}")
            print("The canonical request the service computed (note status=closed):")
            print("    " + str(error.findtext("CanonicalRequest")).replace("\n", "\n    "))
            print("What we signed:")
            print("    " + str(request.extensions["sigv4kit.signing_result"].canonical_request)
                  .replace("\n", "\n    "))

            section("5. Deactivate the key: the next call is refused")
            cli("keys", "deactivate", key["access_key_id"], env=env)
            deadline = time.monotonic() + 5
            with httpx.Client(auth=auth) as client:
                while True:
                    response = client.get(f"{base}/orders")
                    if response.status_code != 200 or time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
            error = ElementTree.fromstring(response.content)
            print(f"after `sigv4kit keys deactivate` -> HTTP {response.status_code} "
                  f"{error.findtext('Code')}: {error.findtext('Message')}")
        finally:
            server.terminate()
            server.wait(10)
        iam_story(workdir, env)
    print("\nDemo complete.")


def iam_story(workdir: str, env: dict[str, str]) -> None:
    sys.path.insert(0, str(ROOT))  # run as a script: examples/ is not a package on the path
    from examples import _iam_story

    section("6. IAM for the service: an administrator, the IAM and STS APIs, boto3")
    store = f"sqlite:///{workdir}/iam.db"
    env = {**env, "SIGV4KIT_STORE": store, "SIGV4KIT_AUDIT_DIR": f"{workdir}/orders-audit"}
    admin = json.loads(cli("iam", "bootstrap", "--store", store, "--user", "admin",
                           "--console-password", "--json", env=env))
    print(f"sigv4kit iam bootstrap --user admin -> {admin['arn']} ({admin['access_key_id']})")
    iam_port, orders_port = free_port(), free_port()
    servers = [
        start_service(env, iam_port, (sys.executable, "-m", "sigv4kit", "serve", "--store",
                                      store, "--port", str(iam_port), "--log-level", "warning")),
        start_service(env, orders_port, (sys.executable, "-m", "uvicorn",
                                         "examples.orders_service:app", "--port",
                                         str(orders_port), "--log-level", "warning",
                                         "--no-access-log")),
    ]
    print(f"sigv4kit serve on http://127.0.0.1:{iam_port} (the IAM and STS APIs), "
          f"orders service on http://127.0.0.1:{orders_port}")
    print(f"IAM console: http://127.0.0.1:{iam_port}/console/ (while the demo runs) - sign in "
          f"with account {admin['account_id']}, user admin, password "
          f"{admin['console_password']}")
    try:
        _iam_story.run(store=store, iam_url=f"http://127.0.0.1:{iam_port}",
                       orders_url=f"http://127.0.0.1:{orders_port}", admin=admin, cli=cli,
                       section=section, env=env)
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
