"""Helpers to drive the ``sigv4kit`` command in-process and as a subprocess."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sigv4kit.cli._main import main

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*argv: str, stdin: bytes = b"") -> Result:
    """Run ``sigv4kit`` in-process with injected streams."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return Result(code, out.getvalue(), err.getvalue())


def run_program(
    *argv: str, stdin: bytes = b"", env: dict[str, str] | None = None, cwd: Path | None = None
) -> Result:
    """Run ``python -m sigv4kit`` as a real subprocess."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "sigv4kit", *argv],
        input=stdin,
        capture_output=True,
        env=environment,
        cwd=cwd or REPO,
        timeout=60,
        check=False,
    )
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AKID = "AKIDEXAMPLE"
TEMP_AKID = "ASIAEXAMPLE"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/TOKEN+="


def key_store() -> object:
    """A memory store with one long-term and one temporary key."""
    import hashlib
    from datetime import UTC, datetime, timedelta

    from sigv4kit.middleware import MemoryKeyStore

    from sigv4kit import KeyRecord

    return MemoryKeyStore(
        [
            KeyRecord(access_key_id=AKID, secret_access_key=SECRET, principal="alice"),
            KeyRecord(
                access_key_id=TEMP_AKID,
                secret_access_key=SECRET,
                principal="bob",
                session_token_sha256=hashlib.sha256(TOKEN.encode()).hexdigest(),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            ),
        ]
    )
