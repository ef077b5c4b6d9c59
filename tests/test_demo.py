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
    assert out.rstrip().endswith("Demo complete.")
