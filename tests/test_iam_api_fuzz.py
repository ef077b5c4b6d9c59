"""No input makes the IAM API answer 500: every operation, odd but well-formed inputs.

For each of the served operations, inputs are built from the operation's
botocore input shape (every member, with values chosen to be awkward: empty,
too long, not an ARN, not JSON, path-like) and serialized by botocore's own
``QuerySerializer``, as boto3 would send them; the administrator (allowed
everything) sends them, so the handlers really run. Every answer must be a
success or a 4xx with an AWS error code.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import botocore.serialize
import httpx
import pytest
from _iam_api import Server, iam_server
from defusedxml import ElementTree
from sigv4kit.middleware.iam.api import IAM_HANDLERS, load_service_model

from sigv4kit import Credentials, SigV4Auth

MODEL = load_service_model("iam")
NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"
STRINGS = ["", "a", "x" * 300, "arn:aws:iam::000000000000:policy/none", "{",
           "/../", "AKIAAAAAAAAAAAAAAAAA", '{"Version":"2012-10-17","Statement":[]}', "v9"]
INTEGERS = [0, 1, -5, 10**9]


ACCOUNT = "000000000000"
DOCUMENT = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
            '"Resource":"*"}]}')
TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":'
         '"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
# Values that pass the model's constraints, by member name, so the handlers run.
PLAUSIBLE = {
    "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/fuzz1",
    "PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/fuzz1",
    "PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/fuzz1",
    "CallerArn": f"arn:aws:iam::{ACCOUNT}:user/fuzz1",
    "ResourceOwner": f"arn:aws:iam::{ACCOUNT}:root",
    "AssumeRolePolicyDocument": TRUST,
    "PolicyDocument": DOCUMENT,
    "ResourcePolicy": DOCUMENT,
    "Path": "/fuzz/",
    "PathPrefix": "/",
    "NewPath": "/fuzz/",
    "VersionId": "v1",
    "AccessKeyId": "AKIAAAAAAAAAAAAAAAAA",
    "Marker": "not-a-marker",
    "ActionNames": ["s3:GetObject"],
    "ResourceArns": ["*"],
    "PolicyInputList": [DOCUMENT],
    "TagKeys": ["team"],
    "Description": "fuzz",
}


def _plausible(name: str, shape: Any, seed: int) -> Any:
    if name in PLAUSIBLE and (name != "Marker" or seed % 4 == 2):
        return PLAUSIBLE[name]
    if name == "Marker":
        return None
    if name.endswith("Name") and shape.type_name == "string":
        return "fuzz1" if seed % 4 else "FUZZ1"
    if name in ("MaxItems", "MaxSessionDuration"):
        return 1 if name == "MaxItems" else 3600
    return _value(shape, seed, 3)


def _value(shape: Any, seed: int, depth: int = 0) -> Any:
    kind = shape.type_name
    if kind == "structure" and seed % 2 == 0 and depth == 0:
        values = {n: _plausible(n, m, seed) for n, m in shape.members.items()}
        return {n: v for n, v in values.items() if v is not None}
    if kind == "structure":
        names = [n for n in shape.members if depth < 2 or n in shape.required_members]
        return {n: _value(shape.members[n], seed + i, depth + 1) for i, n in enumerate(names)}
    if kind == "list":
        return [_value(shape.member, seed + 1, depth + 1)] if seed % 3 else []
    if kind == "map":
        return {"k": _value(shape.value, seed, depth + 1)}
    if kind == "string":
        if shape.enum:
            return shape.enum[seed % len(shape.enum)]
        return STRINGS[seed % len(STRINGS)]
    if kind in ("integer", "long"):
        return INTEGERS[seed % len(INTEGERS)]
    if kind == "boolean":
        return bool(seed % 2)
    if kind == "timestamp":
        return datetime(2020, 1, 1, tzinfo=UTC)
    if kind == "blob":
        return b"\x00\xff"
    return 1.5


def _body(action: str, seed: int) -> bytes:
    operation = MODEL.operation_model(action)
    params = _value(operation.input_shape, seed) if operation.input_shape else {}
    request = botocore.serialize.QuerySerializer().serialize_to_request(params, operation)
    body = request["body"]
    return body.encode() if isinstance(body, str) else urlencode(body).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose account holds a user, group, role and policy named ``fuzz1``."""
    with iam_server(f"sqlite:///{tmp_path_factory.mktemp('iam') / 'iam.db'}") as running:
        iam = running.client()
        iam.create_user(UserName="fuzz1")
        iam.create_group(GroupName="fuzz1")
        iam.create_role(RoleName="fuzz1", AssumeRolePolicyDocument=TRUST)
        iam.create_policy(PolicyName="fuzz1", PolicyDocument=DOCUMENT)
        yield running


@pytest.mark.parametrize("action", sorted(IAM_HANDLERS))
def test_no_input_is_a_server_error(server: Server, action: str) -> None:
    creds = Credentials(server.admin["access_key_id"], server.admin["secret_access_key"])
    auth = SigV4Auth(creds, region="us-east-1", service="iam")
    with httpx.Client(auth=auth, timeout=30) as client:
        for seed in range(8):
            response = client.post(server.url, content=_body(action, seed), headers={
                "content-type": "application/x-www-form-urlencoded; charset=utf-8"})
            assert response.status_code < 500, (seed, response.text)
            if response.status_code >= 400:
                root = ElementTree.fromstring(response.content)
                assert root.findtext(f"{NS}Error/{NS}Code"), response.text
