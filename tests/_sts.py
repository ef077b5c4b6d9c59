"""Helpers for the STS tests: boto3 ``sts``/``iam`` clients on ``sigv4kit serve``, users, roles."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from _iam_api import NO_RETRIES, Server, policy_document, unique
from botocore.config import Config
from sigv4kit.middleware.iam.mfa import code_at, step_at

#: No client-side checks: the server's own validation answers.
UNCHECKED = NO_RETRIES.merge(Config(parameter_validation=False))


def client(server: Server, service: str, creds: dict[str, Any] | None = None, *,
           validate: bool = True) -> Any:
    """A boto3 client of ``service`` signing with the admin's key, or with ``creds``
    (an access key or STS ``Credentials``); ``validate=False`` skips botocore's checks."""
    if creds is None:
        creds = {"AccessKeyId": server.admin["access_key_id"],
                 "SecretAccessKey": server.admin["secret_access_key"]}
    return boto3.client(
        service, endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        config=NO_RETRIES if validate else UNCHECKED,
    )


def new_user(server: Server, *statements: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A user with an inline policy of ``statements`` (if any): ``(name, access key)``."""
    iam = server.client()
    name = unique("user")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p",
                            PolicyDocument=policy_document(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, key


def new_role(server: Server, trust: dict[str, Any], *statements: dict[str, Any],
             max_session: int = 3600) -> dict[str, Any]:
    """A role with ``trust`` and an inline policy of ``statements``: its ``Role`` shape."""
    iam = server.client()
    name = unique("role")
    role: dict[str, Any] = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
        MaxSessionDuration=max_session,
    )["Role"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="p",
                            PolicyDocument=policy_document(*statements))
    return role


def trust(principal: dict[str, Any], condition: dict[str, Any] | None = None,
          action: str | list[str] = "sts:AssumeRole") -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


ASSUME_ANY = {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession",
                                            "sts:SetSourceIdentity"], "Resource": "*"}


def enable_mfa(server: Server, user: str) -> tuple[str, bytes, int]:
    """A virtual MFA device enabled for ``user``: ``(serial, seed, last step spent)``.

    Enabled with the codes of the previous and the current step, so the next
    step's code (within the ±1 window) is the first one STS accepts.
    """
    iam = server.client()
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=unique("mfa"))
    serial = device["VirtualMFADevice"]["SerialNumber"]
    text = device["VirtualMFADevice"]["Base32StringSeed"].decode("ascii")
    seed = base64.b32decode(text + "=" * (-len(text) % 8))
    step = step_at(time.time())
    iam.enable_mfa_device(UserName=user, SerialNumber=serial,
                          AuthenticationCode1=code_at(seed, step - 1),
                          AuthenticationCode2=code_at(seed, step))
    return serial, seed, step


@contextlib.contextmanager
def serve_process(store_url: str, log: Path, env: dict[str, str]) -> Iterator[str]:
    """``python -m sigv4kit serve`` as its own process (output to ``log``); yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with log.open("wb") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sigv4kit", "serve", "--store", store_url,
             "--port", str(port), "--log-level", "warning"],
            env=env, stdout=output, stderr=subprocess.STDOUT,
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
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
