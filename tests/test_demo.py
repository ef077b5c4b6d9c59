"""`make demo` runs examples/demo.py: it must keep working end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_runs_end_to_end() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "identical to AWS's published signature" in out
    assert out.count(": HTTP 200") == 5  # sync GET/POST, async, presigned, aws-chunked
    assert "HTTP 403 SignatureDoesNotMatch" in out
    assert "HTTP 403 InvalidAccessKeyId" in out
    # The IAM story (examples/_iam_story.py): boto3 manages identities, the orders
    # service decides by them with AWS's messages, MFA guards a role, all audited.
    carol = "User: arn:aws:iam::000000000000:user/carol is not authorized to perform: "
    assert ("carol PUT /orders/42 -> HTTP 403 AccessDenied " + carol + "orders:PutOrder on "
            "resource: arn:aws:orders:us-east-1:000000000000:order/42 because no "
            "identity-based policy allows the orders:PutOrder action") in out
    assert "carol PUT /orders/42 -> HTTP 200 caller arn:aws:iam::000000000000:user/carol" in out
    assert ("with an explicit deny in an identity-based policy: "
            "arn:aws:iam::000000000000:user/carol#only-eu-west-1") in out
    assert "orders:GetOrder     arn:aws:orders:us-east-1:000000000000:order/42  allowed" in out
    assert "sts.assume_role without MFA -> AccessDenied: " + carol + "sts:AssumeRole" in out
    assert ("OrdersAdmin session DELETE /orders/42 -> HTTP 200 caller "
            "arn:aws:sts::000000000000:assumed-role/OrdersAdmin/carol") in out
    lookup = out.split("sigv4kit audit lookup")[1].split("sigv4kit iam report")[0]
    for name in ("GetOrder", "PutOrder", "DeleteOrder"):
        assert f"  {name}  " in lookup, lookup
    assert "USER_WITHOUT_MFA" in out
    assert "/console/ (while the demo runs) - sign in with account 000000000000, user admin" in out
    assert "ALLOW_ALL_ACTIONS_ON_ALL_RESOURCES" in out
    assert out.rstrip().endswith("Demo complete.")
