"""``sigv4kit policy simulate``: ``aws iam simulate-custom-policy``, offline.

Takes the AWS CLI command's options and prints its JSON output
(``{"EvaluationResults": [...]}``) or a table. Registered into the ``policy``
command group by :mod:`.policy`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sigv4kit.cli import EXIT_CODES_HELP, CLIError, ExitCode, Streams

from ..iam.policy import (
    ContextEntryError,
    EvaluationResult,
    InvalidInput,
    MalformedPolicyDocument,
    Policy,
    PolicyType,
    parse_context_entries,
    simulate,
)
from ..iam.policy._simulate import BOUNDARY_INPUT_LIST, POLICY_INPUT_LIST, RESOURCE_POLICY_ID

__all__ = ["add_parser", "run"]

DESCRIPTION = """\
Simulate IAM policies the way `aws iam simulate-custom-policy` does, without
AWS: every action in --action-names is evaluated on every resource in
--resource-arns (default "*") under the identity policies of
--policy-input-list, the optional permissions boundary, and the optional
resource policy (which needs --caller-arn, as in IAM).

Policies are JSON text or file://PATH. Context entries use the AWS CLI's
shorthand or JSON (inline or file://PATH), one entry per word:
  ContextKeyName=aws:SourceIp,ContextKeyValues=203.0.113.7,ContextKeyType=ip
  ContextKeyName=aws:TagKeys,ContextKeyValues=a,b,ContextKeyType=stringList
ContextKeyType is string|stringList|numeric|numericList|boolean|booleanList|
ip|ipList|binary|binaryList|date|dateList; list types are multivalued keys.

--output json (the default, as the AWS CLI) prints {"EvaluationResults": [...]}
in IAM's shape; --output table prints one row per action and resource.
Exit code 0 when the simulation ran, whatever it decided; 3 for unreadable or
invalid input (MalformedPolicyDocument, InvalidInput, bad context entries)."""

EXAMPLES = """\
examples:
  sigv4kit policy simulate --policy-input-list file://policy.json \\
    --action-names s3:GetObject s3:PutObject --resource-arns arn:aws:s3:::bucket/key
  sigv4kit policy simulate --policy-input-list file://dynamodb-after-2018.json \\
    --action-names dynamodb:CreateBackup --context-entries \\
    "ContextKeyName='aws:CurrentTime',ContextKeyValues='2019-04-25T11:00:00Z',ContextKeyType=date"
  sigv4kit policy simulate --policy-input-list file://role.json \\
    --resource-policy file://bucket.json --caller-arn arn:aws:iam::123456789012:user/alice \\
    --action-names s3:GetObject --resource-arns arn:aws:s3:::bucket/key --output table
"""

#: The AWS CLI's parameter-file prefixes (both read as UTF-8 text here: policies are text).
FILE_PREFIXES = ("file://", "fileb://")


def add_parser(sub: Any) -> None:
    """Register ``simulate`` in the ``policy`` group's subparsers."""
    p = sub.add_parser(
        "simulate",
        help="simulate policies like aws iam simulate-custom-policy",
        description=DESCRIPTION,
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    many: dict[str, Any] = {"nargs": "+", "action": "extend", "default": []}
    p.add_argument(
        "--policy-input-list", required=True, metavar="POLICY", help="identity policies", **many
    )
    p.add_argument(
        "--permissions-boundary-policy-input-list",
        metavar="POLICY",
        help="the permissions boundary",
        **many,
    )
    p.add_argument(
        "--action-names",
        required=True,
        metavar="ACTION",
        help="actions such as s3:GetObject",
        **many,
    )
    p.add_argument("--resource-arns", metavar="ARN", help='resources (default "*")', **many)
    p.add_argument("--resource-policy", metavar="POLICY", help="a resource-based policy")
    p.add_argument(
        "--resource-owner", metavar="ARN", help="arn:aws:iam::<account>:root owning the resources"
    )
    p.add_argument("--caller-arn", metavar="ARN", help="the IAM user or role making the calls")
    p.add_argument("--context-entries", metavar="ENTRY", help="context keys and values", **many)
    p.add_argument(
        "--output", choices=("json", "table"), default="json", help="output format (default json)"
    )
    p.set_defaults(policy_action=run)


def run(args: argparse.Namespace, streams: Streams) -> int:
    """Run the simulation and print it."""
    policies = _policies(args.policy_input_list, PolicyType.IDENTITY, POLICY_INPUT_LIST)
    boundaries = _policies(
        args.permissions_boundary_policy_input_list, PolicyType.BOUNDARY, BOUNDARY_INPUT_LIST
    )
    resource_policy = None
    if args.resource_policy is not None:
        text = _read_policy_text(args.resource_policy)
        resource_policy = _parse(text, PolicyType.RESOURCE, RESOURCE_POLICY_ID)
    words = [_read_parameter(word) for word in args.context_entries]
    try:
        entries = parse_context_entries(words) if words else ()
    except ContextEntryError as exc:
        raise CLIError(f"bad context entry: {exc}", ExitCode.BAD_INPUT) from None
    try:
        results = simulate(
            policies=policies,
            action_names=args.action_names,
            resource_arns=args.resource_arns or ("*",),
            resource_policy=resource_policy,
            resource_owner=args.resource_owner,
            caller_arn=args.caller_arn,
            context_entries=entries,
            permissions_boundary_policies=boundaries,
        )
    except InvalidInput as exc:
        raise CLIError(f"InvalidInput: {exc.message}", ExitCode.BAD_INPUT) from None
    if args.output == "table":
        streams.stdout.write(render_table(results))
    else:
        document = {"EvaluationResults": [r.to_aws() for r in results]}
        streams.stdout.write(json.dumps(document, indent=4) + "\n")
    return int(ExitCode.OK)


def _policies(values: Sequence[str], policy_type: PolicyType, prefix: str) -> list[Policy]:
    return [
        _parse(_read_policy_text(value), policy_type, f"{prefix}.{number}")
        for number, value in enumerate(values, start=1)
    ]


def _parse(text: str, policy_type: PolicyType, policy_id: str) -> Policy:
    try:
        return Policy.parse(text, policy_type=policy_type, policy_id=policy_id)
    except MalformedPolicyDocument as exc:
        raise CLIError(f"{policy_id}: {exc.code}: {exc.message}", ExitCode.BAD_INPUT) from None


def _read_policy_text(value: str) -> str:
    """A policy given inline, or as ``file://PATH`` / ``fileb://PATH`` like the AWS CLI reads."""
    return _read_parameter(value)


def _read_parameter(value: str) -> str:
    """A parameter value, or the contents of the ``file://`` / ``fileb://`` it names."""
    prefix = next((p for p in FILE_PREFIXES if value.startswith(p)), None)
    if prefix is None:
        return value
    path = Path(value[len(prefix) :]).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}", ExitCode.BAD_INPUT) from None
    except UnicodeDecodeError:
        raise CLIError(f"cannot read {path}: not UTF-8 text", ExitCode.BAD_INPUT) from None


def render_table(results: Sequence[EvaluationResult]) -> str:
    """One row per action and resource: decision, deciding statements, missing keys."""
    header = ("ACTION", "RESOURCE", "DECISION", "MATCHED STATEMENTS", "MISSING CONTEXT KEYS")
    rows = [header]
    for result in results:
        matched = ", ".join(
            f"{m.policy_id}{'/' + m.sid if m.sid else ''} (line {m.start.line}-{m.end.line})"
            for m in result.matched
        )
        rows.append(
            (
                result.action,
                result.resource,
                result.decision,
                matched or "-",
                ", ".join(result.missing_context_values) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines) + "\n"
