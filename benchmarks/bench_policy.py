"""Authorization speed: one policy decision vs the verifier's signature check, same run.

A principal with 10 attached policies of 10 statements each (several services, wildcards in actions
and resources, two conditions per statement, a couple of Deny statements) is evaluated for a
realistic request (s3:GetObject on an object, with the global condition keys a middleware fills in).
The baseline is ``Verifier.verify_at`` on bench_verify.py's botocore-signed GET with the key already
in hand. The issue's target: the decision at least 5x faster than the signature check.
Policies are parsed once, outside the timing ("parse once, evaluate many"). Prints; asserts nothing.

    .venv/bin/python benchmarks/bench_policy.py
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from collections.abc import Callable

from bench_verify import signed_request, verify_call  # the same signed GET, the same call
from sigv4kit.middleware.iam.policy import (
    AuthorizationRequest,
    Policy,
    Principal,
    PrincipalType,
    evaluate,
)

ACCOUNT = "111122223333"
N = 20_000
ROUNDS = 9

SERVICES = [
    ("s3", ["Get*", "List*", "PutObject", "DeleteObject", "GetObjectVersion"],
     "arn:aws:s3:::{team}-bucket-{i}/*"),
    ("dynamodb", ["GetItem", "Query", "Scan", "BatchGet*", "Describe*"],
     "arn:aws:dynamodb:us-east-1:" + ACCOUNT + ":table/{team}-table-{i}*"),
    ("sqs", ["SendMessage", "ReceiveMessage", "Get*", "DeleteMessage", "ChangeMessageVisibility"],
     "arn:aws:sqs:us-east-1:" + ACCOUNT + ":{team}-queue-{i}"),
    ("ec2", ["Describe*", "StartInstances", "StopInstances", "RebootInstances", "CreateTags"],
     "arn:aws:ec2:*:" + ACCOUNT + ":instance/*"),
    ("kms", ["Decrypt", "Encrypt", "GenerateDataKey*", "DescribeKey", "ReEncrypt*"],
     "arn:aws:kms:us-east-1:" + ACCOUNT + ":key/{i}*"),
]
CONDITIONS = [
    {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.0/24"]},
     "StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
    {"Bool": {"aws:SecureTransport": "true"},
     "StringLike": {"aws:PrincipalTag/team": ["{team}*"]}},
    {"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"},
     "NumericLessThanEquals": {"aws:MultiFactorAuthAge": "3600"}},
    {"StringEqualsIgnoreCase": {"aws:PrincipalTag/department": "Finance"},
     "BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
]
TEAMS = ["reports", "billing", "ops", "data", "web", "ml", "audit", "infra", "mobile", "search"]


def statement(p: int, s: int) -> dict[str, object]:
    service, actions, resource = SERVICES[(p + s) % len(SERVICES)]
    team, i = TEAMS[(p * 3 + s) % len(TEAMS)], s
    condition = json.loads(json.dumps(CONDITIONS[(p + 2 * s) % len(CONDITIONS)])
                           .replace("{team}", team))
    return {
        "Sid": f"P{p}S{s}",
        "Effect": "Deny" if s == 9 and p % 3 == 0 else "Allow",
        "Action": [f"{service}:{action}" for action in actions[s % 2::2]],
        "Resource": [resource.format(team=team, i=i), resource.format(team=team, i=i + 10)],
        "Condition": condition,
    }


def policies() -> list[Policy]:
    documents = [{"Version": "2012-10-17", "Statement": [statement(p, s) for s in range(10)]}
                 for p in range(10)]
    return [Policy.parse(json.dumps(document), policy_id=f"arn:aws:iam::{ACCOUNT}:policy/p{p}")
            for p, document in enumerate(documents)]


def request() -> AuthorizationRequest:
    principal = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/alice", account=ACCOUNT,
                          type=PrincipalType.USER)
    context: dict[str, str | list[str]] = {
        "aws:SourceIp": "203.0.113.7",
        "aws:RequestedRegion": "us-east-1",
        "aws:SecureTransport": "true",
        "aws:CurrentTime": "2026-11-27T12:00:00Z",
        "aws:EpochTime": "1795780800",
        "aws:PrincipalTag/team": "reports",
        "aws:PrincipalTag/department": "finance",
        "aws:username": "alice",
        "aws:userid": "AIDAEXAMPLE",
        "aws:PrincipalArn": principal.arn,
        "aws:PrincipalAccount": ACCOUNT,
        "aws:PrincipalType": "User",
        "aws:MultiFactorAuthAge": "120",
    }
    return AuthorizationRequest(principal=principal, action="s3:GetObject",
                                resource="arn:aws:s3:::reports-bucket-0/2026/q3/summary.csv",
                                context=context)


def per_call_us(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def evaluate_call() -> tuple[Callable[[], object], str]:
    attached, asked = tuple(policies()), request()  # held as a tuple, as a server caches them
    decision = evaluate(asked, identity_policies=attached)
    assert decision.allowed, decision
    summary = f"{decision.effect}, {len(decision.matched)} matched statement(s)"
    return (lambda: evaluate(asked, identity_policies=attached)), summary


def main() -> None:
    gc.disable()
    verify = verify_call(signed_request())
    decide, summary = evaluate_call()
    # Alternate the two in every round, so a busy machine slows both alike.
    rounds = [(per_call_us(verify, N // 4), per_call_us(decide, N)) for _ in range(ROUNDS)]
    verify_us = statistics.median(v for v, _ in rounds)
    decide_us = statistics.median(d for _, d in rounds)
    ratio = statistics.median(v / d for v, d in rounds)
    print(f"Verifier.verify_at, signed GET (key cached)          {verify_us:8.2f} us/request")
    print(f"evaluate, 10 policies x 10 statements, 2 conditions  {decide_us:8.2f} us/decision"
          f"  ({summary})")
    print(f"policy decision is {ratio:4.1f}x faster than the signature check (median of"
          f" {ROUNDS} interleaved rounds; target >= 5x)")


if __name__ == "__main__":
    main()
