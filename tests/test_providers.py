from __future__ import annotations

import asyncio
import logging
import shlex
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from _fake_aws import FakeService, run_service

from sigv4kit import (
    BotocoreCredentialsProvider,
    ChainCredentialsProvider,
    Credentials,
    CredentialsError,
    CredentialsNotFoundError,
    EnvironmentCredentialsProvider,
    ExpiringCredentials,
    RefreshableCredentialsProvider,
    SharedFilesCredentialsProvider,
    SigV4Auth,
    StaticCredentialsProvider,
    default_credentials_provider,
)
from sigv4kit.client import run_credential_process

A = Credentials("AKIDA", "secretA")
B = Credentials("AKIDB", "secretB", "tokenB")


# --- static and environment --------------------------------------------------------


async def test_static() -> None:
    provider = StaticCredentialsProvider(A)
    assert provider.resolve() is A
    assert await provider.resolve_async() is A
    assert "secretA" not in repr(provider)


def test_environment() -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}
    assert EnvironmentCredentialsProvider(env).resolve() == Credentials("AKIDENV", "s", "t")
    with pytest.raises(CredentialsNotFoundError):
        EnvironmentCredentialsProvider({}).resolve()
    with pytest.raises(CredentialsError, match="AWS_SECRET_ACCESS_KEY"):
        EnvironmentCredentialsProvider({"AWS_ACCESS_KEY_ID": "x"}).resolve()


# --- shared files ----------------------------------------------------------------


@pytest.fixture
def aws_dir(tmp_path: Path) -> Path:
    (tmp_path / "credentials").write_text(
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = sdefault\n\n"
        "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = sdev\n"
        "aws_session_token = tdev\n"
    )
    (tmp_path / "config").write_text(
        "[default]\nregion = us-east-1\n\n"
        "[profile cfgonly]\naws_access_key_id = AKIDCFG\naws_secret_access_key = scfg\n\n"
        "[profile dev]\naws_access_key_id = AKIDIGNORED\naws_secret_access_key = ignored\n"
    )
    return tmp_path


def _env(aws_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(aws_dir / "credentials"),
        "AWS_CONFIG_FILE": str(aws_dir / "config"),
        **extra,
    }


def test_shared_files_default_profile(aws_dir: Path) -> None:
    provider = SharedFilesCredentialsProvider(environ=_env(aws_dir))
    assert provider.resolve() == Credentials("AKIDDEFAULT", "sdefault")


def test_shared_files_profile_from_env_and_credentials_file_wins(aws_dir: Path) -> None:
    provider = SharedFilesCredentialsProvider(environ=_env(aws_dir, AWS_PROFILE="dev"))
    assert provider.resolve() == Credentials("AKIDDEV", "sdev", "tdev")


def test_shared_files_config_file_profile(aws_dir: Path) -> None:
    provider = SharedFilesCredentialsProvider("cfgonly", environ=_env(aws_dir))
    assert provider.resolve() == Credentials("AKIDCFG", "scfg")


def test_shared_files_missing_profile_and_files(aws_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(CredentialsNotFoundError, match="nope"):
        SharedFilesCredentialsProvider("nope", environ=_env(aws_dir)).resolve()
    empty = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "x"),
        "AWS_CONFIG_FILE": str(tmp_path / "y"),
    }
    with pytest.raises(CredentialsNotFoundError):
        SharedFilesCredentialsProvider(environ=empty).resolve()


def test_shared_files_half_a_key_pair(tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text("[default]\naws_access_key_id = AKID\n")
    env = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": "/nonexistent",
    }
    with pytest.raises(CredentialsError, match="only one of"):
        SharedFilesCredentialsProvider(environ=env).resolve()


