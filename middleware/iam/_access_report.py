"""Access reports as pure functions: ``sigv4kit iam report`` and the service last accessed details.

:func:`access_findings` reads what the store knows (principals with their
keys' last use, every policy document) and the time, and returns findings,
each with Access Analyzer's severities (``ERROR`` > ``SECURITY_WARNING`` >
``WARNING`` > ``SUGGESTION``):

=============================  ==================  ===========================================
code                           severity            when
=============================  ==================  ===========================================
``ROOT_ACCESS_KEY``            SECURITY_WARNING    a root principal has an active access key
``ROOT_ACCESS_KEY_USED``       SECURITY_WARNING    ... used in the last 90 days
``USER_WITHOUT_MFA``           WARNING             a user with no enabled MFA device
``ACCESS_KEY_OLD``             WARNING             an active key created over 90 days ago
``ACCESS_KEY_UNUSED``          WARNING             an active key over 90 days old, unused for 90
``ROLE_UNUSED``                SUGGESTION          a role over 90 days old, unused for 90 days
lint codes (policy_lint)       the lint's          every finding of the policy lint, on every
                                                   managed policy's default version and inline
                                                   policy; ``*`` on ``*`` is
                                                   ``ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES``
=============================  ==================  ===========================================

The 90 days follow AWS's advice (IAM best practices: "rotate access keys",
"remove unused credentials"; the credential report's and Access Analyzer's
unused-access default of 90 days).

:func:`services_last_accessed` is what GetServiceLastAccessedDetails lists
for a user or role (its ``ServicesLastAccessed``), from the principal's
uses per service, its identity policies and the job's time:

* each service used within IAM's tracking period (:data:`TRACKING_PERIOD`,
  400 days before the job), newest first; an older use is reported as never
  used, as IAM does;
* then, by namespace, each service the identity policies allow that was not
  used in that period (:func:`policy_services`).

Imports: :mod:`.entities` (the activity records), :mod:`.policy` (the lint).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .entities._activity import PrincipalActivity
from .policy import Policy, PolicyType, Severity, lint

__all__ = [
    "SEVERITY_ORDER",
    "TRACKING_PERIOD",
    "UNUSED_AFTER",
    "PolicySource",
    "ReportFinding",
    "ServiceAccess",
    "access_findings",
    "at_or_above",
    "policy_services",
    "services_last_accessed",
]

UNUSED_AFTER = timedelta(days=90)
#: Most severe first.
SEVERITY_ORDER = (Severity.ERROR, Severity.SECURITY_WARNING, Severity.WARNING,
                  Severity.SUGGESTION)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySource:
    """A policy document and where it lives (a managed policy's ARN, or ``user/NAME:POLICY``)."""

    name: str
    document: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFinding:
    severity: Severity
    code: str
    resource: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity.value, "code": self.code, "resource": self.resource,
                "message": self.message}


def at_or_above(findings: Iterable[ReportFinding], severity: Severity) -> list[ReportFinding]:
    """The findings as severe as ``severity`` or more."""
    limit = SEVERITY_ORDER.index(severity)
    return [f for f in findings if SEVERITY_ORDER.index(f.severity) <= limit]


