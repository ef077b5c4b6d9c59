"""IAM authorization's cost: the orders service authorized vs authenticated only.

uvicorn as production runs it (``--http httptools --loop uvloop``, one
worker, in a subprocess, loopback only), driven by ``wrk -t1 -c32`` with a
Lua script cycling through thousands of distinct requests, each signed afresh
before the round (the approach of bench_middleware.py: every request is
verified in full). Two servers on the same SQLite store:

* ``authz``: examples/orders_service.py as shipped: ``SigV4Middleware`` +
  ``IAMAuthorizer`` + its guard, ``GET /orders/{id}`` declared with the
  FastAPI dependency ``authorize("orders:GetOrder", ...)``. The caller is a
  user in 2 groups; 5 managed policies of 10 statements each, with
  conditions (principal tags, source IP, secure transport, time, user
  agent, requested region), are attached to the groups and the user; the
  allowing statement is the last one of the last policy;
* ``authn``: the same FastAPI routes and answers without the dependency,
  behind ``SigV4Middleware`` with the default ``AllowAuthenticated``.

Rounds alternate between the two; medians are compared (target: authorized
>= 0.9x authenticated only). Server CPU per request comes from
``/proc/<pid>/stat``. Needs ``wrk``. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_authz.py [--rounds N] [--simple]

* ``audited``: ``authz`` with its audit trail on (``create_app(store, audit=...)``: one
  event per decision in a JSON-lines trail), for issue 18's "auditing costs at most 10%
  of the authorized-request throughput of the orders service".

``--simple`` gives the user one unconditional allowing statement instead (the
authorizer's own cost without the policy evaluation's).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, Request

import sigv4kit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_middleware import WRK_SCRIPT, free_port, run_wrk

ACCOUNT = "123456789012"
REGION, SERVICE = "us-east-1", "orders"
DURATION = 3
ROUNDS = 5
DISTINCT_REQUESTS = 4 * 1024
MODES = ("authn", "authz", "resolver", "audited")
STATEMENTS = 10
POLICIES = 5


# -- the server side (`bench_authz.py --serve MODE PORT STORE`) --------------------------------


def plain_routes() -> FastAPI:
    """The orders route answering what the request's IAM decision (if any) was about."""
    api = FastAPI()

    @api.get("/orders/{order_id}")
    async def get_order(order_id: str, request: Request) -> dict[str, Any]:
        caller = request.user.caller
        resource = f"arn:aws:orders:{caller.sigv4.region}:{caller.account_id}:order/{order_id}"
        return {"caller": caller.arn, "action": "orders:GetOrder", "resource": resource}

    return api


def authn_app(store: str) -> Any:
    """The orders routes without IAM: authentication only (AllowAuthenticated)."""
    from sigv4kit.middleware import SigV4Middleware

    return SigV4Middleware(plain_routes(), store=store,
                           config=sigv4kit.VerifierConfig(services=frozenset({SERVICE})))


def resolver_app(store: str) -> Any:
    """The same routes, declared to IAM by an ASGI-level resolver instead of a dependency."""
    from sigv4kit.middleware import ErrorFormat
    from sigv4kit.middleware.iam.authz import Resolution, iam_middleware

    def resolver(scope: Any) -> Resolution | None:
        path = scope["path"]
        if scope["method"] != "GET" or not path.startswith("/orders/"):
            return None
        iam = scope["sigv4.iam"]
        return Resolution(action="orders:GetOrder", resource=(
            f"arn:aws:orders:{iam.region}:{iam.account_id}:order/{path[8:]}"))

    return iam_middleware(plain_routes(), store=store, resolver=resolver,
                          error_format=ErrorFormat.JSON,
                          config=sigv4kit.VerifierConfig(services=frozenset({SERVICE})))


def serve(mode: str, port: int, store: str) -> None:
    import uvicorn

    if mode == "authz":
        from examples.orders_service import create_app

        app = create_app(store)
    elif mode == "audited":
        from examples.orders_service import audit_log, create_app

        app = create_app(store, audit=audit_log(store.removeprefix("sqlite:///") + ".audit"))
    elif mode == "resolver":
        app = resolver_app(store)
    else:
        app = authn_app(store)
    uvicorn.run(app, host="127.0.0.1", port=port, http="httptools", loop="uvloop",
                log_level="warning", access_log=False, lifespan="on")


