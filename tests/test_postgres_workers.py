"""Several uvicorn workers on one PostgreSQL store (real processes, real servers).

* a key created through the CLI works on every worker; deactivated through
  the CLI, every worker refuses it within 1 s;
* ``pg_terminate_backend`` of the store's sessions under load: never an
  unauthenticated pass, and the service recovers by itself;
* replay protection shared through Redis: a signed request accepted by one
  worker is refused by the other.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import psycopg
import pytest
from _services import POSTGRES_DSN, REDIS_URL
from _workers import ROOT, echo_workers
from sigv4kit.middleware import MasterKey
from sigv4kit.middleware.store.engine import postgres_conninfo_from_url

import sigv4kit

MASTER = MasterKey.generate()


def env_for(pg_url: str, **extra: str) -> dict[str, str]:
    return {"SIGV4KIT_STORE": pg_url, "SIGV4KIT_MASTER_KEY": MASTER.to_base64(), **extra}


def cli(env: dict[str, str], *args: str) -> Any:
    import os

    done = subprocess.run(
        [sys.executable, "-m", "sigv4kit", "keys", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def client(key: dict[str, str], *, secret: str | None = None) -> httpx.Client:
    creds = sigv4kit.Credentials(key["access_key_id"], secret or key["secret_access_key"])
    return httpx.Client(
        auth=sigv4kit.SigV4Auth(creds, region="us-east-1", service="execute-api"),
        # No keep-alive: every request is a new connection, so the kernel
        # spreads them over the workers.
        limits=httpx.Limits(max_keepalive_connections=0),
        timeout=10,
    )


def until_both_workers(http: httpx.Client, url: str, expect: int, limit: int = 400) -> set[str]:
    pids: set[str] = set()
    for _ in range(limit):
        response = http.get(url)
        assert response.status_code == expect, response.text
        pids.add(response.headers.get("x-worker-pid", "?"))
        if len(pids) >= 2:
            return pids
    pytest.fail(f"only workers {pids} answered {limit} requests")


def test_cli_key_works_on_all_workers_and_revocation_reaches_all_within_1s(pg_url: str) -> None:
    env = env_for(pg_url)
    cli(env, "create", "--principal", "bootstrap", "--json")  # schema exists before start
    with echo_workers(env) as base:
        key = cli(env, "create", "--principal", "alice", "--json")
        with client(key) as http:
            until_both_workers(http, base + "/hello", 200)
            cli(env, "deactivate", key["access_key_id"])
            done = time.perf_counter()
            seen: list[tuple[float, int, str]] = []
            while time.perf_counter() - done < 1.6:
                started = time.perf_counter() - done
                response = http.get(base + "/hello")
                pid = response.headers.get("x-worker-pid", "")
                seen.append((started, response.status_code, pid))
        late_ok = [s for s in seen if s[1] == 200]
        after = [s for s in seen if s[0] >= 1.0]
        print(
            f"revocation: last 200 at {max((s[0] for s in late_ok), default=float('-inf')):.3f}s "
            f"after the CLI returned; {len(seen)} requests polled"
        )
        assert after, "no request polled after 1 s"
        assert all(status == 403 for _t, status, _pid in after), after
        refusing = {pid for t, status, pid in seen if status == 403}
        assert len(refusing) >= 2, f"only workers {refusing} were seen refusing"


def test_terminated_sessions_under_load_never_let_a_request_through(pg_url: str) -> None:
    env = env_for(pg_url)
    with echo_workers(env) as base:
        key = cli(env, "create", "--principal", "alice", "--json")
        schema = postgres_conninfo_from_url(pg_url)[1]
        results: list[tuple[str, float, int]] = []
        stop = threading.Event()
        lock = threading.Lock()

        def load(kind: str) -> None:
            secret = None if kind == "good" else "x" * 40
            with client(key, secret=secret) as http:
                while not stop.is_set():
                    try:
                        status = http.get(base + f"/{kind}").status_code
                    except httpx.TransportError:
                        status = -1
                    with lock:
                        results.append((kind, time.perf_counter(), status))

        threads = [threading.Thread(target=load, args=(k,)) for k in ("good", "good", "bad")]
        for t in threads:
            t.start()
        kills = 0
        try:
            time.sleep(0.5)
            with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
                for _ in range(3):
                    kills += len(
                        conn.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = %s",
                            (f"sigv4kit/{schema}",),
                        ).fetchall()
                    )
                    time.sleep(0.7)
            last_kill = time.perf_counter()
            time.sleep(2.5)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
    assert kills >= 4  # each worker's pool and listener sessions
    good = [status for kind, _t, status in results if kind == "good"]
    bad = [status for kind, _t, status in results if kind == "bad"]
    print(
        f"terminate: {kills} sessions killed; good {len(good)} requests "
        f"({good.count(503)} x 503), bad {len(bad)} requests"
    )
    assert set(good) <= {200, 503}, set(good)
    assert set(bad) <= {403, 503}, set(bad)  # never 200 with a wrong secret
    recovered = [s for kind, t, s in results if kind == "good" and t > last_kill + 1.5]
    assert recovered, "no request after the recovery period"
    assert set(recovered) == {200}, recovered


def test_replay_refused_across_workers_sharing_redis(pg_url: str, redis_prefix: str) -> None:
    env = env_for(pg_url, SIGV4KIT_REPLAY_GUARD=REDIS_URL, SIGV4KIT_REPLAY_PREFIX=redis_prefix)
    with echo_workers(env) as base:
        key = cli(env, "create", "--principal", "alice", "--json")
        creds = sigv4kit.Credentials(key["access_key_id"], key["secret_access_key"])
        auth = sigv4kit.SigV4Auth(creds, region="us-east-1", service="execute-api")
        request = next(auth.auth_flow(httpx.Request("GET", base + "/once")))
        answers: list[tuple[int, str, bytes]] = []
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as http:
            for _ in range(200):
                response = http.send(request)
                pid = response.headers.get("x-worker-pid", "")
                answers.append((response.status_code, pid, response.content))
                if len({pid for _s, pid, _c in answers}) >= 2:
                    break
            # A fresh signature is still welcome.
            with client(key) as fresh:
                assert fresh.get(base + "/again").status_code == 200
    statuses = [status for status, _pid, _content in answers]
    assert statuses[0] == 200
    assert set(statuses[1:]) == {403}
    assert all(b"Request replay detected" in content for _s, _p, content in answers[1:])
    first_pid = answers[0][1]
    assert any(pid != first_pid for _s, pid, _c in answers[1:]), "the other worker never answered"
