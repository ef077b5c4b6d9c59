"""Principals shared by the policy evaluation tests."""

from __future__ import annotations

from sigv4kit.middleware.iam.policy import Principal, PrincipalType

ACCOUNT, OTHER = "111122223333", "444455556666"
ALICE = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/alice", account=ACCOUNT,
                  type=PrincipalType.USER)
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/Reader"
SESSION = Principal(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/Reader/s1", account=ACCOUNT,
                    type=PrincipalType.ASSUMED_ROLE, role_arn=ROLE_ARN)
