"""``sigv4kit serve``: the IAM API and STS under uvicorn, behind ``SigV4Middleware``.

::

    sigv4kit serve --store sqlite:///iam.db --port 8080
    aws iam list-users --endpoint-url http://127.0.0.1:8080

One endpoint serves every registered service; a request goes to the app of
the service its signature is scoped to (``.../us-east-1/iam/aws4_request``).
The command is registered into ``sigv4kit`` through
the ``sigv4kit.commands`` entry points (``middleware/cli/``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from sigv4kit import VerifierConfig
from sigv4kit.cli import EXIT_CODES_HELP, CLIError, ExitCode, Streams

from ._serve_audit import add_audit_options, audit_log_from_args

__all__ = ["add_parser", "build_app", "run_serve"]

DESCRIPTION = """\
Serve the IAM API and STS (AWS's Query protocol, their botocore shapes) for
the identities in the store, behind SigV4 verification, so boto3's iam and
sts clients and the AWS CLI manage them and obtain temporary credentials with
--endpoint-url. Create the first administrator with 'sigv4kit iam bootstrap'."""

EXAMPLES = """\
examples:
  sigv4kit serve --store sqlite:///iam.db      # audit trail in iam.db.audit/
  sigv4kit serve --store sqlite:///iam.db --audit-dir /var/log/sigv4kit/audit \
      --audit-key /etc/sigv4kit/audit.key
  sigv4kit serve --store 'postgresql://app@db/iam' --host 0.0.0.0 --port 9000
"""


def add_parser(sub: Any) -> None:
    """Register the ``serve`` command."""
    p = sub.add_parser(
        "serve",
        help="serve the IAM API and STS over the store (uvicorn)",
        description=DESCRIPTION,
        epilog=EXAMPLES + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--store", required=True, metavar="URL", help="the store URL")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")
    p.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn's log level (default info)")
    add_audit_options(p)
    p.set_defaults(run=run_serve)


def build_app(store_url: str, *, services: Sequence[str] = ("iam", "sts"), audit: Any = None,
              console: bool = True, console_settings: Any = None) -> Any:
    """The ASGI app ``serve`` runs: ``services`` routed by signed service, verified,
    and the IAM console at ``/console`` (its own cookie sessions, not SigV4).

    The middleware opens the store and closes it at lifespan shutdown. With
    ``sts``, STS's unsigned ``AssumeRoleWithWebIdentity`` (and only it) is let
    through to STS unverified (:class:`~.sts.UnsignedSTSGate`). With
    ``audit`` (an :class:`~..audit.AuditLog`) every refused authentication
    and every call is one audit event (the services record their own calls).
    Raises :class:`CLIError` for a service no one registered.
    """
    from .. import ErrorFormat, SigV4Middleware
    from .api._router import SERVICE_APPS, ServiceRouter

    unknown = sorted(set(services) - set(SERVICE_APPS))
    if unknown:
        raise CLIError(f"no such service: {', '.join(unknown)}", ExitCode.USAGE)
    router = ServiceRouter()
    middleware = SigV4Middleware(
        router,
        store=store_url,
        config=VerifierConfig(services=frozenset(services)),
        error_format=ErrorFormat.QUERY_XML,
        audit=audit,
        audit_requests=False,
    )
    apps: dict[str, Any] = {}
    for name in services:
        app, model = SERVICE_APPS[name](middleware.store)
        router.register(name, app, model=model)
        apps[name] = app
    app = middleware
    if "sts" in apps:
        from .sts import UnsignedSTSGate

        app = UnsignedSTSGate(middleware, apps["sts"])
    if not console:
        return app
    from ..console import ConsoleApp, ConsoleMount, store_audit_sink

    store = middleware.store
    return ConsoleMount(app, ConsoleApp(store, settings=console_settings,
                                        audit=store_audit_sink(store)))


def run_serve(args: argparse.Namespace, streams: Streams) -> ExitCode:
    try:
        import uvicorn
    except ImportError:
        raise CLIError("'sigv4kit serve' needs uvicorn: pip install 'sigv4kit[iam]'") from None
    if not 0 < args.port < 65536:
        raise CLIError(f"--port {args.port} is not a TCP port (1-65535)", ExitCode.USAGE)
    audit = audit_log_from_args(args, args.store)
    app = build_app(args.store, audit=audit)
    streams.stderr.write(f"sigv4kit: serving iam, sts on http://{args.host}:{args.port}\n")
    if audit is not None:
        streams.stderr.write(f"sigv4kit: audit trail: {audit.sink!r}\n")
    streams.stderr.write(f"sigv4kit: the IAM console is at http://{args.host}:{args.port}"
                         "/console/\n")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                lifespan="on")
    return ExitCode.OK
