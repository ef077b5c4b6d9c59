"""Middleware cost under load with fresh signatures, and a 1 GiB signed upload.

1. Throughput and server CPU. uvicorn as production runs it (``--http
   httptools --loop uvloop``, one worker, in a subprocess, loopback only),
   driven by ``wrk -t1 -c32`` with a Lua script that cycles through
   thousands of distinct requests, each signed afresh before the round (more
   than the middleware's verified-request cache holds, so every request is
   verified in full; all dated inside the skew window). Two inner apps, each
   served three ways:

   * a raw ASGI echo and a FastAPI hello world, bare;
   * the same behind ``SigV4Middleware`` (memory key store);
   * the same behind the *floor*: a minimal hand-written verifying wrapper
     (parse Authorization, date window, canonical request as bytes, two
     SHA-256, one HMAC with a cached key, constant-time compare). It is not
     a correct verifier in general; it bounds what any pure-Python one can reach.

   Rounds alternate between the six servers; medians are compared. Server
   CPU per request comes from the server's ``/proc/<pid>/stat`` utime+stime
   deltas, which stay meaningful when other processes load the machine.
2. Memory: a 1 GiB body signed with its SHA-256 (S3 rules) is uploaded to the
   middleware in front of an app that hashes what it receives; the server's
   peak RSS (``VmHWM``) is printed.

Needs ``wrk`` (Debian: ``apt-get install wrk``; ``make bench`` installs it).
Prints ratios and figures; asserts nothing.

    .venv/bin/python benchmarks/bench_middleware.py [--skip-upload] [--rounds N]
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

import sigv4kit
import sigv4kit.signing

AKID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CREDENTIALS = sigv4kit.Credentials(AKID, SECRET)
REGION, SERVICE = "us-east-1", "execute-api"
DURATION = 3  # seconds per wrk round
ROUNDS = 3
CONNECTIONS = 32
# More distinct requests than the middleware's verified-request cache holds.
DISTINCT_REQUESTS = 4 * 1024
UPLOAD_SIZE = 1024**3
UPLOAD_CHUNK = 1024 * 1024
# "+sigv4-pure": the middleware with the pure-Python build of the fast paths
# (SIGV4KIT_PURE_PYTHON=1 in its server), beside the installed (compiled) build.
MODES = ("echo", "echo+sigv4", "echo+sigv4-pure", "echo+floor",
         "fastapi", "fastapi+sigv4", "fastapi+sigv4-pure", "fastapi+floor")
PURE_ENV = "SIGV4KIT_PURE_PYTHON"

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

WRK_SCRIPT = r"""
local requests = {}
for line in io.lines(os.getenv("BENCH_REQUESTS")) do
  local path, host, date, authorization = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)")
  requests[#requests + 1] = wrk.format("GET", path, {
    ["Host"] = host, ["X-Amz-Date"] = date, ["Authorization"] = authorization,
  })
end
local index = 0
request = function()
  index = index % #requests + 1
  return requests[index]
