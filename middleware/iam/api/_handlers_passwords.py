"""IAM handlers: console passwords (login profiles) and the account password policy.

Each handler turns the typed input into one :class:`~..login.LoginStore`
operation. ``ChangePassword`` is the caller's own: the root user and roles
get ``InvalidUserType``; an IAM user may run it when a policy allows
``iam:ChangePassword`` or the account policy sets ``AllowUsersToChangePassword``
(see :mod:`._iam_context`).
"""

from __future__ import annotations

from typing import Any

from ..entities import ValidationError
from ..login import InvalidUserType, LoginStore, PasswordPolicy
from ._handlers_common import IAMCall, ctx, user_or_caller

__all__ = ["HANDLERS", "login_store"]


def login_store(iam: Any) -> LoginStore:
    """The login operations over the same key store as the entity operations ``iam``."""
    return LoginStore(iam._store)


def _password(call: IAMCall, member: str = "Password") -> str:
    password = call.params.get(member)
    if password is None:
        # botocore leaves Password optional (the root user's AssumeRoot flow);
        # a user's password cannot be created without one.
        raise ValidationError(
            f"1 validation error detected: Value null at '{member[0].lower() + member[1:]}' "
            "failed to satisfy constraint: Member must not be null"
        )
    return str(password)


async def create_login_profile(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    p = call.params
    profile = await login_store(iam).create_login_profile(
        account, user_or_caller(call), _password(call),
        password_reset_required=bool(p.get("PasswordResetRequired", False)),
        max_signin_session_duration=p.get("MaxSigninSessionDuration"),
        now=iam._now(),
    )
    return {"LoginProfile": profile.as_shape()}


async def get_login_profile(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    profile = await login_store(iam).get_login_profile(account, user_or_caller(call))
    return {"LoginProfile": profile.as_shape()}


async def update_login_profile(call: IAMCall) -> None:
    iam, account = ctx(call)
    p = call.params
    await login_store(iam).update_login_profile(
        account, str(p["UserName"]),
        password=p.get("Password"),
        password_reset_required=p.get("PasswordResetRequired"),
        max_signin_session_duration=p.get("MaxSigninSessionDuration"),
        reset_max_signin_session_duration=bool(p.get("ResetMaxSigninSessionDuration", False)),
        now=iam._now(),
    )


async def delete_login_profile(call: IAMCall) -> None:
    iam, account = ctx(call)
    await login_store(iam).delete_login_profile(account, user_or_caller(call))


async def change_password(call: IAMCall) -> None:
    iam, account = ctx(call)
    name = call.context.caller_name
    if name is None:
        raise InvalidUserType("Only IAM Users can change their own password.")
    await login_store(iam).change_password(
        account, name, str(call.params["OldPassword"]), str(call.params["NewPassword"]),
        now=iam._now(),
    )


async def update_account_password_policy(call: IAMCall) -> None:
    iam, account = ctx(call)
    p = call.params
    # "This operation does not support partial updates": every member left out
    # takes its default.
    policy = PasswordPolicy(
        minimum_length=int(p.get("MinimumPasswordLength", 6)),
        require_symbols=bool(p.get("RequireSymbols", False)),
        require_numbers=bool(p.get("RequireNumbers", False)),
        require_uppercase=bool(p.get("RequireUppercaseCharacters", False)),
        require_lowercase=bool(p.get("RequireLowercaseCharacters", False)),
        allow_users_to_change=bool(p.get("AllowUsersToChangePassword", False)),
        max_password_age=p.get("MaxPasswordAge"),
        reuse_prevention=p.get("PasswordReusePrevention"),
        hard_expiry=p.get("HardExpiry"),
    )
    await login_store(iam).update_account_password_policy(account, policy)


async def get_account_password_policy(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    policy = await login_store(iam).get_account_password_policy(account)
    return {"PasswordPolicy": policy.as_shape()}


async def delete_account_password_policy(call: IAMCall) -> None:
    iam, account = ctx(call)
    await login_store(iam).delete_account_password_policy(account)


HANDLERS = {
    "CreateLoginProfile": create_login_profile,
    "GetLoginProfile": get_login_profile,
    "UpdateLoginProfile": update_login_profile,
    "DeleteLoginProfile": delete_login_profile,
    "ChangePassword": change_password,
    "UpdateAccountPasswordPolicy": update_account_password_policy,
    "GetAccountPasswordPolicy": get_account_password_policy,
    "DeleteAccountPasswordPolicy": delete_account_password_policy,
}
