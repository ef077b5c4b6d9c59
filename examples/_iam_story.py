"""The demo's IAM story (sections 6-10 of `make demo`): identities, policies, MFA, the audit trail.

On the same embedded SQLite store as the rest of the demo:

6. ``sigv4kit iam bootstrap`` creates an administrator; ``sigv4kit serve``
   serves the IAM and STS APIs; boto3's own ``iam`` client (pointed at it
   with ``endpoint_url``) creates a group with a read-only policy and a user
   in it with an access key.
7. The orders service (examples/orders_service.py) authorizes every request
   by those policies: the user may read, not write (AWS's AccessDenied
   message); attaching a managed write policy lets the write through; an
   explicit Deny with a condition wins over any Allow.
8. ``sigv4kit policy simulate`` explains a decision offline.
9. A role that only MFA-authenticated callers may assume: boto3 enrols a
   virtual MFA device (the demo plays the authenticator app), assumes the role
   with a code, and deletes an order as the role session.
10. ``sigv4kit audit lookup`` and ``sigv4kit iam report`` on what the demo did.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import httpx
from botocore.config import Config
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

import sigv4kit

REGION = "us-east-1"
READ_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["orders:Get*", "orders:List*"],
                   "Resource": "*"}],
}
WRITE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "orders:PutOrder",
                   "Resource": "arn:aws:orders:*:*:order/*"}],
}


def _client(service: str, endpoint: str, key_id: str, secret: str,
            token: str | None = None) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key_id,
        aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )


def _orders(base: str, credentials: sigv4kit.Credentials) -> httpx.Client:
    auth = sigv4kit.SigV4Auth(credentials, region=REGION, service="orders")
    return httpx.Client(base_url=base, auth=auth)


def _show(label: str, response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    detail = body.get("message") or f"caller {body.get('caller')}"
    kind = body.get("__type", "")
    print(f"{label} -> HTTP {response.status_code} {kind} {detail}".replace("  ", " "))
    return body


def _eventually(call: Callable[[], httpx.Response], status: int) -> httpx.Response:
    """The orders service sees IAM changes within about a second (another process)."""
    deadline = time.monotonic() + 10
    while True:
        response = call()
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def _codes(seed_b32: bytes, now: float) -> tuple[str, str]:
    """Two consecutive TOTP codes, as an authenticator app shows them 30 s apart."""
    totp = TOTP(base64.b32decode(seed_b32), 6, SHA1(), 30, enforce_key_length=False)
    step = int(now) // 30
    return (totp.generate(step * 30 - 30).decode(), totp.generate(step * 30).decode())


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"demo: {what}")


def _eventually_status(call: Callable[[], httpx.Response], status: int) -> httpx.Response:
    response = _eventually(call, status)
    _expect(response.status_code == status,
            f"expected HTTP {status}, got {response.status_code}: {response.text}")
    return response


def run(*, store: str, iam_url: str, orders_url: str, admin: dict[str, str],
        cli: Callable[..., str], section: Callable[[str], None], env: dict[str, str]) -> None:
    """Sections 7-10 (6 started the services); ``admin`` is bootstrap's JSON."""
    account = admin["account_id"]
    iam = _client("iam", iam_url, admin["access_key_id"], admin["secret_access_key"])

    print("boto3 iam.create_group(readers) + put_group_policy(orders:Get*, orders:List*)")
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="read-orders",
                         PolicyDocument=json.dumps(READ_POLICY))
    iam.create_user(UserName="carol", Tags=[{"Key": "team", "Value": "sales"}])
    iam.add_user_to_group(GroupName="readers", UserName="carol")
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    print(f"boto3 iam.create_user(carol) in readers, access key {key['AccessKeyId']}")
    carol = sigv4kit.Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    section("7. The orders service authorizes every request by those policies")
    with _orders(orders_url, carol) as orders:
        _show("carol GET /orders/42", _eventually_status(lambda: orders.get("/orders/42"), 200))
        denied = _show("carol PUT /orders/42", orders.put("/orders/42", json={}))
        _expect(denied.get("__type") == "AccessDenied", "the write should be denied")
        arn = iam.create_policy(PolicyName="OrdersWriter",
                                PolicyDocument=json.dumps(WRITE_POLICY))["Policy"]["Arn"]
        iam.attach_user_policy(UserName="carol", PolicyArn=arn)
        print(f"boto3 iam.attach_user_policy(carol, {arn})")
        _show("carol PUT /orders/42", _eventually_status(
            lambda: orders.put("/orders/42", json={"tags": {"team": "sales"}}), 200))
        deny = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Action": "orders:*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}}]}
        iam.put_user_policy(UserName="carol", PolicyName="only-eu-west-1",
                            PolicyDocument=json.dumps(deny))
        print("boto3 iam.put_user_policy(carol, Deny orders:* unless aws:RequestedRegion "
              "is eu-west-1)")
        _show("carol GET /orders/42", _eventually_status(lambda: orders.get("/orders/42"), 403))
        iam.delete_user_policy(UserName="carol", PolicyName="only-eu-west-1")

    section("8. sigv4kit policy simulate: carol's two policies, decided offline")
    out = cli("policy", "simulate", "--policy-input-list", json.dumps(READ_POLICY),
              json.dumps(WRITE_POLICY), "--action-names", "orders:GetOrder",
              "orders:DeleteOrder", "--resource-arns",
              f"arn:aws:orders:{REGION}:{account}:order/42", "--caller-arn",
              f"arn:aws:iam::{account}:user/carol", "--output", "table", env=env)
    print(out.rstrip())

    section("9. A role only MFA-authenticated callers may assume")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="carol-phone")[
        "VirtualMFADevice"]
    serial = device["SerialNumber"]
    seed = device["Base32StringSeed"]  # what the authenticator app scans from the QR code
    first, second = _codes(seed, time.time())
    iam.enable_mfa_device(UserName="carol", SerialNumber=serial,
                          AuthenticationCode1=first, AuthenticationCode2=second)
    print(f"boto3 iam.create_virtual_mfa_device + enable_mfa_device: {serial}")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}
    role = iam.create_role(RoleName="OrdersAdmin", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="OrdersAdmin", PolicyName="all-orders", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "orders:*", "Resource": "*"}]}))
    iam.put_user_policy(UserName="carol", PolicyName="assume-orders-admin",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                            "Effect": "Allow", "Action": "sts:AssumeRole",
                            "Resource": role["Role"]["Arn"]}]}))
    sts = _client("sts", iam_url, carol.access_key_id, carol.secret_access_key)
    try:
        sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="carol")
        raise SystemExit("demo: assuming the role without MFA should be refused")
    except sts.exceptions.ClientError as exc:
        print(f"sts.assume_role without MFA -> {exc.response['Error']['Code']}: "
              f"{exc.response['Error']['Message']}")
    code = _codes(seed, time.time() + 30)[1]  # the next code: the last two are used
    session = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="carol",
                              SerialNumber=serial, TokenCode=code)["Credentials"]
    print(f"sts.assume_role with an MFA code -> {session['AccessKeyId']} "
          f"(expires {session['Expiration']})")
    admin_session = sigv4kit.Credentials(session["AccessKeyId"], session["SecretAccessKey"],
                                         session["SessionToken"])
    with _orders(orders_url, admin_session) as orders:
        _show("OrdersAdmin session DELETE /orders/42",
              _eventually_status(lambda: orders.delete("/orders/42"), 200))
    with _orders(orders_url, carol) as orders:
        _show("carol (no role) DELETE /orders/42", orders.delete("/orders/42"))

    section("10. What happened: the audit trail and the access report")
    audit_dir = env["SIGV4KIT_AUDIT_DIR"]
    out = cli("audit", "lookup", audit_dir, "--lookup-attributes",
              "AttributeKey=Username,AttributeValue=carol", "--output", "table", env=env)
    print("sigv4kit audit lookup (the orders service's decisions for carol):")
    print(out.rstrip())
    out = cli("iam", "report", "--store", store, env=env)
    print("sigv4kit iam report:")
    print(out.rstrip())
