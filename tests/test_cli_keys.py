"""``sigv4kit keys``: in-process with injected streams, and as a real subprocess."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sigv4kit.middleware import KeyStatus, MasterKey, SQLiteKeyStore

from sigv4kit.cli._main import ExitCode, main

AKIA_RE = re.compile(r"AKIA[A-Z2-7]{16}")
ASIA_RE = re.compile(r"ASIA[A-Z2-7]{16}")


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)

    def fields(self) -> dict[str, str]:
        return dict(line.split(None, 1) for line in self.out.splitlines() if line.strip())


def cli(*argv: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(), stdout=out, stderr=err)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("SIGV4KIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/keys.db"


def read_store(path: Path, fn: Any, **kwargs: Any) -> Any:
    """Run ``fn(store)`` on a fresh store object (the default key file)."""

    async def go() -> Any:
        store = SQLiteKeyStore(path, **kwargs)
        try:
            return await fn(store)
        finally:
            await store.aclose()

    return asyncio.run(go())


def get_key(tmp_path: Path, kid: str, **kwargs: Any) -> Any:
    return read_store(tmp_path / "keys.db", lambda s: s.get_key(kid), **kwargs)


# -- create ----------------------------------------------------------------------


def test_create_text(tmp_path: Path, url: str) -> None:
    r = cli("keys", "create", "--principal", "alice", "--store", url)
    assert r.code == ExitCode.OK, r.err
    fields = r.fields()
    assert list(fields) == [
        "access_key_id",
        "secret_access_key",
        "principal",
        "status",
        "created_at",
    ]
    assert AKIA_RE.fullmatch(fields["access_key_id"])
    assert fields["principal"] == "alice"
    assert fields["status"] == "Active"
    created = datetime.strptime(fields["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
    assert "created principal 'alice' (user)" in r.err
    assert "keys.db.key" in r.err  # the key file was created, with a warning
    assert "shown only now" in r.err
    record = get_key(tmp_path, fields["access_key_id"])
    assert record.secret_access_key == fields["secret_access_key"]
    assert record.principal == "alice"


def test_create_json_and_existing_principal(tmp_path: Path, url: str) -> None:
    first = cli("keys", "create", "--principal", "bob", "--store", url, "--json")
    second = cli("keys", "create", "--principal", "bob", "--store", url, "--json")
    assert first.code == second.code == ExitCode.OK
    data = second.json()
    assert set(data) == {"access_key_id", "secret_access_key", "principal", "status", "created_at"}
    assert "created principal" not in second.err
    assert data["access_key_id"] != first.json()["access_key_id"]
    assert get_key(tmp_path, data["access_key_id"]).secret_access_key == data["secret_access_key"]


UNSAFE = "--i-understand-root-keys-are-unsafe"


def test_create_role_and_root(tmp_path: Path, url: str) -> None:
    assert cli("keys", "create", "--principal", "deployer", "--role", "--store", url).code == 0
    assert cli("keys", "create", "--principal", "admin", "--root", UNSAFE, "--store", url).code == 0
    principals = read_store(tmp_path / "keys.db", lambda s: s.list_principals())
    assert [(p.name, p.kind.value, p.root) for p in principals] == [
        ("admin", "user", True),
        ("deployer", "role", False),
    ]
    r = cli("keys", "create", "--principal", "deployer", "--root", UNSAFE, "--store", url)
    assert r.code == ExitCode.ERROR
    assert "already exists as a role" in r.err


def test_root_session_warns_and_a_user_session_does_not(url: str) -> None:
    assert cli("keys", "create", "--principal", "admin", "--root", UNSAFE, "--store", url).code == 0
    assert cli("keys", "create", "--principal", "alice", "--store", url).code == 0
    root = cli("keys", "create-session", "--principal", "admin", "--store", url, "--json")
    assert root.code == ExitCode.OK
    assert root.err == (
        "WARNING: these are temporary credentials of the root user of account 000000000000: "
        "until they expire they can do everything in the account, and no IAM policy can "
        "limit them. Use IAM users or roles for everyday work.\n")
    user = cli("keys", "create-session", "--principal", "alice", "--store", url, "--json")
    assert user.code == ExitCode.OK
    assert user.err == ""


def test_root_key_needs_the_flag_and_warns(tmp_path: Path, url: str) -> None:
    refused = cli("keys", "create", "--principal", "admin", "--root", "--store", url)
    assert refused.code == ExitCode.USAGE
    assert "refusing to create a root access key" in refused.err
    assert UNSAFE in refused.err
    assert refused.out == ""
    assert not (tmp_path / "keys.db").exists()  # refused before the store was opened
    made = cli("keys", "create", "--principal", "admin", "--root", UNSAFE, "--store", url,
               "--json")
    assert made.code == ExitCode.OK
    assert "WARNING: this is an access key of the root user of account 000000000000" in made.err
    assert "no IAM policy can limit them" in made.err
    # A second key for the existing root principal needs the flag too, --root or not,
    # and so does rotating its key.
    for argv in (("create", "--principal", "admin"), ("create", "--principal", "admin", "--root"),
                 ("rotate", "--principal", "admin")):
        again = cli("keys", *argv, "--store", url)
        assert again.code == ExitCode.USAGE, argv
        assert UNSAFE in again.err
    keys = read_store(tmp_path / "keys.db", lambda s: s.list_keys("admin"))
    assert [k.access_key_id for k in keys] == [made.json()["access_key_id"]]
    rotated = cli("keys", "rotate", "--principal", "admin", UNSAFE, "--store", url)
    assert rotated.code == ExitCode.OK
    assert "WARNING: this is an access key of the root user" in rotated.err
    # A plain user's key carries no warning.
    plain = cli("keys", "create", "--principal", "alice", "--store", url)
    assert plain.code == ExitCode.OK
    assert "WARNING" not in plain.err


def test_key_limit(url: str) -> None:
    for _ in range(2):
        assert cli("keys", "create", "--principal", "alice", "--store", url).code == 0
    r = cli("keys", "create", "--principal", "alice", "--store", url)
    assert r.code == ExitCode.ERROR
    assert r.err.startswith("error: principal 'alice' already has 2 access keys")
    assert r.out == ""


# -- list / status / delete ----------------------------------------------------------


def test_list_never_shows_secrets(url: str) -> None:
    a = cli("keys", "create", "--principal", "alice", "--store", url, "--json").json()
    b = cli("keys", "create", "--principal", "bob", "--store", url, "--json").json()
    s = cli(
        "keys",
        "create-session",
        "--principal",
        "bob",
        "--duration",
        "900",
        "--store",
        url,
        "--json",
    ).json()
    text = cli("keys", "list", "--store", url)
    as_json = cli("keys", "list", "--store", url, "--json")
    only_bob = cli("keys", "list", "--principal", "bob", "--store", url, "--json")
    for r in (text, as_json, only_bob):
        assert r.code == ExitCode.OK
        for secret in (a["secret_access_key"], b["secret_access_key"], s["secret_access_key"]):
            assert secret not in r.out
        assert s["session_token"] not in r.out
    assert text.out.splitlines()[0].split()[:3] == ["ACCESS", "KEY", "ID"]
    assert a["access_key_id"] in text.out
    assert b["access_key_id"] in text.out
    assert [k["access_key_id"] for k in as_json.json()] == [
        a["access_key_id"],
        b["access_key_id"],
        s["access_key_id"],
    ]
    assert [k["type"] for k in only_bob.json()] == ["long-term", "temporary"]
    assert only_bob.json()[1]["expiration"] == s["expiration"]


def test_deactivate_activate_delete(tmp_path: Path, url: str) -> None:
    kid = cli("keys", "create", "--principal", "alice", "--store", url, "--json").json()[
        "access_key_id"
    ]
    r = cli("keys", "deactivate", kid, "--store", url)
    assert r.code == ExitCode.OK
    assert r.out == f"{kid} is now Inactive\n"
    assert get_key(tmp_path, kid).active is False
    r = cli("keys", "activate", kid, "--store", url)
    assert r.out == f"{kid} is now Active\n"
    assert get_key(tmp_path, kid).active is True
    r = cli("keys", "delete", kid, "--store", url)
    assert r.code == ExitCode.OK
    assert get_key(tmp_path, kid) is None
    r = cli("keys", "delete", kid, "--store", url)
    assert r.code == ExitCode.ERROR
    assert r.err == f"error: no access key '{kid}'\n"


# -- rotate / sessions ---------------------------------------------------------------


def test_rotate(tmp_path: Path, url: str) -> None:
    old = cli("keys", "create", "--principal", "alice", "--store", url, "--json").json()
    r = cli("keys", "rotate", "--principal", "alice", "--store", url, "--json")
    assert r.code == ExitCode.OK, r.err
    data = r.json()
    assert data["previous_access_key_id"] == old["access_key_id"]
    assert data["previous_status"] == "Inactive"
    assert data["deleted_access_key_ids"] == []
    assert get_key(tmp_path, old["access_key_id"]).active is False
    assert get_key(tmp_path, data["access_key_id"]).secret_access_key == data["secret_access_key"]
    text = cli("keys", "rotate", "--principal", "alice", "--store", url, "--keep-previous-active")
    assert text.code == ExitCode.OK
    assert f"previous key {data['access_key_id']} is Active" in text.err
    assert f"deleted older key {old['access_key_id']}" in text.err


def test_create_session(tmp_path: Path, url: str) -> None:
    cli("keys", "create", "--principal", "alice", "--store", url)
    r = cli(
        "keys",
        "create-session",
        "--principal",
        "alice",
        "--duration",
        "3600",
        "--store",
        url,
        "--json",
    )
    assert r.code == ExitCode.OK, r.err
    data = r.json()
    assert set(data) == {"access_key_id", "secret_access_key", "session_token", "expiration"}
    assert ASIA_RE.fullmatch(data["access_key_id"])
    expiration = datetime.strptime(data["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(minutes=55) < expiration - datetime.now(UTC) <= timedelta(hours=1)
    record = get_key(tmp_path, data["access_key_id"])
    assert record.secret_access_key == data["secret_access_key"]
    assert record.session_token_sha256 == hashlib.sha256(data["session_token"].encode()).hexdigest()
    text = cli(
        "keys", "create-session", "--principal", "alice", "--duration", "900", "--store", url
    )
    assert list(text.fields()) == [
        "access_key_id",
        "secret_access_key",
        "session_token",
        "expiration",
    ]


def test_purge_sessions(tmp_path: Path, url: str) -> None:
    cli("keys", "create", "--principal", "alice", "--store", url)
    session = cli(
        "keys",
        "create-session",
        "--principal",
        "alice",
        "--duration",
        "900",
        "--store",
        url,
        "--json",
    ).json()
    r = cli("keys", "purge-sessions", "--store", url)
    assert r.code == ExitCode.OK
    assert r.out == "deleted 0 expired session(s)\n"
    # Expire it by moving its expiry into the past (the CLI always uses the real clock).
    with sqlite3.connect(tmp_path / "keys.db") as conn:
        conn.execute(
            "UPDATE access_keys SET expires_at = '2000-01-01T00:00:00.000000+00:00' "
            "WHERE access_key_id = ?",
            (session["access_key_id"],),
        )
    conn.close()
    r = cli("keys", "purge-sessions", "--store", url)
    assert r.out == "deleted 1 expired session(s)\n"
    assert get_key(tmp_path, session["access_key_id"]) is None


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        # An out-of-range value is a usage error, as a malformed one is.
        (["--duration", "899"], ExitCode.USAGE, "900 to 129600"),
        (["--duration", "129601"], ExitCode.USAGE, "900 to 129600"),
        (["--principal", "nobody"], ExitCode.ERROR, "no principal named 'nobody'"),
    ],
)
def test_create_session_errors(url: str, argv: list[str], code: ExitCode, message: str) -> None:
    cli("keys", "create", "--principal", "alice", "--store", url)
    args = {"--principal": "alice", "--duration": "900"}
    args.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    flat = [x for kv in args.items() for x in kv]
    r = cli("keys", "create-session", *flat, "--store", url)
    assert r.code == code
    assert message in r.err
    assert "Traceback" not in r.err


# -- rewrap ----------------------------------------------------------------------------


def test_rewrap_default_key_file(tmp_path: Path, url: str) -> None:
    key = cli("keys", "create", "--principal", "alice", "--store", url, "--json").json()
    before = (tmp_path / "keys.db.key").read_text()
    r = cli("keys", "rewrap", "--store", url)
    assert r.code == ExitCode.OK, r.err
    assert re.fullmatch(
        r"re-encrypted 1 secret\(s\): master key [0-9a-f]{16} -> [0-9a-f]{16}",
        r.out.splitlines()[0],
    )
    after = (tmp_path / "keys.db.key").read_text()
    assert after != before
    assert get_key(tmp_path, key["access_key_id"]).secret_access_key == key["secret_access_key"]


def test_rewrap_configured_key(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", old.to_base64())
    key = cli("keys", "create", "--principal", "alice", "--store", url, "--json").json()
    r = cli("keys", "rewrap", "--store", url)
    assert r.code == ExitCode.USAGE
    assert "--new-master-key-file" in r.err
    new_file = tmp_path / "new.key"
    new_file.write_text(new.to_base64())
    new_file.chmod(0o600)
    r = cli("keys", "rewrap", "--store", url, "--new-master-key-file", str(new_file))
    assert r.code == ExitCode.OK, r.err
    assert f"-> {new.key_id}" in r.out
    assert "now configure the new master key" in r.err
    # The old key no longer opens the store; the new one does.
    r = cli("keys", "list", "--store", url)
    assert r.code == ExitCode.ERROR
    assert new.key_id in r.err
    assert old.key_id in r.err
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", new.to_base64())
    assert cli("keys", "list", "--store", url).code == ExitCode.OK
    record = get_key(tmp_path, key["access_key_id"], master_key=new)
    assert record.secret_access_key == key["secret_access_key"]
    # Same key again: refused.
    monkeypatch.setenv("SIGV4KIT_NEW_MASTER_KEY", new.to_base64())
    r = cli("keys", "rewrap", "--store", url)
    assert r.code == ExitCode.ERROR
    assert "already in use" in r.err


def test_rewrap_bad_new_key(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("keys", "create", "--principal", "alice", "--store", url)
    monkeypatch.setenv("SIGV4KIT_NEW_MASTER_KEY", base64.b64encode(b"short").decode())
    r = cli("keys", "rewrap", "--store", url)
    assert r.code == ExitCode.ERROR
    assert "SIGV4KIT_NEW_MASTER_KEY decodes to 5 bytes" in r.err


# -- store selection and errors ---------------------------------------------------------


def test_store_from_env_and_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("keys", "create", "--principal", "alice").code == ExitCode.OK
    assert (tmp_path / "sigv4kit.db").exists()
    monkeypatch.setenv("SIGV4KIT_STORE", f"sqlite:///{tmp_path}/other.db")
    assert cli("keys", "create", "--principal", "bob").code == ExitCode.OK
    assert (tmp_path / "other.db").exists()
    listed = cli("keys", "list", "--json").json()
    assert [k["principal"] for k in listed] == ["bob"]
    # --store before the action works too, and wins over the environment.
    before = cli("keys", "--store", "sqlite:///sigv4kit.db", "list", "--json").json()
    assert [k["principal"] for k in before] == ["alice"]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        # A --store value no backend can use is a usage error, as in `verify`.
        (["keys", "list", "--store", "mysql://x/y"], ExitCode.USAGE, "scheme 'mysql'"),
        (
            ["keys", "list", "--store", "postgresql://x/y"],
            ExitCode.ERROR,
            "master key is required",
        ),
        (["keys", "create", "--principal", "a", "--store", "nope"], ExitCode.USAGE, "no scheme"),
        (["keys", "list"], ExitCode.ERROR, "no key store at 'sigv4kit.db'"),
        (["keys", "delete", "AKIAAAAAAAAAAAAAAAAA"], ExitCode.ERROR, "no key store"),
        (["keys", "delete", "AKIAX"], ExitCode.USAGE, "invalid access key id 'AKIAX'"),
        (["keys"], ExitCode.USAGE, "ACTION"),
        (["keys", "create"], ExitCode.USAGE, "--principal"),
        (["keys", "create-session", "--duration", "900"], ExitCode.USAGE, "--principal"),
        (
            ["keys", "create-session", "--principal", "a", "--duration", "ten"],
            ExitCode.USAGE,
            "argument --duration: 'ten' is not a whole number of seconds",
        ),
        # Every malformed or out-of-range value exits 2, whoever checks it.
        (["keys", "create", "--principal", "a b"], ExitCode.USAGE, "invalid principal name"),
        (["keys", "frobnicate"], ExitCode.USAGE, "invalid choice"),
    ],
)
def test_errors(argv: list[str], code: ExitCode, message: str) -> None:
    r = cli(*argv)
    assert r.code == code
    assert message in r.err
    assert r.err.startswith("error: ")
    assert "Traceback" not in r.err


def test_bad_master_key_env(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", "too-short")
    r = cli("keys", "create", "--principal", "alice", "--store", url)
    assert r.code == ExitCode.ERROR
    assert r.err.startswith("error: SIGV4KIT_MASTER_KEY is not valid base64")


def test_help_has_examples() -> None:
    r = cli("keys", "--help")
    assert r.code == 0
    assert "sigv4kit keys create --principal alice" in r.out
    assert "SIGV4KIT_STORE" in r.out
    r = cli("keys", "rotate", "--help")
    assert r.code == 0
    assert "--keep-previous-active" in r.out
    r = cli("--help")
    assert "manage access keys in a key store" in r.out


# -- as a real program ---------------------------------------------------------------------


def run_cli(*argv: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sigv4kit", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_subprocess_round_trip(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGV4KIT_")}
    env["SIGV4KIT_STORE"] = f"sqlite:///{tmp_path}/keys.db"
    created = run_cli("keys", "create", "--principal", "svc", "--json", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    data = json.loads(created.stdout)
    listed = run_cli("keys", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0
    assert data["access_key_id"] in listed.stdout
    assert data["secret_access_key"] not in listed.stdout
    session = run_cli(
        "keys",
        "create-session",
        "--principal",
        "svc",
        "--duration",
        "900",
        "--json",
        env=env,
        cwd=tmp_path,
    )
    assert session.returncode == 0, session.stderr
    assert ASIA_RE.fullmatch(json.loads(session.stdout)["access_key_id"])
    failed = run_cli("keys", "deactivate", "AKIAAAAAAAAAAAAAAAAA", env=env, cwd=tmp_path)
    assert failed.returncode == ExitCode.ERROR
    assert failed.stderr == "error: no access key 'AKIAAAAAAAAAAAAAAAAA'\n"
    usage = run_cli("keys", "create", env=env, cwd=tmp_path)
    assert usage.returncode == ExitCode.USAGE
    assert "Traceback" not in usage.stderr
    record = get_key(tmp_path, data["access_key_id"])
    assert record.secret_access_key == data["secret_access_key"]
    assert record.active is True
    info = read_store(tmp_path / "keys.db", lambda s: s.get_key_info(data["access_key_id"]))
    assert info.status is KeyStatus.ACTIVE


def test_core_does_not_import_the_server_half() -> None:
    code = (
        "import sys, sigv4kit, sigv4kit.cli._main as c; c.build_parser(); "
        "print([m for m in sys.modules if m.startswith('sigv4kit.middleware')])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


# -- a store that does not exist is refused, never created (issue 12, item 9) ----------

MISSING_STORE_COMMANDS = [
    ["keys", "list"],
    ["keys", "activate", "AKIAAAAAAAAAAAAAAAAA"],
    ["keys", "deactivate", "AKIAAAAAAAAAAAAAAAAA"],
    ["keys", "delete", "AKIAAAAAAAAAAAAAAAAA"],
    ["keys", "show", "AKIAAAAAAAAAAAAAAAAA"],
    ["keys", "rotate", "--principal", "alice"],
    ["keys", "create-session", "--principal", "alice", "--duration", "900"],
    ["keys", "purge-sessions"],
    ["keys", "rewrap"],
    ["verify", "-", "--time", "2015-08-30T12:36:00Z"],
]
SIGNED_GET = (
    "GET / HTTP/1.1\r\nHost: example.amazonaws.com\r\nX-Amz-Date: 20150830T123600Z\r\n"
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
    "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "5" * 64 + "\r\n\r\n"
).encode()


def cli_stdin(*argv: str, stdin: bytes) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("argv", MISSING_STORE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_mistyped_sqlite_store_is_refused_and_not_created(
    argv: list[str], tmp_path: Path
) -> None:
    typo = tmp_path / "kyes.db"
    r = cli_stdin(*argv, "--store", f"sqlite:///{typo}", stdin=SIGNED_GET)
    assert r.code == ExitCode.ERROR, r.out + r.err
    assert f"no key store at '{typo}'" in r.err
    assert "InvalidAccessKeyId" not in r.out
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no database, no key file


def test_verify_with_an_existing_store_still_works(url: str, tmp_path: Path) -> None:
    assert cli("keys", "create", "--principal", "alice", "--store", url).code == 0
    r = cli_stdin("verify", "-", "--store", url, "--time", "2015-08-30T12:36:00Z", stdin=SIGNED_GET)
    assert r.code == ExitCode.AWS_ERROR
    assert "InvalidAccessKeyId" in r.out  # AKIDEXAMPLE is not in this store


def _schemas(name: str) -> list[str]:
    import psycopg
    from _services import POSTGRES_DSN

    with psycopg.connect(POSTGRES_DSN) as conn:
        rows = conn.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name = %s",
            (name,),
        ).fetchall()
    return [row[0] for row in rows]


def _drop_schema(name: str) -> None:
    import psycopg
    from _services import POSTGRES_DSN
    from psycopg import sql

    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.mark.parametrize("argv", MISSING_STORE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_mistyped_postgres_schema_is_refused_and_not_created(
    argv: list[str], pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", MasterKey.generate().to_base64())
    if argv[:2] == ["keys", "rewrap"]:
        monkeypatch.setenv("SIGV4KIT_NEW_MASTER_KEY", MasterKey.generate().to_base64())
    schema = re.search(r"schema=(\w+)", pg_url).group(1)
    typo = pg_url.replace(f"schema={schema}", f"schema={schema}_typo")
    try:
        r = cli_stdin(*argv, "--store", typo, stdin=SIGNED_GET)
        assert r.code == ExitCode.ERROR, r.out + r.err
        assert f"no key store in schema '{schema}_typo'" in r.err
        assert _schemas(f"{schema}_typo") == []
    finally:
        _drop_schema(f"{schema}_typo")  # should the refusal ever fail
    # The real schema, once `keys create` made it, is accepted.
    assert cli("keys", "create", "--principal", "alice", "--store", pg_url).code == 0
    assert cli("keys", "list", "--store", pg_url).code == 0


# -- keys show, the default session duration (issue 12, item 13) -----------------------


def test_show_one_key_never_its_secret(url: str) -> None:
    created = cli("keys", "create", "--principal", "alice", "--store", url, "--json").json()
    shown = cli("keys", "show", created["access_key_id"], "--store", url, "--json")
    assert shown.code == 0, shown.err
    doc = shown.json()
    assert doc["access_key_id"] == created["access_key_id"]
    assert (doc["principal"], doc["status"], doc["type"]) == ("alice", "Active", "long-term")
    assert doc["created_at"] == created["created_at"]
    assert "secret_access_key" not in doc
    text = cli("keys", "show", created["access_key_id"], "--store", url)
    assert re.search(r"^principal +alice$", text.out, re.MULTILINE)
    for output in (shown, text):
        assert created["secret_access_key"] not in output.out + output.err
    session = cli("keys", "create-session", "--principal", "alice", "--store", url, "--json").json()
    temp = cli("keys", "show", session["access_key_id"], "--store", url)
    assert re.search(r"^type +temporary$", temp.out, re.MULTILINE)
    assert session["session_token"] not in temp.out + temp.err
    assert session["secret_access_key"] not in temp.out + temp.err
    unknown = cli("keys", "show", "AKIAAAAAAAAAAAAAAAAA", "--store", url)
    assert unknown.code == ExitCode.ERROR
    assert "no access key AKIAAAAAAAAAAAAAAAAA" in unknown.err


def test_create_session_lasts_one_hour_by_default(url: str) -> None:
    cli("keys", "create", "--principal", "alice", "--store", url)
    before = datetime.now(UTC).replace(microsecond=0)
    r = cli("keys", "create-session", "--principal", "alice", "--store", url, "--json")
    after = datetime.now(UTC)
    assert r.code == 0, r.err
    expiration = datetime.strptime(r.json()["expiration"], "%Y-%m-%dT%H:%M:%SZ")
    expiration = expiration.replace(tzinfo=UTC)
    # STS's default DurationSeconds is 3600.
    assert before + timedelta(seconds=3600) <= expiration <= after + timedelta(seconds=3600)