# -- the identities ----------------------------------------------------------------------------


def statement(index: int, policy: int) -> dict[str, Any]:
    """Statements that match the action pattern often, but whose conditions do not hold."""
    conditions: list[dict[str, Any]] = [
        {"StringEquals": {"aws:PrincipalTag/team": f"team-{policy}-{index}"}},
        {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}},
        {"Bool": {"aws:SecureTransport": "true"}},
        {"DateLessThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}},
        {"StringLike": {"aws:UserAgent": "curl/*"}},
        {"StringEquals": {"aws:RequestedRegion": "eu-west-3"}},
    ]
    actions = ["orders:Get*", "orders:List*", "orders:Put*", "s3:GetObject", "orders:*"]
    return {
        "Sid": f"S{policy}x{index}",
        "Effect": "Allow",
        "Action": actions[index % len(actions)],
        "Resource": f"arn:aws:orders:*:{ACCOUNT}:order/*",
        "Condition": conditions[(index + policy) % len(conditions)],
    }


def policy_document(policy: int) -> str:
    if "--simple" in sys.argv:
        # The authorizer's floor: one unconditional statement allows; nothing else to check.
        only = {"Effect": "Allow", "Action": "orders:GetOrder",
                "Resource": f"arn:aws:orders:*:{ACCOUNT}:order/*"}
        return json.dumps({"Version": "2012-10-17",
                           "Statement": [only] if policy == POLICIES - 1 else [
                               {**only, "Action": "s3:GetObject"}]})
    statements = [statement(index, policy) for index in range(STATEMENTS)]
    if policy == POLICIES - 1:
        # The one that allows: last statement of the last policy, with conditions that hold.
        statements[-1] = {
            "Sid": "AllowReads", "Effect": "Allow", "Action": "orders:GetOrder",
            "Resource": f"arn:aws:orders:*:{ACCOUNT}:order/*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "orders",
                                           "aws:RequestedRegion": REGION},
                          "IpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
        }
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


async def make_identities(store_url: str) -> tuple[str, str]:
    from sigv4kit.middleware import open_store
    from sigv4kit.middleware.iam.entities import IAMStore

    store = open_store(store_url)
    try:
        iam = IAMStore(store)
        await iam.create_account(ACCOUNT)
        await iam.create_user(ACCOUNT, "bench", tags={"team": "orders"})
        for group in ("group-a", "group-b"):
            await iam.create_group(ACCOUNT, group)
            await iam.add_user_to_group(ACCOUNT, group, "bench")
        owners = [("group", "group-a"), ("group", "group-a"), ("group", "group-b"),
                  ("group", "group-b"), ("user", "bench")]
        for number, (kind, name) in enumerate(owners):
            policy = await iam.create_policy(ACCOUNT, f"Orders{number}", policy_document(number))
            if kind == "group":
                await iam.attach_group_policy(ACCOUNT, name, policy.arn)
            else:
                await iam.attach_user_policy(ACCOUNT, name, policy.arn)
        key = await iam.create_access_key(ACCOUNT, "bench")
        return key.access_key_id, key.secret_access_key
    finally:
        await store.aclose()


# -- the client side ---------------------------------------------------------------------------


class Server:
    def __init__(self, mode: str, store: str) -> None:
        self.mode = mode
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", mode, str(self.port), store],
            env={**os.environ, "PYTHONPATH": os.getcwd()},
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

    def cpu_seconds(self) -> float:
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


def signed(credentials: sigv4kit.Credentials, host: str, path: str, now: datetime
           ) -> tuple[str, str]:
    result = sigv4kit.sign("GET", path, [("Host", host)], credentials=credentials,
                           region=REGION, service=SERVICE, now=now)
    added = dict(result.added_headers)
    return added["X-Amz-Date"], added["Authorization"]


