"""``sigv4kit serve``'s app under a real uvicorn, an administrator bootstrapped by the CLI, boto3.

``iam_server(store_url)`` bootstraps an administrator with ``sigv4kit iam
bootstrap --json`` (in-process), serves :func:`build_app` (what ``sigv4kit
serve`` runs) on a free loopback port and yields a :class:`Server`;
``server.client(key)`` is a boto3 ``iam`` client signing with that key.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from _cli_util import run_cli
from _servers import run_uvicorn
from botocore.config import Config
from sigv4kit.middleware.iam._cli_serve import build_app

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


@dataclass
class Key:
    access_key_id: str
    secret_access_key: str


@dataclass
class Server:
    url: str
    store_url: str
    admin: dict[str, str]

    @property
    def account_id(self) -> str:
        return self.admin["account_id"]

    def client(self, key: Key | dict[str, Any] | None = None) -> Any:
        """A boto3 ``iam`` client for this server (the administrator's key by default)."""
        if key is None:
            key = Key(self.admin["access_key_id"], self.admin["secret_access_key"])
        elif isinstance(key, dict):
            key = Key(key["AccessKeyId"], key["SecretAccessKey"])
        return boto3.client(
            "iam",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret_access_key,
            config=NO_RETRIES,
        )


def bootstrap(store_url: str, user: str = "admin", *extra: str) -> dict[str, str]:
    result = run_cli("iam", "bootstrap", "--store", store_url, "--user", user, "--json", *extra)
    assert result.code == 0, result.err
    fields: dict[str, str] = json.loads(result.out)
    return fields


@contextlib.contextmanager
def iam_server(store_url: str, *bootstrap_options: str, audit: Any = None) -> Iterator[Server]:
    """``audit``: an AuditLog for the served app (``sigv4kit serve``'s ``--audit-*``)."""
    admin = bootstrap(store_url, "admin", *bootstrap_options)
    with run_uvicorn(build_app(store_url, audit=audit)) as url:
        yield Server(url=url, store_url=store_url, admin=admin)


def param_store_url(request: pytest.FixtureRequest, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> str:
    """The store URL for a fixture parametrized ``["sqlite", "postgresql"]``: a SQLite file
    in ``tmp_path``, or a fresh PostgreSQL schema (with a master key in the environment)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'iam.db'}"
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    return str(request.getfixturevalue("pg_url"))


def unique(prefix: str) -> str:
    """A fresh entity name (tests share one server per module)."""
    return f"{prefix}-{secrets.token_hex(4)}"


def error_of(exc: Any) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError."""
    response = exc.value.response
    return (response["Error"]["Code"], response["Error"]["Message"],
            response["ResponseMetadata"]["HTTPStatusCode"])


def policy_document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW_ALL = policy_document({"Effect": "Allow", "Action": "*", "Resource": "*"})
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
