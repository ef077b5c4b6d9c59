"""IAM handlers: the credential report and the service last accessed details.

``GenerateCredentialReport`` builds the report at once (it is one read) and
keeps it, per account, in this process; like IAM it answers ``STARTED`` when
it makes a new one and ``COMPLETE`` while the last one is under four hours
old, so a client polling until ``COMPLETE`` works unchanged.
``GetCredentialReport`` returns it (``ReportNotPresent`` when none was
generated, ``ReportExpired`` after four hours). With several server
processes, each keeps its own report: generate and get on one connection, or
run one worker.

``GenerateServiceLastAccessedDetails`` (a user's or role's ARN, service
level) runs at once and keeps the job in this process for four hours;
``GetServiceLastAccessedDetails`` answers it ``COMPLETED`` with
:func:`~.._access_report.services_last_accessed` at the job's creation time:

* one entry per service the principal used within IAM's tracking period
  (400 days; any of its keys, its sessions' keys for a role, deleted keys
  too: the store keeps the last use per principal and service), newest
  first, with ``LastAuthenticated``, the region, the principal's ARN and
  ``TotalAuthenticatedEntities`` 1;
* then, by namespace, each service its identity policies allow that it did
  not use in that period, with only ``ServiceName`` and ``ServiceNamespace``
  (IAM leaves the other members null). Allowed: an ``Allow`` statement's
  ``Action`` names it, and no unconditional ``Deny`` of the whole service
  (``"svc:*"`` or ``"*"`` on ``"*"``). Not expanded: ``"*"``, ``"*:..."``
  and ``NotAction`` (IAM would list every service; we have no list of every
  AWS service). Permissions boundaries remove nothing: IAM's last accessed
  data "only applies permissions policy logic".

Unlike IAM, a service the principal used within the period is listed even
when its policies no longer allow it.
"""

from __future__ import annotations

import functools
import uuid
import weakref
from datetime import datetime, timedelta
from typing import Any

from .._access_report import ServiceAccess, services_last_accessed
from ..entities import NoSuchEntity
from ..policy import Policy
from ._credential_report import credential_report_csv
from ._handlers_common import IAMCall, ctx
from ._shapes import QueryError

__all__ = ["HANDLERS", "REPORT_LIFETIME"]

#: IAM: "If the report is older than four hours, IAM generates a new one".
REPORT_LIFETIME = timedelta(hours=4)

_REPORTS: weakref.WeakKeyDictionary[Any, dict[str, tuple[datetime, bytes]]] = (
    weakref.WeakKeyDictionary()
)


async def generate_credential_report(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    reports = _REPORTS.setdefault(iam, {})
    now = iam._now()
    kept = reports.get(account)
    if kept is not None and now - kept[0] < REPORT_LIFETIME:
        return {"State": "COMPLETE"}
    principals = await iam.principal_activity(account)
    created = await iam.account_created_at(account)
    reports[account] = (now, credential_report_csv(account, created, principals).encode())
    return {"State": "STARTED",
            "Description": "No report exists. Starting a new report generation task"}


async def get_credential_report(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    kept = _REPORTS.get(iam, {}).get(account)
    if kept is None:
        raise QueryError(
            "ReportNotPresent",
            "Credential report was not generated. Call GenerateCredentialReport first.",
            status=410,
        )
    generated, content = kept
    if iam._now() - generated >= REPORT_LIFETIME:
        raise QueryError("ReportExpired", "Credential report has expired. "
                         "Call GenerateCredentialReport to generate a new one.", status=410)
    return {"Content": content, "ReportFormat": "text/csv", "GeneratedTime": generated}


_JOBS: weakref.WeakKeyDictionary[Any, dict[str, dict[str, Any]]] = weakref.WeakKeyDictionary()
_PRINCIPAL_ARN = ("user", "role")


@functools.cache
def _service_name(namespace: str) -> str:
    """The service's full name from botocore's models (``Amazon Simple Storage Service``)."""
    import botocore.session

    session = botocore.session.get_session()
    try:
        model = session.get_service_model(namespace)
    except Exception:  # no botocore model under this name: the namespace it is
        return namespace
    return str(model.metadata.get("serviceFullName", namespace))


async def _identity_policies(iam: Any, account: str, kind: str, name: str) -> tuple[Policy, ...]:
    entity = await (iam.get_user if kind == "user" else iam.get_role)(account, name)
    unique_id = entity.user_id if kind == "user" else entity.role_id
    snapshot = await iam.load_authorization(principal_id=unique_id)
    return snapshot.policies if snapshot is not None else ()


async def generate_service_last_accessed_details(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    arn = str(call.params["Arn"])
    granularity = call.params.get("Granularity", "SERVICE_LEVEL")
    prefix = f"arn:aws:iam::{account}:"
    resource = arn[len(prefix):] if arn.startswith(prefix) else ""
    kind, _, rest = resource.partition("/")
    if kind not in _PRINCIPAL_ARN or not rest or granularity != "SERVICE_LEVEL":
        raise QueryError("InvalidInput", f"ARN {arn} is not a user or role of this account, "
                         "or the granularity is not SERVICE_LEVEL.")
    name = rest.rsplit("/", 1)[-1]
    started = iam._now()
    services = await iam.service_activity(account, kind, name)
    if services is None:
        raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
    policies = await _identity_policies(iam, account, kind, name)
    job_id = str(uuid.uuid4())
    jobs = _JOBS.setdefault(iam, {})
    jobs[job_id] = {
        "account": account,
        "JobStatus": "COMPLETED",
        "JobType": "SERVICE_LEVEL",
        "JobCreationDate": started,
        "JobCompletionDate": iam._now(),
        "ServicesLastAccessed": [
            _entry(access, arn)
            for access in services_last_accessed(services, policies, now=started)
        ],
        "IsTruncated": False,
    }
    return {"JobId": job_id}


def _entry(access: ServiceAccess, arn: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"ServiceName": _service_name(access.namespace),
                             "ServiceNamespace": access.namespace}
    if access.last_authenticated is None:
        return entry  # never used (tracked): IAM leaves the other members null
    entry |= {"LastAuthenticated": access.last_authenticated, "LastAuthenticatedEntity": arn,
              "TotalAuthenticatedEntities": 1}
    if access.region:
        entry["LastAuthenticatedRegion"] = access.region
    return entry


async def get_service_last_accessed_details(call: IAMCall) -> dict[str, Any]:
    iam, account = ctx(call)
    job_id = str(call.params["JobId"])
    job = _JOBS.get(iam, {}).get(job_id)
    if job is None or job["account"] != account or (
        iam._now() - job["JobCreationDate"] >= REPORT_LIFETIME
    ):
        raise NoSuchEntity(f"The job with id {job_id} cannot be found.")
    return {key: value for key, value in job.items() if key != "account"}


HANDLERS = {
    "GenerateServiceLastAccessedDetails": generate_service_last_accessed_details,
    "GetServiceLastAccessedDetails": get_service_last_accessed_details,
    "GenerateCredentialReport": generate_credential_report,
    "GetCredentialReport": get_credential_report,
}
