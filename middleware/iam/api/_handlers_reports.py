"""IAM handlers: the credential report and RoleLastUsed's data.

``GenerateCredentialReport`` builds the report at once (it is one read) and
keeps it, per account, in this process; like IAM it answers ``STARTED`` when
it makes a new one and ``COMPLETE`` while the last one is under four hours
old, so a client polling until ``COMPLETE`` works unchanged.
``GetCredentialReport`` returns it (``ReportNotPresent`` when none was
generated, ``ReportExpired`` after four hours). With several server
processes, each keeps its own report: generate and get on one connection, or
run one worker.
"""

from __future__ import annotations

import weakref
from datetime import datetime, timedelta
from typing import Any

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


HANDLERS = {
    "GenerateCredentialReport": generate_credential_report,
    "GetCredentialReport": get_credential_report,
}
