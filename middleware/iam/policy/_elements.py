"""The parts of a parsed policy: policy types, positions, principals, conditions, statements.

A leaf module so the parser (``_parse``) can build these objects and
``_model.Policy.parse`` can call the parser without an import circle; every
name here is re-exported by ``_model``, which is where users import them from.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

__all__ = ["Condition", "PolicyType", "Position", "PrincipalSpec", "Statement"]


class PolicyType(StrEnum):
    """The kind of policy a document is; decides which elements and limits apply."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"
    BOUNDARY = "boundary"
    SESSION = "session"
    SCP = "scp"


class Position(NamedTuple):
    """A place in the policy text, 1-based, like SimulateCustomPolicy's ``StartPosition``."""

    line: int
    column: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PrincipalSpec:
    """A ``Principal`` or ``NotPrincipal`` element.

    ``any`` is true for ``"*"`` and for ``{"AWS": "*"}``; the tuples hold the
    values as written (account ids, ARNs, service names, ``"*"``).
    """

    any: bool
    aws: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    canonical_user: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """One operator x one key of a ``Condition`` block.

    ``operator`` is as written (``"ForAnyValue:StringLikeIfExists"``), ``base``
    the canonical operator without qualifier or ``IfExists`` (``"StringLike"``),
    ``qualifier`` is ``""``, ``"ForAllValues"`` or ``"ForAnyValue"``. ``key`` is
    as written (keys match case-insensitively). ``values`` are JSON strings as
    is, ``true``/``false`` as ``"true"``/``"false"`` and numbers as their JSON text.
    """

    operator: str
    base: str
    qualifier: str
    if_exists: bool
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """One statement of a policy, validated.

    Exactly one of ``actions``/``not_actions`` is set; ``resources`` and
    ``not_resources`` are both ``None`` in trust policies. ``start``/``end``
    are where the statement's JSON object starts and ends in the text.
    """

    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principal: PrincipalSpec | None
    not_principal: PrincipalSpec | None
    conditions: tuple[Condition, ...]
    start: Position
    end: Position
