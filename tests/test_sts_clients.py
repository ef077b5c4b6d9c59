"""STS with MFA through the AWS CLI and botocore's credential chain, and across two servers.

* ``aws sts get-caller-identity|get-session-token|assume-role`` against ``sigv4kit serve``;
* a shared config profile with ``role_arn``, ``source_profile`` and ``mfa_serial``: botocore's
  assume-role provider asks for the code (answered programmatically), obtains the role
  session, and the boto3 client is authorized as that session;
* on PostgreSQL, two ``sigv4kit serve`` processes: a code accepted by one is refused by the other.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from _iam_api import NO_RETRIES, Server, bootstrap, error_of, iam_server
from _sts import ASSUME_ANY, client, enable_mfa, new_role, new_user, serve_process, trust
from botocore.exceptions import ClientError
from sigv4kit.middleware.iam.mfa import code_at

AWS = str(Path(sys.executable).parent / "aws")
GET_USER = {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}
MFA_ONLY = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with iam_server(f"sqlite:///{tmp_path_factory.mktemp('clients') / 'iam.db'}") as running:
        yield running


def aws_sts(server: Server, key: dict[str, Any], *args: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_MAX_ATTEMPTS": "1"}
    if key.get("SessionToken"):
        env["AWS_SESSION_TOKEN"] = key["SessionToken"]
    result = subprocess.run([AWS, "sts", *args, "--endpoint-url", server.url, "--output", "json"],
                            capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_aws_cli_sts_commands(server: Server) -> None:
    name, key = new_user(server, ASSUME_ANY)
    arn = f"arn:aws:iam::{server.account_id}:user/{name}"
    assert aws_sts(server, key, "get-caller-identity")["Arn"] == arn
    session = aws_sts(server, key, "get-session-token", "--duration-seconds", "900")
    creds = session["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    expiry = datetime.fromisoformat(creds["Expiration"].replace("Z", "+00:00"))
    assert timedelta(seconds=880) < expiry - datetime.now(UTC) <= timedelta(seconds=905)
    assert aws_sts(server, creds, "get-caller-identity")["Arn"] == arn
    role = new_role(server, trust({"AWS": arn}))
    assumed = aws_sts(server, key, "assume-role", "--role-arn", role["Arn"],
                      "--role-session-name", "cli-session")
    assert assumed["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{server.account_id}:assumed-role/{role['RoleName']}/cli-session")
    assert aws_sts(server, assumed["Credentials"], "get-caller-identity")["Arn"] == (
        assumed["AssumedRoleUser"]["Arn"])


def test_get_session_token_with_mfa_can_call_iam_and_carries_mfa_into_roles(
    server: Server
) -> None:
    name, key = new_user(server, ASSUME_ANY, GET_USER)
    serial, seed, step = enable_mfa(server, name)
    sts = client(server, "sts", key)
    with pytest.raises(ClientError) as exc:  # the code of a step already spent
        sts.get_session_token(SerialNumber=serial, TokenCode=code_at(seed, step))
    assert error_of(exc) == (
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.", 403)
    with pytest.raises(ClientError) as exc:
        sts.get_session_token(SerialNumber=serial.replace(":mfa/", ":mfa/x"),
                              TokenCode=code_at(seed, step + 1))
    assert error_of(exc)[1].startswith(
        "MultiFactorAuthentication failed, unable to validate MFA code.")
    creds = sts.get_session_token(SerialNumber=serial,
                                  TokenCode=code_at(seed, step + 1))["Credentials"]
    assert client(server, "iam", creds).get_user()["User"]["UserName"] == name
    # The MFA of the session carries into a role whose trust policy requires it.
    role = new_role(server, trust({"AWS": f"arn:aws:iam::{server.account_id}:user/{name}"},
                                  MFA_ONLY))
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="no-mfa")
    assert error_of(exc)[0] == "AccessDenied"
    assert client(server, "sts", creds).assume_role(RoleArn=role["Arn"],
                                                    RoleSessionName="with-mfa")


def test_profile_with_role_arn_source_profile_and_mfa_serial(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, key = new_user(server, ASSUME_ANY)
    serial, seed, step = enable_mfa(server, name)
    user = f"arn:aws:iam::{server.account_id}:user/{name}"
    role = new_role(server, trust({"AWS": user}, MFA_ONLY), GET_USER)
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text(
        "[profile developer]\nregion = us-east-1\n\n"
        f"[profile admin]\nrole_arn = {role['Arn']}\nsource_profile = developer\n"
        f"mfa_serial = {serial}\nrole_session_name = from-profile\nregion = us-east-1\n")
    credentials.write_text(f"[developer]\naws_access_key_id = {key['AccessKeyId']}\n"
                           f"aws_secret_access_key = {key['SecretAccessKey']}\n")
    for variable in list(os.environ):
        if variable.startswith("AWS_"):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server.url)
    prompts: list[str] = []

    def prompter(prompt: str) -> str:
        prompts.append(prompt)
        return code_at(seed, step + 1)

    session = boto3.Session(profile_name="admin")
    provider = session._session.get_component("credential_provider").get_provider("assume-role")
    provider._prompter = prompter
    iam = session.client("iam", endpoint_url=server.url, config=NO_RETRIES)
    assert iam.get_user(UserName=name)["User"]["UserName"] == name
    assert prompts == [f"Enter MFA code for {serial}: "]
    frozen = session.get_credentials().get_frozen_credentials()
    assert frozen.access_key.startswith("ASIA")
    who = session.client("sts", endpoint_url=server.url).get_caller_identity()
    assert who["Arn"] == (
        f"arn:aws:sts::{server.account_id}:assumed-role/{role['RoleName']}/from-profile")


def test_a_code_is_accepted_once_across_two_server_processes(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", master)
    admin = bootstrap(pg_url, "admin")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["SIGV4KIT_MASTER_KEY"] = master
    with serve_process(pg_url, tmp_path / "a.log", env) as url_a, \
            serve_process(pg_url, tmp_path / "b.log", env) as url_b:
        first = Server(url=url_a, store_url=pg_url, admin=admin)
        second = Server(url=url_b, store_url=pg_url, admin=admin)
        name, key = new_user(first, ASSUME_ANY)
        serial, seed, step = enable_mfa(first, name)
        code = code_at(seed, step + 1)
        assert client(first, "sts", key).get_session_token(SerialNumber=serial, TokenCode=code)
        with pytest.raises(ClientError) as exc:
            client(second, "sts", key).get_session_token(SerialNumber=serial, TokenCode=code)
        assert error_of(exc) == (
            "AccessDenied",
            "MultiFactorAuthentication failed with invalid MFA one time pass code.", 403)
        # The session issued by one server is valid on the other.
        creds = client(second, "sts", key).get_session_token(DurationSeconds=900)["Credentials"]
        assert client(first, "sts", creds).get_caller_identity()["Arn"].endswith(f"user/{name}")
        # A role session with a session policy and tags, issued by one, used on the other.
        role = new_role(first, trust({"AWS": f"arn:aws:iam::{first.account_id}:user/{name}"},
                                     action=["sts:AssumeRole", "sts:TagSession"]),
                        {"Effect": "Allow", "Action": ["iam:GetUser", "iam:ListUsers"],
                         "Resource": "*",
                         "Condition": {"StringEquals": {"aws:PrincipalTag/env": "prod"}}})
        session = client(first, "sts", key).assume_role(
            RoleArn=role["Arn"], RoleSessionName="pg-session",
            Policy=json.dumps({"Version": "2012-10-17", "Statement": [GET_USER]}),
            Tags=[{"Key": "env", "Value": "prod"}])["Credentials"]
        on_second = client(second, "iam", session)
        assert on_second.get_user(UserName=name)["User"]["UserName"] == name
        with pytest.raises(ClientError) as exc:
            on_second.list_users()
        assert error_of(exc)[1].endswith(
            "because no session policy allows the iam:ListUsers action")


def test_profile_credentials_are_refreshed_from_the_service(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore refreshes assumed-role credentials that expire within 15 minutes
    # (its advisory refresh window and its fetcher's cache window): a 900-second
    # session is always inside it, so every use asks the service for a new one.
    name, key = new_user(server, ASSUME_ANY, GET_USER)
    user = f"arn:aws:iam::{server.account_id}:user/{name}"
    role = new_role(server, trust({"AWS": user}), GET_USER)
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text(
        "[profile developer]\nregion = us-east-1\n\n"
        f"[profile short]\nrole_arn = {role['Arn']}\nsource_profile = developer\n"
        "role_session_name = refreshed\nduration_seconds = 900\nregion = us-east-1\n")
    credentials.write_text(f"[developer]\naws_access_key_id = {key['AccessKeyId']}\n"
                           f"aws_secret_access_key = {key['SecretAccessKey']}\n")
    for variable in list(os.environ):
        if variable.startswith("AWS_"):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server.url)
    session = boto3.Session(profile_name="short")
    refreshable = session.get_credentials()
    first = refreshable.get_frozen_credentials()
    second = refreshable.get_frozen_credentials()
    assert first.access_key.startswith("ASIA")
    assert second.access_key.startswith("ASIA")
    assert second.access_key != first.access_key  # a new session, obtained from the service
    remaining = refreshable._expiry_time - datetime.now(UTC)
    assert timedelta(seconds=850) < remaining <= timedelta(seconds=905)
    iam = session.client("iam", endpoint_url=server.url, config=NO_RETRIES)
    assert iam.get_user(UserName=name)["User"]["UserName"] == name
    who = session.client("sts", endpoint_url=server.url).get_caller_identity()
    assert who["Arn"] == (
        f"arn:aws:sts::{server.account_id}:assumed-role/{role['RoleName']}/refreshed")
