"""``sigv4kit policy``: check IAM policy documents from the command line.

``sigv4kit policy validate FILE|-`` prints ``OK`` (exit 0) or the error IAM
would answer, ``MalformedPolicyDocument: <message>`` (exit 1); ``--lint``
adds the Access Analyzer-style findings, ``--json`` prints one JSON object.
The group joins the ``sigv4kit`` command through the ``sigv4kit.commands`` entry point
``policy`` (:mod:`sigv4kit.cli._hook`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass

from sigv4kit.cli import EXIT_CODES_HELP, ExitCode, Streams, read_input

from ..iam.policy import Finding, MalformedPolicyDocument, Policy, PolicyType, lint
from . import _policy_simulate

__all__ = ["COMMAND", "HELP", "PolicyCommand", "finding_json", "run_validate"]

#: The line ``sigv4kit --help`` shows (read from this file without importing it).
HELP = "work with IAM policy documents"

DESCRIPTION = """\
Work with IAM JSON policy documents: identity, resource-based, trust,
permissions boundary, session and service control policies."""

VALIDATE_DESCRIPTION = """\
Validate a policy document the way IAM does: print OK, or the first problem in
IAM's check order with IAM's own message (MalformedPolicyDocument: ...).
--lint adds non-fatal findings in the spirit of IAM Access Analyzer."""

EXAMPLES = """\
examples:
  sigv4kit policy validate policy.json
  sigv4kit policy validate --type trust --lint trust.json
  cat bucket-policy.json | sigv4kit policy validate --type resource --json -
"""


def _add_arguments(group: argparse.ArgumentParser) -> None:
    group.description = DESCRIPTION
    group.epilog = EXAMPLES + "\n" + EXIT_CODES_HELP
    actions = group.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    p = actions.add_parser(
        "validate",
        help="validate a policy document (IAM's messages and check order)",
        description=VALIDATE_DESCRIPTION,
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="policy document file, or - for stdin")
    p.add_argument(
        "--type",
        dest="policy_type",
        choices=[t.value for t in PolicyType],
        default=PolicyType.IDENTITY.value,
        help="policy type (default: identity)",
    )
    p.add_argument("--lint", action="store_true", help="also print non-fatal findings")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(policy_action=run_validate)
    _policy_simulate.add_parser(actions)


def finding_json(finding: Finding) -> dict[str, object]:
    """A finding in the shape of Access Analyzer's ValidatePolicyFinding."""
    return {
        "findingType": finding.severity.value,
        "issueCode": finding.code,
        "findingDetails": finding.message,
        "statementIndex": finding.statement_index,
        "sid": finding.sid,
        "position": None
        if finding.position is None
        else {"line": finding.position.line, "column": finding.position.column},
    }


def _finding_line(finding: Finding) -> str:
    where = "document"
    if finding.position is not None:
        sid = f" (Sid {finding.sid})" if finding.sid else ""
        where = (
            f"statement {finding.statement_index}{sid} at line {finding.position.line}, "
            f"column {finding.position.column}"
        )
    return f"{finding.severity.value} {finding.code}: {where}: {finding.message}"


def run_validate(args: argparse.Namespace, streams: Streams) -> ExitCode:
    """Validate one document; exit 0 when IAM would accept it, 1 when not."""
    text = read_input(args.file, streams)
    policy_type = PolicyType(args.policy_type)
    out: dict[str, object] = {"policyType": policy_type.value}
    try:
        policy = Policy.parse(text, policy_type=policy_type)
    except MalformedPolicyDocument as exc:
        if args.json:
            out |= {"valid": False, "error": {"code": exc.code, "message": exc.message}}
            streams.stdout.write(json.dumps(out, indent=2) + "\n")
        else:
            streams.stdout.write(f"{exc.code}: {exc.message}\n")
        return ExitCode.ERROR
    findings = lint(policy) if args.lint else ()
    if args.json:
        out |= {"valid": True, "statements": len(policy.statements)}
        if args.lint:
            out["findings"] = [finding_json(f) for f in findings]
        streams.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        streams.stdout.write("OK\n")
        for finding in findings:
            streams.stdout.write(_finding_line(finding) + "\n")
    return ExitCode.OK


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyCommand:
    """The ``policy`` command group (a :class:`sigv4kit.cli.Command`)."""

    name: str = "policy"
    help: str = HELP

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add one sub-parser per action."""
        _add_arguments(parser)

    def run(self, args: argparse.Namespace, streams: Streams) -> int:
        """Dispatch to the chosen action."""
        action: Callable[[argparse.Namespace, Streams], ExitCode] = args.policy_action
        return int(action(args, streams))


#: The object the ``sigv4kit.commands`` entry point ``policy`` names.
COMMAND = PolicyCommand()
