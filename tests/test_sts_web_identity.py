"""AssumeRoleWithWebIdentity through ``sigv4kit serve``: a real local OIDC issuer, boto3, the CLI.

The request comes unsigned (the token is the credential): the gate lets exactly
this action past signature verification. Tokens signed by another key, with
``alg: none``, expired, or for another audience are refused with STS's errors.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from _iam_api import NO_RETRIES, Server, error_of, iam_server
from _oidc_issuer import Issuer, running_issuer
from _sts import client, new_role, trust
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from joserfc.jwk import RSAKey

AWS = str(Path(sys.executable).parent / "aws")
GET_USER = {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with running_issuer() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with iam_server(f"sqlite:///{tmp_path_factory.mktemp('web') / 'iam.db'}") as running:
        yield running


@pytest.fixture(scope="module")
def provider(server: Server, issuer: Issuer) -> dict[str, str]:
    arn = server.client().create_open_id_connect_provider(
        Url=issuer.url, ClientIDList=["orders-app"], ThumbprintList=["a" * 40],
    )["OpenIDConnectProviderArn"]
    return {"arn": arn, "prefix": issuer.url.removeprefix("http://")}


@pytest.fixture(scope="module")
def role(server: Server, provider: dict[str, str]) -> dict[str, Any]:
    prefix = provider["prefix"]
    return new_role(server, trust(
        {"Federated": provider["arn"]},
        {"StringEquals": {f"{prefix}:aud": "orders-app", f"{prefix}:sub": "repo:orders:main"}},
        action="sts:AssumeRoleWithWebIdentity",
    ), GET_USER)


def claims(issuer: Issuer, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"iss": issuer.url, "sub": "repo:orders:main", "aud": "orders-app",
                            "iat": now, "nbf": now, "exp": now + 600, "amr": ["pwd"]}
    return {**base, **overrides}


def unsigned_sts(server: Server) -> Any:
    return boto3.client("sts", endpoint_url=server.url, region_name="us-east-1",
                        config=NO_RETRIES.merge(Config(signature_version=UNSIGNED)))


def test_a_token_of_the_provider_gets_a_role_session(
    server: Server, issuer: Issuer, provider: dict[str, str], role: dict[str, Any]
) -> None:
    for kid, alg in (("rsa-1", "RS256"), ("ec-1", "ES256"), ("ec-384", "ES384")):
        answer = unsigned_sts(server).assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="ci-run", WebIdentityToken=issuer.token(
                claims(issuer), kid=kid, alg=alg))
        assert answer["SubjectFromWebIdentityToken"] == "repo:orders:main"
        assert answer["Audience"] == "orders-app"
        assert answer["AssumedRoleUser"]["Arn"] == (
            f"arn:aws:sts::{server.account_id}:assumed-role/{role['RoleName']}/ci-run")
        creds = answer["Credentials"]
        assert creds["AccessKeyId"].startswith("ASIA")
        who = client(server, "sts", creds).get_caller_identity()
        assert who["Arn"] == answer["AssumedRoleUser"]["Arn"]
        assert client(server, "iam", creds).get_user(UserName="admin")


def test_the_trust_policy_conditions_on_the_subject(
    server: Server, issuer: Issuer, role: dict[str, Any]
) -> None:
    token = issuer.token(claims(issuer, sub="repo:orders:feature"))
    with pytest.raises(ClientError) as exc:
        unsigned_sts(server).assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="ci-run", WebIdentityToken=token)
    assert error_of(exc) == (
        "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)


def _none_token(issuer: Issuer) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims(issuer))}."


def test_forged_expired_and_foreign_tokens_are_refused(
    server: Server, issuer: Issuer, role: dict[str, Any]
) -> None:
    stranger = Issuer()  # same claims, keys nobody published
    stranger.keys["rsa-1"] = RSAKey.generate_key(2048, private=True)
    cases = {
        "another key": stranger.token(claims(issuer)),
        "alg none": _none_token(issuer),
        "another audience": issuer.token(claims(issuer, aud="someone-else")),
        "expired": issuer.token(claims(issuer, exp=int(time.time()) - 3600,
                                       iat=int(time.time()) - 7200,
                                       nbf=int(time.time()) - 7200)),
    }
    expected = {
        "another key": ("InvalidIdentityToken", 400),
        "alg none": ("InvalidIdentityToken", 400),
        "another audience": ("InvalidIdentityToken", 400),
        "expired": ("ExpiredTokenException", 400),
    }
    for case, token in cases.items():
        with pytest.raises(ClientError) as exc:
            unsigned_sts(server).assume_role_with_web_identity(
                RoleArn=role["Arn"], RoleSessionName="ci-run", WebIdentityToken=token)
        code, message, status = error_of(exc)
        assert (code, status) == expected[case], (case, message)
        assert token not in message
    with pytest.raises(ClientError) as exc:
        unsigned_sts(server).assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="ci-run",
            WebIdentityToken=issuer.token(claims(issuer, aud="someone-else")))
    assert error_of(exc)[1] == "Incorrect token audience"


def test_an_issuer_without_a_provider_is_refused(server: Server, role: dict[str, Any]) -> None:
    with running_issuer() as unknown, pytest.raises(ClientError) as exc:
        unsigned_sts(server).assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="ci-run",
            WebIdentityToken=unknown.token(claims(unknown)))
    assert error_of(exc) == (
        "InvalidIdentityToken",
        f"No OpenIDConnect provider found in your account for {unknown.url}", 400)


def test_botocore_web_identity_provider_from_the_environment(
    server: Server, issuer: Issuer, role: dict[str, Any], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``AWS_ROLE_ARN`` + ``AWS_WEB_IDENTITY_TOKEN_FILE`` + ``AWS_ENDPOINT_URL_STS``: botocore's
    own provider obtains credentials; the boto3 client is then authorized as the role session."""
    token_file = tmp_path / "token"
    token_file.write_text(issuer.token(claims(issuer)))
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_ROLE_ARN", role["Arn"])
    monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "from-env")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    session = boto3.Session()
    credentials = session.get_credentials()
    assert credentials.method == "assume-role-with-web-identity"
    assert credentials.get_frozen_credentials().access_key.startswith("ASIA")
    iam = session.client("iam", endpoint_url=server.url, config=NO_RETRIES)
    assert iam.get_user(UserName="admin")["User"]["UserName"] == "admin"
    who = session.client("sts", endpoint_url=server.url).get_caller_identity()
    assert who["Arn"].endswith(f"assumed-role/{role['RoleName']}/from-env")


def test_aws_cli_assume_role_with_web_identity(
    server: Server, issuer: Issuer, role: dict[str, Any]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_MAX_ATTEMPTS": "1"}
    result = subprocess.run(
        [AWS, "sts", "assume-role-with-web-identity", "--role-arn", role["Arn"],
         "--role-session-name", "cli-run", "--web-identity-token", issuer.token(claims(issuer)),
         "--endpoint-url", server.url, "--output", "json"],
        capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/{role['RoleName']}/cli-run")
    assert answer["Credentials"]["AccessKeyId"].startswith("ASIA")
