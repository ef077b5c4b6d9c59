"""``sigv4kit serve`` as a real process, managed with the AWS CLI (``aws iam ...``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _cli_util import REPO, run_cli
from _iam_api import bootstrap, policy_document, unique

AWS = str(Path(sys.executable).parent / "aws")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``sigv4kit serve`` in a subprocess; the bootstrap admin's fields plus ``url``."""
    folder = tmp_path_factory.mktemp("iam")
    store = f"sqlite:///{folder / 'iam.db'}"
    log = folder / "serve.log"
    admin = bootstrap(store, "admin", "--account-id", "123456789012")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with log.open("wb") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sigv4kit", "serve", "--store", store, "--port", str(port),
             "--log-level", "warning"],
            cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text()) from None
                time.sleep(0.05)
        yield admin | {"url": f"http://127.0.0.1:{port}"}
    finally:
        proc.terminate()
        proc.wait(10)


def aws(served: dict[str, str], *args: str, key: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    key = key or served
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_ACCESS_KEY_ID": key["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": key["secret_access_key"],
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_MAX_ATTEMPTS": "1"}
    return subprocess.run([AWS, "iam", *args, "--endpoint-url", served["url"],
                           "--output", "json"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_bootstrap_prints_the_fields_once(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'b.db'}"
    result = run_cli("iam", "bootstrap", "--store", store, "--user", "root-admin",
                     "--account-id", "111122223333")
    assert result.code == 0, result.err
    fields = dict(line.split(": ", 1) for line in result.out.splitlines())
    assert sorted(fields) == ["access_key_id", "account_id", "arn", "secret_access_key", "user"]
    assert fields["account_id"] == "111122223333"
    assert fields["arn"] == "arn:aws:iam::111122223333:user/root-admin"
    assert "shown this once" in result.err
    again = run_cli("iam", "bootstrap", "--store", store, "--user", "root-admin",
                    "--account-id", "111122223333")
    assert again.code != 0
    assert "EntityAlreadyExists" in again.err
    assert fields["secret_access_key"] not in again.out + again.err


def test_bootstrap_refuses_a_bad_account_id(tmp_path: Path) -> None:
    result = run_cli("iam", "bootstrap", "--store", f"sqlite:///{tmp_path / 'c.db'}",
                     "--user", "a", "--account-id", "12345")
    assert result.code != 0
    assert "12345" in result.err


def test_cli_users_and_whoami(served: dict[str, str]) -> None:
    name = unique("cli")
    created = ok(aws(served, "create-user", "--user-name", name, "--path", "/cli/"))
    assert created["User"]["Arn"] == f"arn:aws:iam::123456789012:user/cli/{name}"
    assert ok(aws(served, "get-user"))["User"]["Arn"] == served["arn"]
    listed = ok(aws(served, "list-users", "--path-prefix", "/cli/"))
    assert [u["UserName"] for u in listed["Users"]] == [name]


def test_cli_paginates_itself(served: dict[str, str]) -> None:
    path = f"/{unique('pg')}/"
    names = sorted(unique("p") for _ in range(3))
    for name in names:
        ok(aws(served, "create-user", "--user-name", name, "--path", path))
    # --page-size makes the CLI follow Marker through three requests.
    listed = ok(aws(served, "list-users", "--path-prefix", path, "--page-size", "1"))
    assert [u["UserName"] for u in listed["Users"]] == names


def test_cli_policy_documents_round_trip(served: dict[str, str], tmp_path: Path) -> None:
    document = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(document))
    policy = ok(aws(served, "create-policy", "--policy-name", unique("cli"),
                    "--policy-document", f"file://{path}"))["Policy"]
    version = ok(aws(served, "get-policy-version", "--policy-arn", policy["Arn"],
                     "--version-id", "v1"))
    assert version["PolicyVersion"]["Document"] == document


def test_cli_errors_and_access_denied(served: dict[str, str]) -> None:
    missing = aws(served, "get-user", "--user-name", "none-such")
    assert missing.returncode != 0
    assert ("An error occurred (NoSuchEntity) when calling the GetUser operation: "
            "The user with name none-such cannot be found.") in missing.stderr
    name = unique("weak")
    ok(aws(served, "create-user", "--user-name", name))
    key = ok(aws(served, "create-access-key", "--user-name", name))["AccessKey"]
    weak = {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}
    denied = aws(served, "create-user", "--user-name", "x", key=weak)
    assert denied.returncode != 0
    assert (f"User: arn:aws:iam::123456789012:user/{name} is not authorized to perform: "
            "iam:CreateUser on resource: arn:aws:iam::123456789012:user/x because no "
            "identity-based policy allows the iam:CreateUser action") in denied.stderr
    ok(aws(served, "put-user-policy", "--user-name", name, "--policy-name", "p",
           "--policy-document", policy_document(
               {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"})))
    assert ok(aws(served, "create-user", "--user-name", unique("ok"), key=weak))["User"]


def test_cli_simulate_custom_policy(served: dict[str, str]) -> None:
    document = policy_document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    result = ok(aws(served, "simulate-custom-policy", "--policy-input-list", document,
                    "--action-names", "s3:GetObject", "s3:PutObject"))
    assert [r["EvalDecision"] for r in result["EvaluationResults"]] == [
        "allowed", "implicitDeny"]