def write_requests(path: str, host: str, credentials: sigv4kit.Credentials) -> None:
    now = datetime.now(UTC)
    with open(path, "w") as out:
        for index in range(DISTINCT_REQUESTS):
            target = f"/orders/{index}"
            date, authorization = signed(credentials, host, target, now)
            out.write(f"{target}\t{host}\t{date}\t{authorization}\n")


def check(server: Server, credentials: sigv4kit.Credentials) -> None:
    date, authorization = signed(credentials, server.host, "/orders/1", datetime.now(UTC))
    response = httpx.get(f"{server.url}/orders/1",
                         headers={"X-Amz-Date": date, "Authorization": authorization})
    assert response.status_code == 200, (server.mode, response.text)
    assert response.json()["action"] == "orders:GetOrder", response.text


def main() -> None:
    rounds = ROUNDS
    if "--rounds" in sys.argv:
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1])
    if shutil.which("wrk") is None:
        sys.exit("bench_authz needs wrk: apt-get install wrk (or `make bench`)")
    with tempfile.TemporaryDirectory() as directory:
        os.environ.setdefault("SIGV4KIT_MASTER_KEY_FILE", os.path.join(directory, "master.key"))
        from sigv4kit.middleware import MasterKey

        with open(os.environ["SIGV4KIT_MASTER_KEY_FILE"], "w") as out:
            out.write(MasterKey.generate().to_base64())
        os.chmod(os.environ["SIGV4KIT_MASTER_KEY_FILE"], 0o600)
        store = f"sqlite:///{directory}/iam.db"
        akid, secret = asyncio.run(make_identities(store))
        credentials = sigv4kit.Credentials(akid, secret)
        script = os.path.join(directory, "requests.lua")
        with open(script, "w") as out:
            out.write(WRK_SCRIPT)
        servers = {mode: Server(mode, store) for mode in MODES}
        results: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
        try:
            for server in servers.values():
                check(server, credentials)
            for _ in range(rounds):
                for mode, server in servers.items():
                    requests = os.path.join(directory, f"{mode}.tsv")
                    write_requests(requests, server.host, credentials)
                    before = server.cpu_seconds()
                    rate, count = run_wrk(server, script, requests)
                    results[mode].append((rate, (server.cpu_seconds() - before) / count * 1e6))
        finally:
            for server in servers.values():
                server.close()
    rate = {mode: statistics.median(r for r, _ in runs) for mode, runs in results.items()}
    cpu = {mode: statistics.median(c for _, c in runs) for mode, runs in results.items()}
    print(f"uvicorn --http httptools --loop uvloop, 1 worker; wrk -t1 -c32, "
          f"{DISTINCT_REQUESTS} distinct freshly signed GET /orders/<id> cycled; "
          f"{rounds} x {DURATION}s alternating rounds; medians; user in 2 groups, "
          f"{POLICIES} managed policies x {STATEMENTS} statements with conditions")
    for mode in MODES:
        print(f"  {mode:8s} {rate[mode]:8.0f} req/s  {cpu[mode]:6.1f} us server CPU/request")
    # Each round runs the modes back to back: a ratio per round cancels the drift between
    # rounds (this machine's speed moves by 20% over a minute); the median of those is shown
    # next to the ratio of medians, and the CPU per request (what throughput is the inverse
    # of, on one saturated worker) next to the throughput.
    def paired(mode: str, base: str) -> tuple[float, float]:
        pairs = list(zip(results[mode], results[base], strict=True))
        return (statistics.median(r / b for (r, _), (b, _) in pairs),
                statistics.median(bc / c for (_, c), (_, bc) in pairs))
    for mode, base, how, target in (
            ("authz", "authn", "authorized (FastAPI dependency) / authenticated only", ">= 0.9x"),
            ("resolver", "authn", "authorized (ASGI resolver) / authenticated only", ">= 0.9x"),
            ("audited", "authz", "audited / authorized (FastAPI dependency)", ">= 0.9x")):
        by_rate, by_cpu = paired(mode, base)
        print(f"{how}: throughput {rate[mode] / rate[base]:5.3f}x (per-round median "
              f"{by_rate:5.3f}x), by server CPU {by_cpu:5.3f}x (target {target}); "
              f"added CPU/request {cpu[mode] - cpu[base]:+6.1f} us")


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
