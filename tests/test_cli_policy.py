"""``sigv4kit policy simulate``, in-process and as a real program.

Expected outputs come from the AWS CLI reference's own example for
``aws iam simulate-custom-policy`` (awscli/examples/iam/simulate-custom-policy.rst)
and from the options' documented behaviour; exit codes from ``sigv4kit.cli.ExitCode``.
"""

from __future__ import annotations

import json
from pathlib import Path

from _cli_util import run_cli, run_program
from _policy_util import policy_text

from sigv4kit.cli import ExitCode

DOC_POLICY = (
    '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*",'
    '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}'
)
DOC_CONTEXT = (
    "ContextKeyName='aws:CurrentTime',ContextKeyValues='2019-04-25T11:00:00Z',ContextKeyType=date"
)
ALLOW_GET = policy_text("Allow", Sid="Read", Action="s3:GetObject")
DENY_PUT = policy_text("Deny", Sid="NoPut", Action="s3:PutObject")

DOC_OUTPUT = {
    "EvaluationResults": [
        {
            "EvalActionName": "dynamodb:CreateBackup",
            "EvalResourceName": "*",
            "EvalDecision": "allowed",
            "MatchedStatements": [
                {
                    "SourcePolicyId": "PolicyInputList.1",
                    "SourcePolicyType": "IAM Policy",
                    "StartPosition": {"Line": 1, "Column": 38},
                    "EndPosition": {"Line": 1, "Column": 167},
                }
            ],
            "MissingContextValues": [],
        }
    ]
}


def simulate(*args: str):  # type: ignore[no-untyped-def]
    return run_cli("policy", "simulate", *args)


def doc_example(context: str = DOC_CONTEXT) -> tuple[str, ...]:
    """The AWS CLI reference's simulate-custom-policy example, as arguments."""
    return (
        "policy",
        "simulate",
        "--policy-input-list",
        DOC_POLICY,
        "--action-names",
        "dynamodb:CreateBackup",
        "--context-entries",
        context,
    )


def test_documented_example_in_process() -> None:
    result = run_cli(*doc_example())
    assert result.code == ExitCode.OK, result.err
    assert json.loads(result.out) == DOC_OUTPUT


