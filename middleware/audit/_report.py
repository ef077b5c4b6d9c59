"""What ``sigv4kit audit verify`` finds: problems and a summary.

Kinds of :class:`Problem`: ``modified`` (content differs from its hash),
``deleted`` (a segment, digest or row missing from the chain), ``reordered``
(in the wrong place in the chain), ``inserted`` (not in the chain at all),
``forged`` (a digest or checkpoint whose signature does not verify).

Imports: the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["PROBLEM_KINDS", "Problem", "VerifyReport"]

PROBLEM_KINDS = ("modified", "deleted", "reordered", "inserted", "forged")


@dataclass(frozen=True, slots=True)
class Problem:
    """One integrity failure: its kind, what it concerns, and why."""

    kind: str
    target: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.upper()}: {self.target}: {self.detail}"


@dataclass(slots=True)
class VerifyReport:
    """Everything a verification found; :attr:`ok` when there is no problem."""

    target: str
    problems: list[Problem] = field(default_factory=list)
    verified: int = 0
    last_sequence: int = 0
    last_event_time: str | None = None
    open_segments: list[str] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "valid": self.ok,
            "verified": self.verified,
            "lastSequence": self.last_sequence,
            "lastEventTime": self.last_event_time,
            "openSegments": self.open_segments,
            "problems": [
                {"kind": p.kind, "target": p.target, "detail": p.detail} for p in self.problems
            ],
        }

    def lines(self) -> list[str]:
        """The human-readable report, one finding a line, the summary last."""
        out = [str(problem) for problem in self.problems]
        out.extend(f"OPEN: {name}: not yet closed, not verifiable" for name in self.open_segments)
        verdict = "VALID" if self.ok else f"INVALID ({len(self.problems)} problems)"
        out.append(
            f"{verdict}: {self.verified} verified through sequence {self.last_sequence}"
            + (f" (last event {self.last_event_time})" if self.last_event_time else "")
        )
        return out