end
"""


# -- the server side (run in a subprocess: `bench_middleware.py --serve MODE PORT`) ----------


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


def fastapi_app() -> ASGIApp:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"message": "hello"}

    return app


async def _forbidden(send: Any) -> None:
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def floor_wrapper(app: ASGIApp) -> ASGIApp:
    """The floor: the least work any SigV4 verifier must do for these requests.

    Header auth only, this one key, no validation beyond what the signature
    itself covers: parse Authorization, check the date window, build the
    canonical request as bytes, two SHA-256 and one HMAC with a cached key,
    compare in constant time. Not a correct verifier in general.
    """
    keys: dict[bytes, bytes] = {}
    dates: dict[bytes, float] = {}
    empty = hashlib.sha256(b"").hexdigest().encode()
    skew = timedelta(minutes=15).total_seconds()

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"")
        date = headers.get(b"x-amz-date", b"")
        try:
            _, credential, signed, signature = re.split(rb" Credential=|, SignedHeaders=|, "
                                                        rb"Signature=", authorization)
            akid, day, region, service, _ = credential.split(b"/")
            when = dates.get(date)
            if when is None:
                when = dates[date] = datetime.strptime(
                    date.decode(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            await _forbidden(send)
            return
        if akid != AKID.encode() or abs(time.time() - when) > skew:
            await _forbidden(send)
            return
        names = signed.split(b";")
        path = scope["raw_path"] or b"/"
        query = b"&".join(sorted(scope["query_string"].split(b"&")))
        canonical = b"\n".join([
            scope["method"].encode(), path, query,
            b"".join([name + b":" + headers[name].strip() + b"\n" for name in names]),
            signed, empty,
        ])
        scope_text = b"%s/%s/%s/aws4_request" % (day, region, service)
        key = keys.get(scope_text)
        if key is None:
            key = keys[scope_text] = sigv4kit.signing.derive_signing_key(
                SECRET, day.decode(), region.decode(), service.decode()
            )
        string_to_sign = b"AWS4-HMAC-SHA256\n%s\n%s\n%s" % (
            date, scope_text, hashlib.sha256(canonical).hexdigest().encode()
        )
        expected = hmac.digest(key, string_to_sign, "sha256").hex().encode()
        if not hmac.compare_digest(expected, signature):
            await _forbidden(send)
            return
        await app(scope, receive, send)

    return wrapper


async def sink(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Hashes the (verified) body it receives and answers with the digest."""
    if scope["type"] != "http":
        return
    digest = hashlib.sha256()
    while True:
        message = await receive()
        digest.update(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = digest.hexdigest().encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def build_app(mode: str) -> ASGIApp:
    from sigv4kit.middleware import MemoryKeyStore, SigV4Middleware

    store = MemoryKeyStore(
        [sigv4kit.KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="bench")]
    )
    if mode == "upload":
        return SigV4Middleware(sink, store=store)
    inner, _, wrapper = mode.partition("+")
    app = echo if inner == "echo" else fastapi_app()
    if wrapper in ("sigv4", "sigv4-pure"):
        return SigV4Middleware(app, store=store)
    if wrapper == "floor":
        return floor_wrapper(app)
    return app


def serve(mode: str, port: int) -> None:
    import uvicorn

    from sigv4kit._build import compiled

    if mode.endswith("-pure") and compiled():
        sys.exit(f"{mode}: the compiled build was loaded despite {PURE_ENV}=1")

    uvicorn.run(build_app(mode), host="127.0.0.1", port=port, http="httptools", loop="uvloop",
                log_level="warning", access_log=False, lifespan="off")


# -- the client side ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, mode: str, script: str = __file__, *extra: str) -> None:
        """``script --serve MODE PORT *extra`` in a subprocess (other benchmarks reuse this)."""
        self.mode = mode
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, script, "--serve", mode, str(self.port), *extra],
            env={**{k: v for k, v in os.environ.items() if k != PURE_ENV},
                 "PYTHONPATH": os.getcwd(), **({PURE_ENV: "1"} if mode.endswith("-pure") else {})},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError(f"{mode} server did not start") from None
                time.sleep(0.05)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def peak_rss_mib(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def signed_request(host: str, path: str, now: datetime) -> tuple[str, str]:
    """(X-Amz-Date, Authorization) of a GET signed as botocore would sign it."""
    result = sigv4kit.sign("GET", path, [("Host", host)], credentials=CREDENTIALS,
                           region=REGION, service=SERVICE, now=now)
    added = dict(result.added_headers)
    return added["X-Amz-Date"], added["Authorization"]


def write_requests(path: str, host: str) -> None:
    """Distinct requests (each its own query, so its own signature), signed now."""
    now = datetime.now(UTC)
    with open(path, "w") as out:
        for index in range(DISTINCT_REQUESTS):
            target = f"/hello?id={index}"
            date, authorization = signed_request(host, target, now)
            out.write(f"{target}\t{host}\t{date}\t{authorization}\n")


def run_wrk(server: Server, script: str, requests: str) -> tuple[float, int]:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}s", "-s", script,
               f"{server.url}/hello"]
    output = subprocess.run(command, capture_output=True, text=True, check=True,
                            env={**os.environ, "BENCH_REQUESTS": requests}).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if match is None or total is None or failed is not None:
        raise RuntimeError(f"wrk failed or got errors from {server.mode}:\n{output}")
    return float(match.group(1)), int(total.group(1))


def load(server: Server, script: str, directory: str) -> tuple[float, float]:
    """Requests per second, and server CPU microseconds per request."""
    requests = os.path.join(directory, f"{server.mode}.tsv")
    write_requests(requests, server.host)
    cpu_before = server.cpu_seconds()
    rate, count = run_wrk(server, script, requests)
    return rate, (server.cpu_seconds() - cpu_before) / count * 1e6


