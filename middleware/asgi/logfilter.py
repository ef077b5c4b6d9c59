"""Keep presigned-URL credentials out of access logs.

A presigned URL carries its credential, signature and session token in the
query string, and servers log the full request target (uvicorn's
``uvicorn.access`` record is ``'%s - "%s %s HTTP/%s" %d'`` with the path and
query as its third argument). Whoever reads the log could replay the URL
until it expires, or use the session token. :class:`AccessLogRedactor`
replaces those values with ``REDACTED`` in every string of a log record.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import unquote

__all__ = ["AccessLogRedactor", "install_access_log_redactor", "redact_query_credentials"]

#: Query parameters whose values never belong in a log (compared case-insensitively,
#: after percent-decoding the name, as the verifier reads them).
_REDACTED_PARAMETERS = frozenset({"x-amz-signature", "x-amz-credential", "x-amz-security-token"})
_PARAMETER = re.compile(r"([?&])([^=&#\s\"?]+)=([^&#\s\"]*)")


def _redact_match(match: re.Match[str]) -> str:
    if unquote(match.group(2)).lower() in _REDACTED_PARAMETERS:
        return f"{match.group(1)}{match.group(2)}=REDACTED"
    return match.group(0)


def redact_query_credentials(text: str) -> str:
    """``text`` with the values of ``X-Amz-Signature``, ``X-Amz-Credential`` and
    ``X-Amz-Security-Token`` query parameters replaced by ``REDACTED``."""
    if "amz" not in text.lower():
        return text
    return _PARAMETER.sub(_redact_match, text)


def _redact(value: object) -> object:
    return redact_query_credentials(value) if isinstance(value, str) else value


class AccessLogRedactor(logging.Filter):
    """A :class:`logging.Filter` that redacts presigned-URL credentials in records.

    ```python
    import logging
    from sigv4kit.middleware import AccessLogRedactor

    logging.getLogger("uvicorn.access").addFilter(AccessLogRedactor())
    ```

    Rewrites the message and its arguments (tuple or mapping), keeping their
    shape, so formatters that read the arguments by position (uvicorn's
    ``AccessFormatter``) still work. Never drops a record. On a logger it
    sees records logged to that logger; on a handler, every record the
    handler writes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query_credentials(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_redact(arg) for arg in args)
        elif isinstance(args, Mapping):
            record.args = {key: _redact(value) for key, value in args.items()}
        return True


def install_access_log_redactor(logger: str | logging.Logger = "uvicorn.access") -> None:
    """Add an :class:`AccessLogRedactor` to ``logger`` (uvicorn's access log by default).

    Idempotent: a logger that already has one gets no second.
    """
    target = logging.getLogger(logger) if isinstance(logger, str) else logger
    if not any(isinstance(existing, AccessLogRedactor) for existing in target.filters):
        target.addFilter(AccessLogRedactor())
