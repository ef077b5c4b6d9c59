"""Helpers for the STS tests: boto3 ``sts``/``iam`` clients on ``sigv4kit serve``, users, roles."""

from __future__ import annotations

import json
from typing import Any

import boto3
from _iam_api import NO_RETRIES, Server, policy_document, unique
from botocore.config import Config

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
