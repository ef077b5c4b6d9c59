"""STS served by ``sigv4kit serve``: AssumeRole latency and credentials issued per second.

Run: ``.venv/bin/python benchmarks/bench_sts.py [--store URL] [--n 300] [--threads 8]``

``serve``'s app (IAM + STS behind SigV4Middleware) under uvicorn in this
process, an administrator bootstrapped by the CLI, boto3 clients over
HTTP/1.1 keep-alive. Prints, from one run:

* ``GetCallerIdentity`` p50/p90 (the baseline: verification, one snapshot
  load, no write);
* ``AssumeRole`` p50/p90 (snapshot, role, two policy evaluations, one
  transaction writing the key and the session) and its ratio to the baseline;
* ``GetSessionToken`` p50;
* credentials per second: ``AssumeRole`` from ``--threads`` clients at once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _cli_util import run_cli
from _servers import run_uvicorn
from sigv4kit.middleware.iam._cli_serve import build_app

CONFIG = Config(retries={"max_attempts": 1}, max_pool_connections=64)


def timings(n: int, call: Callable[[], Any]) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", default=None, help="store URL (default: a temporary SQLite)")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or f"sqlite:///{Path(tmp) / 'bench.db'}"
        boot = run_cli("iam", "bootstrap", "--store", store, "--user", "bench-admin", "--json")
        assert boot.code == 0, boot.err
        admin = json.loads(boot.out)
        with run_uvicorn(build_app(store)) as url:
            def make(service: str) -> Any:
                return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                                    aws_access_key_id=admin["access_key_id"],
                                    aws_secret_access_key=admin["secret_access_key"],
                                    config=CONFIG)

            iam, sts = make("iam"), make("sts")
            trust = {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": admin["arn"]},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "bench"}}}]}
            role = iam.create_role(RoleName="bench-role",
                                   AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]

            def assume() -> Any:
                return sts.assume_role(RoleArn=role, RoleSessionName="bench",
                                       ExternalId="bench")

            for _ in range(20):  # warm-up: connections, caches, parsed policies
                sts.get_caller_identity()
                assume()
            base = timings(args.n, sts.get_caller_identity)
            assumed = timings(args.n, assume)
            session = timings(args.n // 3, lambda: sts.get_session_token(DurationSeconds=900))
            b50, a50 = statistics.median(base), statistics.median(assumed)
            print(f"store: {store.split(':', 1)[0]}, n={args.n}")
            print(f"GetCallerIdentity (baseline) p50 {b50 * 1e3:7.2f} ms  "
                  f"p90 {pct(base, 0.9) * 1e3:7.2f} ms")
            print(f"AssumeRole                   p50 {a50 * 1e3:7.2f} ms  "
                  f"p90 {pct(assumed, 0.9) * 1e3:7.2f} ms  {a50 / b50:5.2f}x the baseline")
            print(f"GetSessionToken              p50 "
                  f"{statistics.median(session) * 1e3:7.2f} ms")

            clients = [make("sts") for _ in range(args.threads)]
            per_thread = max(1, args.n // args.threads)

            def worker(c: Any) -> None:
                for _ in range(per_thread):
                    c.assume_role(RoleArn=role, RoleSessionName="bench", ExternalId="bench")

            threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            issued = per_thread * args.threads
            print(f"credentials per second (AssumeRole, {args.threads} clients): "
                  f"{issued / elapsed:7.1f}  ({issued} in {elapsed:.2f} s; "
                  f"sequential: {1 / a50:6.1f}/s)")


if __name__ == "__main__":
    main()
