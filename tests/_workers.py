"""A real ``uvicorn --workers N`` subprocess serving examples/echo_service.py.

The app is ``examples.echo_service:app`` wrapped by tests/_echo_workers_app.py,
which only adds ``x-worker-pid`` to every response (errors included).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


@contextlib.contextmanager
def echo_workers(env: dict[str, str], *, workers: int = 2,
                 app: str = "tests._echo_workers_app:app") -> Iterator[str]:
    """Start the echo service (or ``app``) with ``workers`` processes; yields its base URL."""
    port = free_port()
    full_env = {**os.environ, **env}
    # stderr goes to a file, not a pipe: the workers log every refusal at
    # WARNING, and a pipe nobody reads fills up and blocks them mid-request.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                app,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    err = log.read().decode(errors="replace")
                    raise RuntimeError(f"uvicorn exited with {proc.returncode}: {err[-2000:]}")
                try:
                    # Any HTTP answer (403 for an unsigned request) means a worker is up.
                    httpx.get(base + "/", timeout=1.0)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("uvicorn did not start") from None
                    time.sleep(0.1)
            yield base
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def run_forking(argv: list[str], *, timeout: float = 60) -> tuple[int, str, str]:
    """Run a script that forks; ``(exit code, stdout, stderr)``.

    The script gets a session of its own, so a child it forked that hangs is
    killed with it; a timeout fails the test.
    """
    import pytest

    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            pytest.fail(f"hung for {timeout:g} s: {out}{err}")
    return proc.returncode, out, err