def check_servers(servers: dict[str, Server]) -> None:
    """Each server answers a signed request, and the verifying ones refuse a forged one."""
    for mode, server in servers.items():
        date, authorization = signed_request(server.host, "/hello", datetime.now(UTC))
        headers = {"X-Amz-Date": date, "Authorization": authorization}
        assert httpx.get(f"{server.url}/hello", headers=headers).status_code == 200, mode
        if "+" in mode:
            forged = {**headers, "Authorization": authorization[:-4] + "0000"}
            assert httpx.get(f"{server.url}/hello", headers=forged).status_code == 403, mode


def bench_throughput(rounds: int) -> None:
    if shutil.which("wrk") is None:
        sys.exit("bench_middleware needs wrk: apt-get install wrk (or `make bench`)")
    with tempfile.TemporaryDirectory() as directory:
        script = os.path.join(directory, "requests.lua")
        with open(script, "w") as out:
            out.write(WRK_SCRIPT)
        servers = {mode: Server(mode) for mode in MODES}
        results: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
        try:
            check_servers(servers)
            for _ in range(rounds):
                for mode, server in servers.items():
                    results[mode].append(load(server, script, directory))
        finally:
            for server in servers.values():
                server.close()
    rate = {mode: statistics.median(r for r, _ in runs) for mode, runs in results.items()}
    cpu = {mode: statistics.median(c for _, c in runs) for mode, runs in results.items()}
    from sigv4kit._build import compiled

    build = "compiled (mypyc)" if compiled() else "pure Python: no compiled build installed"
    print(f"uvicorn --http httptools --loop uvloop, 1 worker; wrk -t1 -c{CONNECTIONS}, "
          f"{DISTINCT_REQUESTS} distinct freshly signed GETs cycled; "
          f"{rounds} x {DURATION}s alternating rounds; medians; +sigv4 is the {build} build")
    for mode in MODES:
        print(f"  {mode:18s} {rate[mode]:8.0f} req/s  {cpu[mode]:6.1f} us server CPU/request")
    for inner, target in (("echo", 0.5), ("fastapi", 0.85)):
        bare = inner
        added_floor = cpu[f"{inner}+floor"] - cpu[bare]
        for variant in ("sigv4", "sigv4-pure"):
            mode = f"{inner}+{variant}"
            added = cpu[mode] - cpu[bare]
            print(f"{mode}: throughput {rate[mode] / rate[bare]:5.2f}x bare (target >= "
                  f"{target}x), floor {rate[f'{inner}+floor'] / rate[bare]:5.2f}x; added "
                  f"CPU/request: middleware {added:+6.1f} us, floor {added_floor:+6.1f} us, "
                  f"ratio {added / added_floor:5.2f}x (target <= 1.5x)")


def upload_chunks() -> Iterator[bytes]:
    block = hashlib.sha256(b"sigv4kit").digest() * (UPLOAD_CHUNK // 32)
    for index in range(UPLOAD_SIZE // UPLOAD_CHUNK):
        yield index.to_bytes(8, "big") + block[8:]


def bench_upload() -> None:
    digest = hashlib.sha256()
    for chunk in upload_chunks():
        digest.update(chunk)
    payload_hash = digest.hexdigest()
    server = Server("upload")
    try:
        result = sigv4kit.sign(
            "PUT", "/bucket/big.bin",
            [("Host", server.host), ("Content-Length", str(UPLOAD_SIZE))],
            credentials=CREDENTIALS, region="us-east-1", service="s3",
            settings=sigv4kit.SigningSettings.s3(), payload_hash=payload_hash,
            now=datetime.now(UTC),
        )
        headers = {name: value for name, value in result.headers if name.lower() != "host"}
        idle = server.peak_rss_mib()
        start = time.perf_counter()
        with httpx.Client(timeout=600) as client:
            response = client.put(f"{server.url}/bucket/big.bin", headers=headers,
                                  content=upload_chunks())
        elapsed = time.perf_counter() - start
        peak = server.peak_rss_mib()
    finally:
        server.close()
    ok = response.status_code == 200 and response.text == payload_hash
    print(f"1 GiB signed upload: status {response.status_code}, body verified and replayed: {ok}")
    print(f"  {elapsed:5.1f} s ({UPLOAD_SIZE / elapsed / 1024**2:5.0f} MiB/s), "
          f"server peak RSS {peak:5.1f} MiB (idle {idle:5.1f} MiB)  (target < 100 MiB)")


def main() -> None:
    rounds = ROUNDS
    if "--rounds" in sys.argv:
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1])
    bench_throughput(rounds)
    if "--skip-upload" not in sys.argv:
        bench_upload()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        main()
