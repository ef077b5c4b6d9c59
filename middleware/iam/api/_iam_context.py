"""Who is calling the IAM API, and whether they may: the per-request context.

``IAMContext`` is what every IAM handler receives: the entity operations, the
caller's account and identity (from the entities' authorization snapshot of
the access key that signed), and the request id. :func:`iam_context_factory`
builds it for :class:`~._app.QueryService` and authorizes the call first
(``iam:<Action>`` on the resource of :mod:`._iam_resources`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sigv4kit import SigV4Error

from ..authz import CallerPolicies, authorize_call, caller_context_keys, engine_principal
from ..entities import AuthorizationSnapshot, PrincipalKind, SessionKind
from ..login import LoginStore
from ..policy import AuthorizationRequest, DecisionEffect, evaluate
from ._iam_resources import (
    EntityKind,
    Target,
    entity_arn,
    request_condition_keys,
    resource_target,
)

__all__ = ["IAMContext", "InvalidClientTokenId", "authorize_iam_call", "iam_context_factory"]


class InvalidClientTokenId(SigV4Error):
    """403: the signing key belongs to no IAM identity (IAM's ``InvalidClientTokenId``)."""

    code = "InvalidClientTokenId"
    status = 403
    message = "The security token included in the request is invalid."

    def __init__(self) -> None:
        super().__init__(self.message)


@dataclass(frozen=True, slots=True, kw_only=True)
class IAMContext:
    """One IAM call's context: the entity operations and the authorized caller."""

    iam: Any
    snapshot: AuthorizationSnapshot

    @property
    def account_id(self) -> str:
        return self.snapshot.principal.account_id

    @property
    def caller_name(self) -> str | None:
        """The calling IAM user's name; None for the root user or a role."""
        principal = self.snapshot.principal
        return principal.name if principal.kind is PrincipalKind.USER else None


_GETTERS = {EntityKind.USER: "get_user", EntityKind.GROUP: "get_group",
            EntityKind.ROLE: "get_role"}


async def _stored(iam: Any, account_id: str, kind: EntityKind, name: str
                  ) -> tuple[str, Mapping[str, str]]:
    """The entity's path and tags; ``/`` and none when it does not exist (the handler
    then says so)."""
    try:
        found = await getattr(iam, _GETTERS[kind])(account_id, name)
    except SigV4Error:  # NoSuchEntity, or a name the handler will refuse
        return "/", {}
    entity = getattr(found, "group", found)  # get_group answers a GroupDetail
    tags = {tag.key: tag.value for tag in getattr(entity, "tags", ())}
    return str(entity.path), tags


async def resource_of(iam: Any, snapshot: AuthorizationSnapshot, target: Target
                      ) -> tuple[str, Mapping[str, str]]:
    """The ARN an IAM call is authorized on, and that resource's tags.

    The path is the call's own for a Create call, the stored entity's otherwise.
    """
    info = snapshot.principal
    if target.arn is not None:
        return target.arn, {}
    if target.caller or target.kind is None or target.name is None:
        return info.arn, info.tags
    if target.path is not None:
        return entity_arn(info.account_id, target.kind, target.path, target.name), {}
    if target.kind is EntityKind.POLICY:
        return entity_arn(info.account_id, target.kind, "/", target.name), {}
    path, tags = await _stored(iam, info.account_id, target.kind, target.name)
    return entity_arn(info.account_id, target.kind, path, target.name), tags


def renamed_arn(action: str, params: Mapping[str, Any], resource: str) -> str | None:
    """UpdateUser's target ARN (new name and/or path), or None for any other call."""
    if action != "UpdateUser" or ("NewUserName" not in params and "NewPath" not in params):
        return None
    name = str(params["UserName"])
    head, _, rest = resource.partition(":user/")
    old_path = "/" + rest[: len(rest) - len(name)]
    new_path = params.get("NewPath", old_path)
    return f"{head}:user{new_path}{params.get('NewUserName', name)}"


def _session_without_iam(snapshot: AuthorizationSnapshot) -> bool:
    """GetSessionToken credentials made without MFA cannot call IAM (AWS answers
    ``InvalidClientTokenId``; GetSessionToken's reference: "You cannot call any IAM API
    operations unless MFA authentication information is included in the request")."""
    session = snapshot.session
    return (session is not None and session.kind is SessionKind.USER
            and not session.mfa_authenticated)


async def _users_may_change_password(iam: Any, snapshot: AuthorizationSnapshot, action: str,
                                     caller: CallerPolicies, resource: str) -> bool:
    """IAM's ``AllowUsersToChangePassword``: every IAM user may change (and read the policy
    for) their own password, without a policy granting ``iam:ChangePassword``; an explicit
    deny still refuses."""
    if action not in ("ChangePassword", "GetAccountPasswordPolicy"):
        return False
    if snapshot.principal.kind is not PrincipalKind.USER:
        return False
    decision = evaluate(
        AuthorizationRequest(principal=caller.principal, action=f"iam:{action}",
                             resource=resource, context=caller.context),
        identity_policies=caller.identity_policies,
        permissions_boundary=caller.permissions_boundary,
    )
    if decision.effect is DecisionEffect.EXPLICIT_DENY:
        return False
    policy = await LoginStore(iam._store).password_policy(snapshot.principal.account_id)
    return policy.allow_users_to_change


async def authorize_iam_call(
    iam: Any, snapshot: AuthorizationSnapshot, scope: Mapping[str, Any], action: str,
    params: Mapping[str, Any], *, now: datetime,
) -> None:
    """Refuse (``AccessDenied``) an IAM call ``snapshot``'s principal may not make.

    ``iam:<Action>`` on the call's resource with the caller's and the request's
    condition keys; the root user may make every call. Shared by the IAM API
    and the console, which acts as its signed-in user.
    """
    if snapshot.is_root:
        return
    resource, tags = await resource_of(iam, snapshot, resource_target(action, params))
    keys: dict[str, Any] = caller_context_keys(snapshot, scope, now)
    keys |= request_condition_keys(action, params)
    keys |= {f"aws:ResourceTag/{key}": value for key, value in tags.items()}
    caller = CallerPolicies(
        principal=engine_principal(snapshot),
        identity_policies=snapshot.policies,
        permissions_boundary=snapshot.permissions_boundary,
        context=keys,
        session_policies=snapshot.session_policies,
    )
    try:
        authorize_call(caller, f"iam:{action}", resource)
    except SigV4Error:
        if not await _users_may_change_password(iam, snapshot, action, caller, resource):
            raise
    renamed = renamed_arn(action, params, resource)
    if renamed is not None and renamed != resource:
        # "The requester must have appropriate permissions on both the
        # source object and the target object" (UpdateUser reference).
        authorize_call(caller, f"iam:{action}", renamed)


ContextFactory = Callable[[Mapping[str, Any], str, Mapping[str, Any]], Awaitable[IAMContext]]


def iam_context_factory(iam: Any, *, clock: Callable[[], datetime]) -> ContextFactory:
    """Build each call's :class:`IAMContext`, refusing callers the policies do not allow.

    Raises :class:`InvalidClientTokenId` when the signing key maps to no
    identity and ``AccessDenied`` when the caller may not run the call.
    """

    async def context(scope: Mapping[str, Any], action: str,
                      params: Mapping[str, Any]) -> IAMContext:
        identity = scope.get("sigv4")
        access_key_id = getattr(identity, "access_key_id", None)
        if not isinstance(access_key_id, str):
            raise InvalidClientTokenId()
        snapshot = await iam.load_authorization(access_key_id)
        if snapshot is None or _session_without_iam(snapshot):
            raise InvalidClientTokenId()
        await authorize_iam_call(iam, snapshot, scope, action, params, now=clock())
        return IAMContext(iam=iam, snapshot=snapshot)

    return context