def test_documented_example_as_a_program() -> None:
    result = run_program(*doc_example(), "--output", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == DOC_OUTPUT
    denied = run_program(*doc_example(DOC_CONTEXT.replace("2019-04-25", "2014-04-25")))
    assert denied.code == 0, denied.err
    assert json.loads(denied.out)["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"


def test_readme_shows_the_command() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "sigv4kit policy simulate --policy-input-list" in readme


def test_lists_repeat_and_extend(tmp_path: Path) -> None:
    path = tmp_path / "deny.json"
    path.write_text(DENY_PUT, encoding="utf-8")
    result = simulate(
        "--policy-input-list",
        ALLOW_GET,
        "--policy-input-list",
        f"file://{path}",
        "--action-names",
        "s3:GetObject",
        "--action-names",
        "s3:PutObject",
        "s3:DeleteObject",
        "--resource-arns",
        "arn:aws:s3:::b/1",
        "arn:aws:s3:::b/2",
    )
    assert result.code == ExitCode.OK, result.err
    rows = json.loads(result.out)["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"]) for r in rows] == [
        ("s3:GetObject", "arn:aws:s3:::b/1", "allowed"),
        ("s3:GetObject", "arn:aws:s3:::b/2", "allowed"),
        ("s3:PutObject", "arn:aws:s3:::b/1", "explicitDeny"),
        ("s3:PutObject", "arn:aws:s3:::b/2", "explicitDeny"),
        ("s3:DeleteObject", "arn:aws:s3:::b/1", "implicitDeny"),
        ("s3:DeleteObject", "arn:aws:s3:::b/2", "implicitDeny"),
    ]
    assert rows[2]["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.2"


def test_boundary_resource_policy_owner_and_caller() -> None:
    bucket = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
                    "Action": "s3:ListBucket",
                    "Resource": "arn:aws:s3:::b",
                }
            ],
        }
    )
    boundary = policy_text("Allow", Action="ec2:*")
    result = simulate(
        "--policy-input-list",
        ALLOW_GET,
        "--permissions-boundary-policy-input-list",
        boundary,
        "--resource-policy",
        bucket,
        "--caller-arn",
        "arn:aws:iam::111122223333:user/alice",
        "--action-names",
        "s3:GetObject",
        "s3:ListBucket",
        "--resource-arns",
        "arn:aws:s3:::b",
    )
    assert result.code == ExitCode.OK, result.err
    decisions = [r["EvalDecision"] for r in json.loads(result.out)["EvaluationResults"]]
    # the boundary stops the identity policy; a same-account resource policy naming the
    # user is not limited by it (reference_policies_evaluation-logic_policy-eval-denyallow.html)
    assert decisions == ["implicitDeny", "allowed"]
    across = simulate(
        "--policy-input-list",
        ALLOW_GET,
        "--resource-policy",
        bucket,
        "--caller-arn",
        "arn:aws:iam::111122223333:user/alice",
        "--resource-owner",
        "arn:aws:iam::444455556666:root",
        "--action-names",
        "s3:ListBucket",
        "--resource-arns",
        "arn:aws:s3:::b",
    )
    assert json.loads(across.out)["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"


def test_table_output() -> None:
    result = simulate(
        "--policy-input-list",
        ALLOW_GET,
        DENY_PUT,
        "--action-names",
        "s3:GetObject",
        "s3:PutObject",
        "--output",
        "table",
    )
    assert result.code == ExitCode.OK, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == [
        "ACTION",
        "RESOURCE",
        "DECISION",
        "MATCHED",
        "STATEMENTS",
        "MISSING",
        "CONTEXT",
        "KEYS",
    ]
    assert lines[1].split()[:4] == ["s3:GetObject", "*", "allowed", "PolicyInputList.1/Read"]
    assert lines[2].split()[:4] == ["s3:PutObject", "*", "explicitDeny", "PolicyInputList.2/NoPut"]
    assert "(line 1-1)" in lines[1]


def test_missing_context_in_table() -> None:
    needs_ip = policy_text(
        "Allow", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, Action="s3:*"
    )
    result = simulate(
        "--policy-input-list", needs_ip, "--action-names", "s3:GetObject", "--output", "table"
    )
    assert result.out.splitlines()[1].split() == [
        "s3:GetObject",
        "*",
        "implicitDeny",
        "-",
        "aws:SourceIp",
    ]


def test_context_entries_and_policies_from_files(tmp_path: Path) -> None:
    context = tmp_path / "context.json"
    context.write_text(
        json.dumps(
            [
                {
                    "ContextKeyName": "aws:CurrentTime",
                    "ContextKeyValues": ["2019-04-25T11:00:00Z"],
                    "ContextKeyType": "date",
                }
            ]
        ),
        encoding="utf-8",
    )
    policy = tmp_path / "policy.json"
    policy.write_bytes(DOC_POLICY.encode())
    result = simulate(
        "--policy-input-list",
        f"fileb://{policy}",
        "--action-names",
        "dynamodb:CreateBackup",
        "--context-entries",
        f"file://{context}",
    )
    assert result.code == ExitCode.OK, result.err
    assert json.loads(result.out) == DOC_OUTPUT


def test_unreadable_policy_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    result = simulate("--policy-input-list", f"file://{missing}", "--action-names", "s3:GetObject")
    assert result.code == ExitCode.BAD_INPUT
    assert result.err == f"error: cannot read {missing}: No such file or directory\n"
    assert result.out == ""


def test_malformed_policy_names_input_and_iam_message() -> None:
    result = simulate(
        "--policy-input-list", ALLOW_GET, '{"Statement": [', "--action-names", "s3:GetObject"
    )
    assert result.code == ExitCode.BAD_INPUT
    assert (
        result.err
        == "error: PolicyInputList.2: MalformedPolicyDocument: Syntax errors in policy.\n"
    )
    bad_resource = simulate(
        "--policy-input-list",
        ALLOW_GET,
        "--resource-policy",
        ALLOW_GET,
        "--caller-arn",
        "arn:aws:iam::111122223333:user/a",
        "--action-names",
        "s3:GetObject",
    )
    assert bad_resource.code == ExitCode.BAD_INPUT
    assert bad_resource.err.startswith("error: ResourcePolicy: MalformedPolicyDocument: ")


def test_bad_context_entry() -> None:
    result = simulate(
        "--policy-input-list",
        ALLOW_GET,
        "--action-names",
        "s3:GetObject",
        "--context-entries",
        "ContextKeyName=n,ContextKeyValues=ten,ContextKeyType=numeric",
    )
    assert result.code == ExitCode.BAD_INPUT
    assert result.err == "error: bad context entry: context entry 1 (n): 'ten' is not a number\n"


def test_invalid_input() -> None:
    result = simulate("--policy-input-list", ALLOW_GET, "--action-names", "s3:*")
    assert result.code == ExitCode.BAD_INPUT
    assert result.err == "error: InvalidInput: Action name 's3:*' cannot contain wildcards.\n"


def test_usage_errors() -> None:
    no_actions = simulate("--policy-input-list", ALLOW_GET)
    assert no_actions.code == ExitCode.USAGE
    assert "--action-names" in no_actions.err
    bad_output = simulate(
        "--policy-input-list", ALLOW_GET, "--action-names", "s3:GetObject", "--output", "yaml"
    )
    assert bad_output.code == ExitCode.USAGE


def test_help_lists_the_aws_options() -> None:
    result = run_cli("policy", "simulate", "--help")
    assert result.code == 0
    for option in (
        "--policy-input-list",
        "--permissions-boundary-policy-input-list",
        "--action-names",
        "--resource-arns",
        "--resource-policy",
        "--resource-owner",
        "--caller-arn",
        "--context-entries",
        "--output",
    ):
        assert option in result.out
