"""Policy validation speed: Policy.parse of a realistic 6 KB policy vs json.loads of the same text.

The policy: a pretty-printed identity policy of about 6,000 characters without
whitespace, just under the managed-policy quota of 6,144, with statements in
the shapes real policies use: service wildcards, several ARNs per statement,
policy variables in resources, String/Ip/Bool/Date conditions, a Deny with
NotAction. Times are the median of several rounds, measured in this run;
json.loads of the same text is the baseline (the part any validator pays).
Target: validation under 1 ms. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_policy_parse.py
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

from sigv4kit.middleware.iam.policy import Policy, lint

N = 2_000
ROUNDS = 7
ACCOUNT = "123456789012"


def _size(statements: list[dict[str, object]]) -> int:
    # IAM's quota counts characters without whitespace (reference_iam-quotas.md).
    return len(
        json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))
    )


def realistic_policy(target: int = 6_000) -> str:
    statements: list[dict[str, object]] = [
        {
            "Sid": "DenyWithoutMfa",
            "Effect": "Deny",
            "NotAction": ["iam:ChangePassword", "iam:GetUser", "sts:GetSessionToken"],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    ]
    services = ["s3", "dynamodb", "sqs", "sns", "lambda", "logs", "kms", "ec2", "ecr", "ssm"]
    i = 0
    while _size(statements) < target:
        service = services[i % len(services)]
        # S3 ARNs carry no region or account (IAM refuses them otherwise).
        scope = "::" if service == "s3" else f"us-east-1:{ACCOUNT}"
        statements.append(
            {
                "Sid": f"Allow{service.capitalize()}{i}",
                "Effect": "Allow",
                "Action": [f"{service}:Get*", f"{service}:List*", f"{service}:Describe*"],
                "Resource": [
                    f"arn:aws:{service}:{scope}:team-{i}/${{aws:PrincipalTag/team}}/*",
                    f"arn:aws:{service}:{scope}:shared/{i}/*",
                ],
                "Condition": {
                    "StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]},
                    "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]},
                    "DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"},
                },
            }
        )
        i += 1
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=4)


def per_call_ms(fn: Callable[[], object]) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(N):
            fn()
        samples.append((time.perf_counter() - start) / N * 1e3)
    return statistics.median(samples)


def main() -> None:
    text = realistic_policy()
    policy = Policy.parse(text)
    size = len(text.translate(str.maketrans("", "", " \t\n\r")))
    print(
        f"policy: {len(text)} characters ({size} without whitespace), "
        f"{len(policy.statements)} statements"
    )
    baseline = per_call_ms(lambda: json.loads(text))
    parse = per_call_ms(lambda: Policy.parse(text))
    checks = per_call_ms(lambda: lint(policy))
    print(f"json.loads (baseline)     {baseline:8.3f} ms")
    print(
        f"Policy.parse (validate)   {parse:8.3f} ms   {parse / baseline:5.1f}x json.loads   "
        f"target < 1 ms: {'met' if parse < 1 else 'NOT met'}"
    )
    print(f"lint (on the parsed policy) {checks:6.3f} ms")


if __name__ == "__main__":
    main()
