"""``sigv4kit iam report``: the access report of an account (see :mod:`._access_report`).

::

    sigv4kit iam report --store sqlite:///iam.db
    sigv4kit iam report --store sqlite:///iam.db --json --fail-on SECURITY_WARNING

Prints one line per finding (severity, code, resource, message) and a
summary, or one JSON object (``--json``); ``--fail-on SEVERITY`` exits 4
when there is a finding at that severity or above, for CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from sigv4kit import SigV4Error
from sigv4kit.cli import EXIT_CODES_HELP, CLIError, ExitCode, Streams

from ._access_report import (
    SEVERITY_ORDER,
    PolicySource,
    ReportFinding,
    access_findings,
    at_or_above,
)

__all__ = ["add_report_parser", "run_report"]

DESCRIPTION = """\
An Access Analyzer-style summary of an account's identities: root access keys
present or used, users without MFA, access keys older than 90 days or unused
for 90 days, roles unused for 90 days, and the policy lint's findings on every
policy (Allow "*" on "*" among them)."""

EXAMPLES = """\
examples:
  sigv4kit iam report --store sqlite:///iam.db
  sigv4kit iam report --store 'postgresql://app@db/iam' --json --fail-on SECURITY_WARNING
"""


def add_report_parser(actions: Any) -> None:
    """Register ``iam report`` under the ``iam`` group's actions."""
    p = actions.add_parser(
        "report",
        help="summarize risky credentials and policies (Access Analyzer-style)",
        description=DESCRIPTION,
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--store", required=True, metavar="URL", help="the store URL")
    p.add_argument("--account-id", metavar="ID",
                   help="12-digit account id (default: the store's only account)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--fail-on", choices=[s.value for s in SEVERITY_ORDER], metavar="SEVERITY",
                   help="exit 4 when a finding is this severe or more "
                        "(ERROR, SECURITY_WARNING, WARNING, SUGGESTION)")
    p.set_defaults(run=run_report)


async def _policies(iam: Any, account: str) -> list[PolicySource]:
    out: list[PolicySource] = []
    marker = None
    while True:
        page = await iam.get_account_authorization_details(account, marker=marker,
                                                           max_items=1000)
        for kind, details, entity in (("user", page.user_detail_list, "user"),
                                      ("group", page.group_detail_list, "group"),
                                      ("role", page.role_detail_list, "role")):
            for detail in details:
                inline = getattr(detail, f"{kind}_policy_list")
                name = getattr(getattr(detail, entity), f"{entity}_name")
                out += [PolicySource(name=f"{kind}/{name}:{p.policy_name}",
                                     document=p.policy_document) for p in inline]
        for managed in page.policies:
            out += [PolicySource(name=managed.policy.arn, document=v.document)
                    for v in managed.policy_version_list if v.is_default_version]
        if not page.is_truncated:
            return out
        marker = page.marker


async def _only_account(iam: Any) -> str:
    accounts = await iam.list_accounts()
    if len(accounts) != 1:
        found = ", ".join(a.account_id for a in accounts) or "none"
        raise CLIError(f"the store holds {len(accounts)} accounts ({found}): pass --account-id",
                       ExitCode.USAGE)
    return str(accounts[0].account_id)


async def _collect(args: argparse.Namespace) -> tuple[str, list[ReportFinding]]:
    from .. import open_store
    from ..store import SQLKeyStore
    from .entities import IAMStore

    store = open_store(args.store, create=False)
    if not isinstance(store, SQLKeyStore):
        await store.aclose()
        raise CLIError(f"{args.store} is not an SQL store (sqlite:/// or postgresql://)")
    try:
        iam = IAMStore(store)
        account = args.account_id or await _only_account(iam)
        await iam.get_account(account)  # NoSuchEntity for an unknown one
        principals = await iam.principal_activity(account)
        policies = await _policies(iam, account)
        return account, access_findings(account, principals, policies, now=datetime.now(UTC))
    finally:
        await store.aclose()


def run_report(args: argparse.Namespace, streams: Streams) -> ExitCode:
    try:
        account, findings = asyncio.run(_collect(args))
    except CLIError:
        raise
    except SigV4Error as exc:
        code = getattr(exc, "code", None)
        raise CLIError(f"{code}: {exc}" if code else str(exc)) from None
    counts = {s.value: sum(1 for f in findings if f.severity is s) for s in SEVERITY_ORDER}
    if args.json:
        streams.stdout.write(json.dumps({"accountId": account, "summary": counts,
                                         "findings": [f.to_json() for f in findings]}) + "\n")
    else:
        for f in findings:
            streams.stdout.write(f"{f.severity.value:16s} {f.code:36s} {f.resource}: "
                                 f"{f.message}\n")
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        streams.stdout.write(f"account {account}: {len(findings)} findings ({summary})\n")
    if args.fail_on is not None:
        failing = at_or_above(findings, next(s for s in SEVERITY_ORDER if s.value == args.fail_on))
        if failing:
            return ExitCode.AWS_ERROR
    return ExitCode.OK
