"""What :func:`~sigv4kit.explain` concludes: the causes it can name, its findings, the result."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..canonical._diagnostics import (
    LineDiff,
)

__all__ = ["Cause", "Explanation", "Finding"]


class Cause(Enum):
    """The likely causes of a signature error ``explain`` can name."""

    METHOD = "method"
    PATH_ENCODING = "path-encoding"
    PATH_NORMALIZATION = "path-normalization"
    PATH_CHANGED = "path-changed"
    QUERY_PLUS = "query-plus"
    QUERY_ENCODING = "query-encoding"
    QUERY_ORDER = "query-order"
    QUERY_DUPLICATES = "query-duplicates"
    QUERY_CHANGED = "query-changed"
    HEADER_WHITESPACE = "header-whitespace"
    HEADER_DUPLICATES = "header-duplicates"
    HEADER_ADDED = "header-added"
    HEADER_REMOVED = "header-removed"
    HEADER_CHANGED = "header-changed"
    HOST = "host-or-port"
    BODY_HASH = "body-hash"
    CLOCK = "clock"
    REGION = "region"
    SERVICE = "service"
    SESSION_TOKEN = "session-token"  # noqa: S105 - a cause name
    ACCESS_KEY = "access-key"
    SECRET_KEY = "secret-key"  # noqa: S105 - a cause name
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One likely cause, with the reason in plain words."""

    cause: Cause
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """What :func:`explain` concluded."""

    code: str
    message: str
    server_canonical_request: str | None
    server_string_to_sign: str | None
    our_canonical_request: str | None
    our_string_to_sign: str | None
    canonical_diff: LineDiff | None
    string_to_sign_diff: LineDiff | None
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly form (session tokens already redacted)."""

        def diff(d: LineDiff | None) -> dict[str, object] | None:
            if d is None:
                return None
            return {"line": d.line, "part": d.part, "server": d.server, "ours": d.ours}

        return {
            "code": self.code,
            "message": self.message,
            "server_canonical_request": self.server_canonical_request,
            "server_string_to_sign": self.server_string_to_sign,
            "our_canonical_request": self.our_canonical_request,
            "our_string_to_sign": self.our_string_to_sign,
            "canonical_diff": diff(self.canonical_diff),
            "string_to_sign_diff": diff(self.string_to_sign_diff),
            "causes": [{"cause": f.cause.value, "text": f.text} for f in self.findings],
        }
