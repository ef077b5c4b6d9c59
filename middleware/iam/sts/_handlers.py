"""STS's operations: one handler each, answering the output members of botocore's STS model.

* ``GetCallerIdentity``: who signed (needs no permission; a Deny cannot stop it).
* ``GetSessionToken``: a user's own session, with MFA when ``SerialNumber`` and
  ``TokenCode`` are given; not with session credentials.
* ``AssumeRole``: the caller's policies must allow ``sts:AssumeRole`` on the
  role and the role's trust policy must allow the caller, every condition
  evaluated (``sts:ExternalId``, ``aws:MultiFactorAuthPresent``,
  ``sts:RoleSessionName``, ``sts:SourceIdentity``, ``aws:RequestTag/*``,
  ``aws:PrincipalTag/*`` ...); ``sts:TagSession`` and ``sts:SetSourceIdentity``
  too when tags or a source identity are passed.
* ``AssumeRoleWithWebIdentity``: the OIDC token validated against the
  provider's keys, then the trust policy's ``Federated`` principal and its
  ``<provider>:aud``/``:sub``/``:amr`` conditions.
* ``GetAccessKeyInfo``: the account a key belongs to.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ..api._app import Call
from ..authz import AccessDenied, caller_context_keys, engine_principal
from ..entities import AuthorizationSnapshot, IAMError, NoSuchEntity, PrincipalKind, Role
from ..entities._rules import parse_policy_arn
from ..oidc import validate_web_identity
from ..policy import AuthorizationRequest, Policy, PolicyType, Principal, PrincipalType, evaluate
from ._context import STSContext
from ._errors import STSError
from ._issue import SessionRequest, issue_session
from ._rules import (
    check_source_identity,
    check_tags,
    packed_percent,
    parse_role_arn,
    role_duration,
    session_token_duration,
)

__all__ = ["HANDLERS"]

STSCall = Call[STSContext]

_SESSION_CREDENTIALS = "Cannot call GetSessionToken with session credentials"
_WEB_IDENTITY_DENIED = "Not authorized to perform sts:AssumeRoleWithWebIdentity"


async def get_caller_identity(call: STSCall) -> Mapping[str, Any]:
    snapshot = call.context.caller()
    info = snapshot.principal
    user_id = info.unique_id if snapshot.session is None else snapshot.session.user_id(info)
    if info.kind is PrincipalKind.ROOT:
        user_id = info.account_id  # the root user's UserId is its account id, sessions too
    return {"UserId": user_id, "Account": info.account_id, "Arn": snapshot.caller_arn}


async def _mfa_time(call: STSCall, snapshot: AuthorizationSnapshot) -> Any:
    """Check ``SerialNumber``/``TokenCode`` when given: the MFA time, or None without them."""
    serial = call.params.get("SerialNumber")
    code = call.params.get("TokenCode")
    if serial is None and code is None:
        return None
    services = call.context.services
    verified = await services.mfa.verify_code(
        str(serial or ""), str(code or ""), principal_id=snapshot.principal.unique_id,
        now=services.clock(),
    )
    return verified.authenticated_at


async def get_session_token(call: STSCall) -> Mapping[str, Any]:
    snapshot = call.context.caller()
    if snapshot.session is not None:
        raise AccessDenied(_SESSION_CREDENTIALS)
    root = snapshot.is_root or snapshot.principal.kind is PrincipalKind.ROOT
    duration = session_token_duration(call.params.get("DurationSeconds"), root=root)
    mfa_at = await _mfa_time(call, snapshot)
    services = call.context.services
    credentials = await issue_session(
        services.store,
        SessionRequest(
            principal_id=snapshot.principal.unique_id,
            duration_seconds=duration,
            mfa_authenticated_at=mfa_at,
            source_arn=snapshot.caller_arn,
        ),
        now=services.clock(),
    )
    return {"Credentials": credentials.wire()}


async def _role(call: STSCall, role_arn: str, caller_arn: str, action: str) -> Role:
    """The role ``role_arn`` names; AccessDenied (AWS's answer) when there is none."""
    name = parse_role_arn(role_arn, caller_arn=caller_arn, action=action)
    denied = AccessDenied(
        f"User: {caller_arn} is not authorized to perform: {action} on resource: {role_arn}"
    )
    try:
        role: Role = await call.context.services.iam.get_role(name.account, name.name)
    except NoSuchEntity:
        raise denied from None
    if role.arn != role_arn:  # another path, or the name in another case
        raise denied
    return role


def _session_policy(params: Mapping[str, Any]) -> str | None:
    """``Policy``, validated as a session policy (MalformedPolicyDocument otherwise)."""
    policy = params.get("Policy")
    if policy is None:
        return None
    Policy.parse(policy, policy_type=PolicyType.SESSION)
    return str(policy)


def _policy_arns(params: Mapping[str, Any]) -> list[str]:
    """``PolicyArns``: each must be a managed policy's ARN (ValidationError otherwise)."""
    arns = [str(item["arn"]) for item in params.get("PolicyArns", ()) if "arn" in item]
    for arn in arns:
        try:
            parse_policy_arn(arn)
        except IAMError:
            raise STSError("ValidationError", f"The policy ARN {arn[:256]} is invalid.") from None
    return arns


def _request_keys(params: Mapping[str, Any], tags: Mapping[str, str],
                  source_identity: str | None) -> dict[str, Any]:
    """The AssumeRole request's own condition keys (reference_policies_iam-condition-keys)."""
    keys: dict[str, Any] = {"sts:RoleSessionName": params["RoleSessionName"]}
    if params.get("ExternalId") is not None:
        keys["sts:ExternalId"] = params["ExternalId"]
    if source_identity is not None:
        keys["sts:SourceIdentity"] = source_identity
    if params.get("TransitiveTagKeys"):
        keys["sts:TransitiveTagKeys"] = list(params["TransitiveTagKeys"])
    if params.get("DurationSeconds") is not None:
        keys["sts:DurationSeconds"] = str(params["DurationSeconds"])
    if tags:
        keys["aws:TagKeys"] = list(tags)
        keys |= {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    return keys


@functools.lru_cache(maxsize=1024)
def _trust_policy(document: str, role_arn: str) -> Policy:
    # Stored trust policies were validated when written; parsing is pure.
    return Policy.parse(document, policy_type=PolicyType.TRUST, policy_id=f"{role_arn}#trust")


def _decide(principal: Principal, action: str, role: Role, keys: Mapping[str, Any],
            snapshot: AuthorizationSnapshot | None) -> bool:
    """Both sides: the caller's policies (when signed) and the role's trust policy."""
    trust = _trust_policy(role.assume_role_policy_document, role.arn)
    request = AuthorizationRequest(principal=principal, action=action, resource=role.arn,
                                   context=keys, resource_account=role.account_id)
    if snapshot is None:
        return evaluate(request, resource_policy=trust).allowed
    return evaluate(
        request,
        identity_policies=snapshot.policies,
        permissions_boundary=snapshot.permissions_boundary,
        session_policies=snapshot.session_policies or None,
        resource_policy=trust,
    ).allowed


def _assumed_role_user(role: Role, session_name: str) -> dict[str, str]:
    return {
        "AssumedRoleId": f"{role.role_id}:{session_name}",
        "Arn": f"arn:aws:sts::{role.account_id}:assumed-role/{role.role_name}/{session_name}",
    }


async def assume_role(call: STSCall) -> Mapping[str, Any]:
    snapshot = call.context.caller()
    params = call.params
    services = call.context.services
    caller_arn = snapshot.caller_arn
    role = await _role(call, params["RoleArn"], caller_arn, "sts:AssumeRole")
    session = snapshot.session
    duration = role_duration(params.get("DurationSeconds"),
                             max_session=role.max_session_duration, chained=session is not None)
    policy = _session_policy(params)
    policy_arns = _policy_arns(params)
    inherited = {} if session is None else {
        k: v for k, v in session.tags.items() if k in session.transitive_tag_keys
    }
    transitive = list(params.get("TransitiveTagKeys", ()))
    tags = check_tags(params.get("Tags", ()), transitive, inherited)
    source_identity = check_source_identity(
        params.get("SourceIdentity"), None if session is None else session.source_identity
    )
    packed = packed_percent(policy, policy_arns, tags)
    mfa_at = await _mfa_time(call, snapshot)
    if mfa_at is None and session is not None and session.mfa_authenticated:
        mfa_at = session.mfa_authenticated_at  # MFA carries over into chained sessions
    now = services.clock()
    keys: dict[str, Any] = caller_context_keys(snapshot, call.context.scope, now)
    if mfa_at is not None:
        keys["aws:MultiFactorAuthPresent"] = "true"
        keys["aws:MultiFactorAuthAge"] = str(max(0, int((now - mfa_at).total_seconds())))
    request_tags = {k: v for k, v in tags.items() if k not in inherited}
    keys |= _request_keys(params, request_tags, params.get("SourceIdentity"))
    principal = engine_principal(snapshot)
    actions = ["sts:AssumeRole"]
    if request_tags:
        actions.append("sts:TagSession")
    if params.get("SourceIdentity") is not None and (
        session is None or session.source_identity is None
    ):
        actions.append("sts:SetSourceIdentity")
    for action in actions:
        if not _decide(principal, action, role, keys, snapshot):
            raise AccessDenied(
                f"User: {caller_arn} is not authorized to perform: {action} on resource: "
                f"{role.arn}"
            )
    name = str(params["RoleSessionName"])
    credentials = await issue_session(
        services.store,
        SessionRequest(
            principal_id=role.role_id,
            duration_seconds=duration,
            name=name,
            mfa_authenticated_at=mfa_at,
            source_identity=source_identity,
            policy=policy,
            policy_arns=policy_arns,
            tags=tags,
            transitive_tag_keys=[*transitive, *inherited],
            source_arn=caller_arn,
        ),
        now=now,
    )
    result: dict[str, Any] = {
        "Credentials": credentials.wire(),
        "AssumedRoleUser": _assumed_role_user(role, name),
    }
    if policy or policy_arns or tags:
        result["PackedPolicySize"] = packed
    if source_identity is not None:
        result["SourceIdentity"] = source_identity
    return result


async def assume_role_with_web_identity(call: STSCall) -> Mapping[str, Any]:
    params = call.params
    services = call.context.services
    role_arn = str(params["RoleArn"])
    name = parse_role_arn(role_arn, caller_arn="(web identity)",
                          action="sts:AssumeRoleWithWebIdentity")
    now = services.clock()
    identity = await validate_web_identity(
        params["WebIdentityToken"], account_id=name.account, providers=services.oidc,
        jwks=services.jwks(), now=now.timestamp(),
    )
    try:
        role: Role = await services.iam.get_role(name.account, name.name)
    except NoSuchEntity:
        raise AccessDenied(_WEB_IDENTITY_DENIED) from None
    if role.arn != role_arn:
        raise AccessDenied(_WEB_IDENTITY_DENIED)
    duration = role_duration(params.get("DurationSeconds"),
                             max_session=role.max_session_duration, chained=False)
    policy = _session_policy(params)
    policy_arns = _policy_arns(params)
    packed = packed_percent(policy, policy_arns, {})
    keys: dict[str, Any] = dict(identity.condition_keys())
    keys |= {
        "aws:FederatedProvider": identity.provider_arn,
        "sts:RoleSessionName": params["RoleSessionName"],
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:PrincipalType": PrincipalType.WEB_IDENTITY.value,
    }
    principal = Principal(arn=identity.provider_arn, account=None,
                          type=PrincipalType.WEB_IDENTITY,
                          federated_provider=identity.provider_arn)
    if not _decide(principal, "sts:AssumeRoleWithWebIdentity", role, keys, None):
        raise AccessDenied(_WEB_IDENTITY_DENIED)
    session_name = str(params["RoleSessionName"])
    credentials = await issue_session(
        services.store,
        SessionRequest(
            principal_id=role.role_id,
            duration_seconds=duration,
            name=session_name,
            federated_provider=identity.provider_arn,
            policy=policy,
            policy_arns=policy_arns,
            source_arn=f"{identity.provider_prefix}:{identity.subject}"[:2048],
        ),
        now=now,
    )
    result: dict[str, Any] = {
        "Credentials": credentials.wire(),
        "SubjectFromWebIdentityToken": identity.subject,
        "AssumedRoleUser": _assumed_role_user(role, session_name),
        "Provider": identity.provider_prefix,
        "Audience": identity.audience,
    }
    if policy or policy_arns:
        result["PackedPolicySize"] = packed
    return result


async def get_access_key_info(call: STSCall) -> Mapping[str, Any]:
    call.context.caller()
    key = await call.context.services.store.get_key(call.params["AccessKeyId"])
    account = getattr(key, "account_id", None)
    if not isinstance(account, str):
        raise STSError("InvalidParameterValue", "The access key ID is not valid.")
    return {"Account": account}


HANDLERS = {
    "GetCallerIdentity": get_caller_identity,
    "GetSessionToken": get_session_token,
    "AssumeRole": assume_role,
    "AssumeRoleWithWebIdentity": assume_role_with_web_identity,
    "GetAccessKeyInfo": get_access_key_info,
}