def test_shared_files_malformed(tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text("this is not ini\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_CONFIG_FILE": "/x"}
    with pytest.raises(CredentialsError, match="cannot read"):
        SharedFilesCredentialsProvider(environ=env).resolve()


def _process_script(tmp_path: Path, payload: dict[str, Any], exit_code: int = 0) -> str:
    script = tmp_path / "creds.py"
    counter = tmp_path / "count"
    script.write_text(
        "import json, pathlib, sys\n"
        f"c = pathlib.Path({str(counter)!r})\n"
        "c.write_text(str(int(c.read_text() or 0) + 1) if c.exists() else '1')\n"
        "sys.stderr.write('diagnostic\\n')\n"
        f"print(json.dumps({payload!r}))\n"
        f"sys.exit({exit_code})\n"
    )
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def _count(tmp_path: Path) -> int:
    return int((tmp_path / "count").read_text())


def test_credential_process_static(tmp_path: Path) -> None:
    command = _process_script(
        tmp_path, {"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "sproc"}
    )
    (tmp_path / "config").write_text(f"[profile proc]\ncredential_process = {command}\n")
    env = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
    }
    provider = SharedFilesCredentialsProvider("proc", environ=env)
    assert provider.resolve() == Credentials("AKIDPROC", "sproc")
    assert provider.resolve() == Credentials("AKIDPROC", "sproc")
    assert _count(tmp_path) == 1


async def test_credential_process_with_expiration_refreshes(tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    command = _process_script(
        tmp_path,
        {
            "Version": 1,
            "AccessKeyId": "AKIDTMP",
            "SecretAccessKey": "stmp",
            "SessionToken": "ttmp",
            "Expiration": soon,
        },
    )
    (tmp_path / "credentials").write_text(f"[default]\ncredential_process = {command}\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_CONFIG_FILE": "/x"}
    provider = SharedFilesCredentialsProvider(environ=env)
    assert await provider.resolve_async() == Credentials("AKIDTMP", "stmp", "ttmp")
    # expiring within the mandatory window: every call refreshes by running the process again
    assert _count(tmp_path) >= 2


@pytest.mark.parametrize(
    ("payload", "exit_code", "match"),
    [
        ({"Version": 2, "AccessKeyId": "a", "SecretAccessKey": "b"}, 0, "Version 2"),
        ({"Version": 1, "AccessKeyId": "a"}, 0, "lacks"),
        (
            {"Version": 1, "AccessKeyId": "a", "SecretAccessKey": "b", "Expiration": "soon"},
            0,
            "ISO",
        ),
        (
            {"Version": 1, "AccessKeyId": "a", "SecretAccessKey": "topsecret"},
            3,
            "status 3: diagnostic",
        ),
    ],
)
def test_credential_process_errors(
    tmp_path: Path, payload: dict[str, Any], exit_code: int, match: str
) -> None:
    with pytest.raises(CredentialsError, match=match) as info:
        run_credential_process(_process_script(tmp_path, payload, exit_code))
    assert "topsecret" not in str(info.value)


def test_credential_process_not_found() -> None:
    with pytest.raises(CredentialsError, match="not found"):
        run_credential_process("/nonexistent/credential-helper --x")


# --- refreshable --------------------------------------------------------------------


class Source:
    """A refresh callable that counts calls and takes its time."""

    def __init__(self, lifetime: timedelta, delay: float = 0.0) -> None:
        self.lifetime = lifetime
        self.delay = delay
        self.calls = 0
        self.threads: set[int] = set()
        self.lock = threading.Lock()
        self.fail = False

    def __call__(self) -> ExpiringCredentials:
        with self.lock:
            self.calls += 1
            n = self.calls
        self.threads.add(threading.get_ident())
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("vault unreachable")
        return ExpiringCredentials(
            Credentials(f"AKID{n}", f"secret{n}"), datetime.now(UTC) + self.lifetime
        )


def test_refresh_under_many_threads_runs_once() -> None:
    source = Source(timedelta(hours=1), delay=0.2)
    provider = RefreshableCredentialsProvider(source)
    barrier = threading.Barrier(32)
    results: list[Credentials] = []

    def worker() -> None:
        barrier.wait()
        results.append(provider.resolve())

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert source.calls == 1
    assert len(results) == 32
    assert {c.access_key_id for c in results} == {"AKID1"}


async def test_refresh_under_many_tasks_runs_once_off_the_loop() -> None:
    source = Source(timedelta(hours=1), delay=0.3)
    provider = RefreshableCredentialsProvider(source)
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    tick_task = asyncio.create_task(ticker())
    results = await asyncio.gather(*(provider.resolve_async() for _ in range(200)))
    stop.set()
    await tick_task
    assert source.calls == 1
    assert {c.access_key_id for c in results} == {"AKID1"}
    assert threading.get_ident() not in source.threads  # ran in a worker thread
    assert ticks >= 10  # the event loop kept running during the 0.3 s refresh


async def test_refresh_shared_by_threads_and_tasks() -> None:
    source = Source(timedelta(hours=1), delay=0.3)
    provider = RefreshableCredentialsProvider(source)
    results: list[Credentials] = []
    threads = [
        threading.Thread(target=lambda: results.append(provider.resolve())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    results += await asyncio.gather(*(provider.resolve_async() for _ in range(50)))
    for thread in threads:
        await asyncio.to_thread(thread.join)
    assert source.calls == 1
    assert len(results) == 58


def test_advisory_window_one_refresher_others_keep_going() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    calls = []

    def refresh() -> ExpiringCredentials:
        calls.append(1)
        return ExpiringCredentials(
            Credentials(f"AKID{len(calls)}", "s"), now[0] + timedelta(minutes=60)
        )

    provider = RefreshableCredentialsProvider(refresh, clock=lambda: now[0])
    assert provider.resolve().access_key_id == "AKID1"
    now[0] += timedelta(minutes=30)
    assert provider.resolve().access_key_id == "AKID1"  # far from expiry: no refresh
    now[0] += timedelta(minutes=17)  # 13 minutes left: advisory window
    assert provider.resolve().access_key_id == "AKID2"
    assert len(calls) == 2


def test_advisory_failure_keeps_credentials_and_mandatory_failure_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    state = {"fail": False}

    def refresh() -> ExpiringCredentials:
        if state["fail"]:
            raise RuntimeError("sts down")
        return ExpiringCredentials(Credentials("AKID1", "s"), now[0] + timedelta(minutes=60))

    provider = RefreshableCredentialsProvider(refresh, clock=lambda: now[0])
    provider.resolve()
    state["fail"] = True
    now[0] += timedelta(minutes=48)  # 12 minutes left: advisory
    with caplog.at_level(logging.WARNING, logger="sigv4kit.credentials"):
        assert provider.resolve().access_key_id == "AKID1"
    assert "advisory credential refresh failed" in caplog.text
    now[0] += timedelta(minutes=5)  # 7 minutes left: mandatory
    with pytest.raises(CredentialsError, match="sts down"):
        provider.resolve()


async def test_async_mandatory_failure_raises() -> None:
    def refresh() -> ExpiringCredentials:
        raise CredentialsError("no vault")

    with pytest.raises(CredentialsError, match="no vault"):
        await RefreshableCredentialsProvider(refresh).resolve_async()


def test_refresh_returning_expired_or_wrong_type() -> None:
    def expired() -> ExpiringCredentials:
        return ExpiringCredentials(A, datetime.now(UTC) - timedelta(seconds=1))

    with pytest.raises(CredentialsError, match="already expired"):
        RefreshableCredentialsProvider(expired).resolve()
    with pytest.raises(CredentialsError, match="ExpiringCredentials"):
        RefreshableCredentialsProvider(lambda: A).resolve()  # type: ignore[arg-type,return-value]


def test_expiring_credentials_validation() -> None:
    with pytest.raises(CredentialsError, match="timezone-aware"):
        ExpiringCredentials(A, datetime(2026, 1, 1))


# --- chains -------------------------------------------------------------------------


def test_chain_order_and_stickiness(aws_dir: Path) -> None:
    env = _env(aws_dir)
    chain = default_credentials_provider(environ=env, use_botocore=False)
    assert chain.resolve() == Credentials("AKIDDEFAULT", "sdefault")
    env_first = default_credentials_provider(
        environ={**env, "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "senv"},
        use_botocore=False,
    )
    assert env_first.resolve().access_key_id == "AKIDENV"
    # an explicit profile skips the environment
    explicit = default_credentials_provider(
        "dev",
        environ={**env, "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "senv"},
        use_botocore=False,
    )
    assert explicit.resolve().access_key_id == "AKIDDEV"


async def test_chain_nothing_found(tmp_path: Path) -> None:
    env = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "a"),
        "AWS_CONFIG_FILE": str(tmp_path / "b"),
    }
    chain = default_credentials_provider(environ=env, use_botocore=False)
    with pytest.raises(CredentialsNotFoundError) as info:
        chain.resolve()
    assert "EnvironmentCredentialsProvider" in str(info.value)
    assert "SharedFilesCredentialsProvider" in str(info.value)
    with pytest.raises(CredentialsNotFoundError):
        await chain.resolve_async()


def test_chain_stops_on_real_errors(tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text("[default]\naws_access_key_id = AKID\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_CONFIG_FILE": "/x"}
    chain = ChainCredentialsProvider(
        [SharedFilesCredentialsProvider(environ=env), StaticCredentialsProvider(A)]
    )
    with pytest.raises(CredentialsError, match="only one of"):
        chain.resolve()


# --- botocore adapter ---------------------------------------------------------------


def test_botocore_chain_reads_shared_files(aws_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _env(aws_dir, AWS_EC2_METADATA_DISABLED="true").items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    provider = BotocoreCredentialsProvider(profile="dev")
    assert provider.resolve() == Credentials("AKIDDEV", "sdev", "tdev")


async def test_botocore_refresh_runs_off_the_loop() -> None:
    from botocore.credentials import RefreshableCredentials

    threads: list[int] = []

    def refresh() -> dict[str, str]:
        threads.append(threading.get_ident())
        expiry = datetime.now(UTC) + timedelta(minutes=5)  # inside botocore's windows
        return {
            "access_key": f"AKIDBOTO{len(threads)}",
            "secret_key": "s",
            "token": "t",
            "expiry_time": expiry.isoformat(),
        }

    boto_creds = RefreshableCredentials.create_from_metadata(
        refresh(), refresh_using=refresh, method="test"
    )
    threads.clear()

    class Session:
        def get_credentials(self) -> Any:
            return boto_creds

    provider = BotocoreCredentialsProvider(Session())
    provider.resolve()  # sync use (refreshes on this thread)
    threads.clear()
    credentials = await provider.resolve_async()
    assert credentials.access_key_id.startswith("AKIDBOTO")
    assert threads
    assert threading.get_ident() not in threads


def test_botocore_nothing_found() -> None:
    class Session:
        def get_credentials(self) -> None:
            return None

    with pytest.raises(CredentialsNotFoundError):
        BotocoreCredentialsProvider(Session()).resolve()


# --- end to end: a provider behind SigV4Auth against the real service --------------


@pytest.fixture
def service() -> Iterator[tuple[FakeService, str]]:
    svc = FakeService()
    with run_service(svc) as base:
        yield svc, base


async def test_auth_with_refreshable_provider_against_service(
    service: tuple[FakeService, str],
) -> None:
    svc, base = service
    calls = []

    def refresh() -> ExpiringCredentials:
        calls.append(1)
        return ExpiringCredentials(
            Credentials(svc.access_key, svc.secret_key, "session-token"),
            datetime.now(UTC) + timedelta(hours=1),
        )

    auth = SigV4Auth(
        RefreshableCredentialsProvider(refresh), region=svc.region, service=svc.service
    )
    async with httpx.AsyncClient(auth=auth) as client:
        responses = await asyncio.gather(*(client.get(f"{base}/x{i}") for i in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert len(calls) == 1
    assert all(a.valid for a in svc.attempts)
    assert all(a.headers["x-amz-security-token"] == "session-token" for a in svc.attempts)
    with httpx.Client(auth=auth) as client:
        assert client.get(f"{base}/sync").json() == {"ok": True}
