"""Console passwords over boto3's iam client against ``sigv4kit serve``: login profiles,
ChangePassword and the account password policy, with IAM's errors and wording."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from _iam_api import Server, error_of, iam_server, policy_document, unique
from botocore.exceptions import ClientError

STRONG = "Correct-Horse-42!"
POLICY_MESSAGE = "Password does not conform to the account password policy."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with iam_server(f"sqlite:///{tmp_path_factory.mktemp('iam') / 'iam.db'}") as running:
        yield running


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    return server.client()


@pytest.fixture
def no_policy(iam: Any) -> Iterator[None]:
    """Each policy test starts and ends without a custom account policy."""
    with pytest.raises(ClientError):
        iam.delete_account_password_policy()
    yield
    with contextlib.suppress(ClientError):
        iam.delete_account_password_policy()


def user_with_key(iam: Any, server: Server, *statements: dict[str, Any]) -> tuple[str, Any]:
    name = unique("u")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p",
                            PolicyDocument=policy_document(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, server.client(key)


def test_login_profile_lifecycle(iam: Any) -> None:
    name = unique("u")
    iam.create_user(UserName=name)
    created = iam.create_login_profile(UserName=name, Password=STRONG,
                                       PasswordResetRequired=True)["LoginProfile"]
    assert created["UserName"] == name
    assert created["PasswordResetRequired"] is True
    assert isinstance(created["CreateDate"], datetime)
    got = iam.get_login_profile(UserName=name)["LoginProfile"]
    assert (got["UserName"], got["PasswordResetRequired"]) == (name, True)
    assert got["CreateDate"] == created["CreateDate"]
    iam.update_login_profile(UserName=name, PasswordResetRequired=False)
    assert iam.get_login_profile(UserName=name)["LoginProfile"]["PasswordResetRequired"] is False
    with pytest.raises(ClientError) as exc:
        iam.create_login_profile(UserName=name, Password=STRONG)
    assert error_of(exc) == ("EntityAlreadyExists",
                             f"Login Profile for user {name} already exists.", 409)
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=name)
    assert error_of(exc) == ("DeleteConflict",
                             "Cannot delete entity, must delete login profile first.", 409)
    iam.delete_login_profile(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.get_login_profile(UserName=name)
    assert error_of(exc) == ("NoSuchEntity", f"Login Profile for User {name} cannot be found.",
                             404)
    with pytest.raises(ClientError) as exc:
        iam.delete_login_profile(UserName=name)
    assert error_of(exc)[0] == "NoSuchEntity"
    iam.delete_user(UserName=name)


def test_login_profile_of_a_missing_user(iam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        iam.create_login_profile(UserName="nobody-here", Password=STRONG)
    assert error_of(exc) == ("NoSuchEntity", "The user with name nobody-here cannot be found.",
                             404)


def test_default_policy_refuses_weak_passwords(iam: Any, no_policy: None) -> None:
    name = unique("u")
    iam.create_user(UserName=name)
    # IAM's default policy: 8 characters and three of the four kinds.
    for weak in ("Ab1!", "alllowercase", "lowercase123"):
        with pytest.raises(ClientError) as exc:
            iam.create_login_profile(UserName=name, Password=weak)
        assert error_of(exc) == ("PasswordPolicyViolation", POLICY_MESSAGE, 400)
    iam.create_login_profile(UserName=name, Password="Lowercase123")


def test_account_password_policy(iam: Any, no_policy: None, server: Server) -> None:
    with pytest.raises(ClientError) as exc:
        iam.get_account_password_policy()
    assert error_of(exc) == (
        "NoSuchEntity",
        f"The Password Policy with domain name {server.account_id} cannot be found.", 404)
    iam.update_account_password_policy(
        MinimumPasswordLength=12, RequireSymbols=True, RequireNumbers=True,
        RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True, MaxPasswordAge=90, PasswordReusePrevention=3,
        HardExpiry=False,
    )
    assert iam.get_account_password_policy()["PasswordPolicy"] == {
        "MinimumPasswordLength": 12, "RequireSymbols": True, "RequireNumbers": True,
        "RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True,
        "AllowUsersToChangePassword": True, "ExpirePasswords": True, "MaxPasswordAge": 90,
        "PasswordReusePrevention": 3, "HardExpiry": False,
    }
    # No partial updates: what is left out returns to its default.
    iam.update_account_password_policy(MinimumPasswordLength=10)
    assert iam.get_account_password_policy()["PasswordPolicy"] == {
        "MinimumPasswordLength": 10, "RequireSymbols": False, "RequireNumbers": False,
        "RequireUppercaseCharacters": False, "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": False, "ExpirePasswords": False,
    }


@pytest.mark.parametrize(("field", "value", "constraint"), [
    ("MinimumPasswordLength", 5, "greater than or equal to 6"),
    ("MinimumPasswordLength", 129, "less than or equal to 128"),
    ("PasswordReusePrevention", 25, "less than or equal to 24"),
    ("MaxPasswordAge", 1096, "less than or equal to 1095"),
])
def test_policy_ranges(server: Server, field: str, value: int, constraint: str) -> None:
    # boto3 validates ranges client-side; the server must too (other clients do not).
    import boto3
    from botocore.config import Config

    iam = boto3.client(
        "iam", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=server.admin["access_key_id"],
        aws_secret_access_key=server.admin["secret_access_key"],
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as exc:
        iam.update_account_password_policy(**{field: value})
    code, message, status = error_of(exc)
    assert (code, status) == ("ValidationError", 400)
    assert constraint in message


def test_custom_policy_rules(iam: Any, no_policy: None) -> None:
    iam.update_account_password_policy(MinimumPasswordLength=10, RequireSymbols=True,
                                       RequireNumbers=True)
    name = unique("u")
    iam.create_user(UserName=name)
    for weak in ("short1!", "longenough!!", "longenough12"):
        with pytest.raises(ClientError) as exc:
            iam.create_login_profile(UserName=name, Password=weak)
        assert error_of(exc) == ("PasswordPolicyViolation", POLICY_MESSAGE, 400)
    iam.create_login_profile(UserName=name, Password="longenough1!")


def test_change_password_and_reuse(iam: Any, server: Server, no_policy: None) -> None:
    iam.update_account_password_policy(MinimumPasswordLength=8, PasswordReusePrevention=2,
                                       AllowUsersToChangePassword=True)
    # No iam:ChangePassword in the user's policies: AllowUsersToChangePassword lets them.
    name, own = user_with_key(iam, server)
    iam.create_login_profile(UserName=name, Password="first-pass-1", PasswordResetRequired=True)
    with pytest.raises(ClientError) as exc:
        own.change_password(OldPassword="wrong-password", NewPassword="second-pass-2")
    code, _message, status = error_of(exc)
    assert (code, status) == ("AccessDenied", 403)
    own.change_password(OldPassword="first-pass-1", NewPassword="second-pass-2")
    # The forced reset is cleared by the user's own change.
    assert iam.get_login_profile(UserName=name)["LoginProfile"]["PasswordResetRequired"] is False
    with pytest.raises(ClientError) as exc:  # the current one
        own.change_password(OldPassword="second-pass-2", NewPassword="second-pass-2")
    assert error_of(exc) == ("PasswordPolicyViolation", POLICY_MESSAGE, 400)
    with pytest.raises(ClientError) as exc:  # the one before (2 remembered)
        own.change_password(OldPassword="second-pass-2", NewPassword="first-pass-1")
    assert error_of(exc) == ("PasswordPolicyViolation", POLICY_MESSAGE, 400)
    own.change_password(OldPassword="second-pass-2", NewPassword="third-pass-3")
    # first-pass-1 is now three passwords back: allowed again.
    own.change_password(OldPassword="third-pass-3", NewPassword="first-pass-1")
    # An explicit deny still refuses, AllowUsersToChangePassword or not.
    iam.put_user_policy(UserName=name, PolicyName="no-change", PolicyDocument=policy_document(
        {"Effect": "Deny", "Action": "iam:ChangePassword", "Resource": "*"}))
    with pytest.raises(ClientError) as exc:
        own.change_password(OldPassword="first-pass-1", NewPassword="fourth-pass-4")
    code, message, _status = error_of(exc)
    assert code == "AccessDenied"
    assert "explicit deny" in message
    # An administrator's reset is checked against the history too.
    with pytest.raises(ClientError) as exc:
        iam.update_login_profile(UserName=name, Password="third-pass-3")
    assert error_of(exc) == ("PasswordPolicyViolation", POLICY_MESSAGE, 400)


def test_change_password_needs_permission_without_allow(iam: Any, server: Server,
                                                        no_policy: None) -> None:
    name, own = user_with_key(iam, server)
    iam.create_login_profile(UserName=name, Password=STRONG)
    with pytest.raises(ClientError) as exc:
        own.change_password(OldPassword=STRONG, NewPassword="Another-Pass-9")
    assert error_of(exc)[0] == "AccessDenied"
    iam.put_user_policy(UserName=name, PolicyName="own", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "iam:ChangePassword", "Resource": "*"}))
    own.change_password(OldPassword=STRONG, NewPassword="Another-Pass-9")




def test_passwords_never_stored_or_logged(iam: Any, server: Server,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    name = unique("u")
    secret = "Unique-Secret-Phrase-77"
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=secret)
    # botocore itself logs the request it sends at DEBUG (the client's side);
    # what the server side logged must not hold the password.
    server_side = [r.getMessage() for r in caplog.records
                   if not r.name.startswith(("botocore", "urllib3", "boto3"))]
    assert server_side
    assert not any(secret in line for line in server_side)
    path = server.store_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        hashes = [row[0] for row in db.execute("SELECT password_hash FROM login_profiles")]
    assert hashes
    assert all(h.startswith("$argon2id$v=19$m=19456,t=2,p=1$") for h in hashes)
    assert not any(secret in h for h in hashes)