def _days(delta: timedelta) -> int:
    return int(delta.total_seconds() // 86400)


def _principal_findings(
    account_id: str, principal: PrincipalActivity, now: datetime
) -> Iterable[ReportFinding]:
    kind = "role" if principal.kind == "role" else "user"
    arn = f"arn:aws:iam::{account_id}:{kind}{principal.path}{principal.name}"
    active = [k for k in principal.keys if k.active]
    if principal.root:
        # Every root principal signs as the account's root user: report it under that ARN.
        arn = f"arn:aws:iam::{account_id}:root"
        for key in active:
            yield ReportFinding(
                severity=Severity.SECURITY_WARNING, code="ROOT_ACCESS_KEY", resource=arn,
                message=f"The root user has an active access key ({key.access_key_id}); "
                "AWS recommends none.")
            if key.last_used_at is not None and now - key.last_used_at < UNUSED_AFTER:
                yield ReportFinding(
                    severity=Severity.SECURITY_WARNING, code="ROOT_ACCESS_KEY_USED",
                    resource=arn, message=f"The root user's access key {key.access_key_id} "
                    f"was used {_days(now - key.last_used_at)} days ago.")
    if kind == "user" and not principal.root and not principal.mfa_active:
        yield ReportFinding(severity=Severity.WARNING, code="USER_WITHOUT_MFA", resource=arn,
                            message=f"User {principal.name} has no MFA device enabled.")
    for key in active:
        age = now - key.created_at
        if age > UNUSED_AFTER:
            yield ReportFinding(
                severity=Severity.WARNING, code="ACCESS_KEY_OLD", resource=arn,
                message=f"Access key {key.access_key_id} is {_days(age)} days old: rotate it.")
            if key.last_used_at is None or now - key.last_used_at > UNUSED_AFTER:
                when = ("never used" if key.last_used_at is None
                        else f"last used {_days(now - key.last_used_at)} days ago")
                yield ReportFinding(
                    severity=Severity.WARNING, code="ACCESS_KEY_UNUSED", resource=arn,
                    message=f"Access key {key.access_key_id} is {when}: deactivate it.")
    if kind == "role" and now - principal.created_at > UNUSED_AFTER and (
        principal.last_used_at is None or now - principal.last_used_at > UNUSED_AFTER
    ):
        when = ("never used" if principal.last_used_at is None
                else f"last used {_days(now - principal.last_used_at)} days ago")
        yield ReportFinding(severity=Severity.SUGGESTION, code="ROLE_UNUSED", resource=arn,
                            message=f"Role {principal.name} is {when}.")


def _policy_findings(source: PolicySource) -> Iterable[ReportFinding]:
    try:
        policy = Policy.parse(source.document, policy_type=PolicyType.IDENTITY)
    except Exception as exc:  # a stored document the parser now refuses
        yield ReportFinding(severity=Severity.ERROR, code="POLICY_UNPARSABLE",
                            resource=source.name, message=str(exc))
        return
    for finding in lint(policy):
        where = f" (statement {finding.statement_index})" if finding.statement_index is not None \
            else ""
        yield ReportFinding(severity=finding.severity, code=finding.code, resource=source.name,
                            message=finding.message + where)


def access_findings(
    account_id: str,
    principals: Sequence[PrincipalActivity],
    policies: Sequence[PolicySource],
    *,
    now: datetime,
) -> list[ReportFinding]:
    """Every finding for the account, most severe first (then by resource)."""
    found = [f for p in principals for f in _principal_findings(account_id, p, now)]
    found += [f for source in policies for f in _policy_findings(source)]
    return sorted(found, key=lambda f: (SEVERITY_ORDER.index(f.severity), f.resource, f.code))


# -- service last accessed (GetServiceLastAccessedDetails) --------------------------------------

#: IAM: "IAM reports activity for at least the last 400 days" (GenerateServiceLastAccessedDetails).
TRACKING_PERIOD = timedelta(days=400)

#: ServiceNamespace's pattern in the IAM model (``[\w-]*``, 1 to 64 characters).
_NAMESPACE = re.compile(r"[\w-]{1,64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceAccess:
    """One entry of ServicesLastAccessed; ``last_authenticated`` None: not used (tracked)."""

    namespace: str
    last_authenticated: datetime | None = None
    region: str | None = None


def _whole_service_denials(policies: Sequence[Policy]) -> tuple[bool, set[str]]:
    """``(everything denied, services denied)`` by ``Deny`` statements that deny every
    action of a service (``"svc:*"``) or of all (``"*"``) on every resource (``"*"``),
    without conditions: whatever the request, such a statement denies it."""
    everything = False
    services: set[str] = set()
    for policy in policies:
        for statement in policy.statements:
            if (statement.effect != "Deny" or statement.actions is None
                    or statement.conditions or "*" not in (statement.resources or ())):
                continue
            for action in statement.actions:
                prefix, colon, rest = action.partition(":")
                if action == "*":
                    everything = True
                elif colon and rest == "*" and _NAMESPACE.fullmatch(prefix):
                    services.add(prefix.lower())
    return everything, services


def policy_services(policies: Sequence[Policy]) -> set[str]:
    """The service namespaces the identity ``policies`` allow (lower case).

    A service is allowed when an ``Allow`` statement's ``Action`` names it
    (the prefix before ``:``) and no ``Deny`` statement denies the whole
    service unconditionally (``"svc:*"`` or ``"*"`` on ``"*"``, no
    ``Condition``). ``"*"``, ``"*:..."`` and ``NotAction`` are left out:
    they name no one service (there is no list of every AWS service to
    expand them to). A ``Deny`` that is narrower (some actions, some
    resources, a condition, ``NotAction`` or ``NotResource``) may still
    let a request through, so it removes nothing. Permissions boundaries
    are not policies here: IAM's last accessed data "only applies
    permissions policy logic".
    """
    everything_denied, denied = _whole_service_denials(policies)
    if everything_denied:
        return set()
    found: set[str] = set()
    for policy in policies:
        for statement in policy.statements:
            if statement.effect != "Allow" or statement.actions is None:
                continue
            for action in statement.actions:
                prefix, colon, _ = action.partition(":")
                if colon and _NAMESPACE.fullmatch(prefix):
                    found.add(prefix.lower())
    return found - denied


def services_last_accessed(
    uses: Sequence[tuple[str, datetime, str | None]],
    policies: Sequence[Policy],
    *,
    now: datetime,
) -> list[ServiceAccess]:
    """A principal's ServicesLastAccessed at ``now`` (the job's creation time).

    ``uses``: ``(service, last use, region)`` per service, newest first (as
    :meth:`~.entities.IAMStore.service_activity` returns them); ``policies``:
    the principal's identity policies. Uses more than :data:`TRACKING_PERIOD`
    before ``now`` are outside IAM's tracking period: such a service is
    listed as not used when the policies allow it, else not at all. A
    service used within the period is listed even when the policies no
    longer allow it (IAM would leave it out).
    """
    tracked = [(service, at, region) for service, at, region in uses
               if now - at <= TRACKING_PERIOD]
    used = {service for service, _at, _region in tracked}
    return [
        ServiceAccess(namespace=service, last_authenticated=at, region=region)
        for service, at, region in tracked
    ] + [ServiceAccess(namespace=service) for service in sorted(policy_services(policies) - used)]
