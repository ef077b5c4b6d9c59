"""The policy model: a parsed, validated IAM policy document.

``Policy.parse(text, policy_type=...)`` is the one way in; it raises
:class:`MalformedPolicyDocument` with IAM's own message, or returns a frozen
:class:`Policy` whose statements are ready to evaluate::

    policy = Policy.parse('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", '
                          '"Action": "s3:GetObject", "Resource": "*"}}')
    policy.statements[0].actions == ("s3:GetObject",)

The element classes live in ``_elements`` (so the parser can build them
without an import circle) and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._elements import Condition, PolicyType, Position, PrincipalSpec, Statement
from ._errors import MalformedPolicyDocument
from ._parse import parse_document

__all__ = [
    "Condition",
    "MalformedPolicyDocument",
    "Policy",
    "PolicyType",
    "Position",
    "PrincipalSpec",
    "Statement",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """A validated IAM policy document.

    ``policy_id`` is what simulation reports as ``SourcePolicyId`` (e.g.
    ``"PolicyInputList.1"`` or a policy ARN); ``version`` is ``"2012-10-17"``,
    ``"2008-10-17"`` or ``None`` when absent (policy variables are then literal
    text); ``id`` is the document's ``Id`` element.
    """

    text: str = field(repr=False)
    policy_type: PolicyType
    policy_id: str
    version: str | None
    id: str | None
    statements: tuple[Statement, ...]

    @classmethod
    def parse(
        cls,
        text: str | bytes,
        *,
        policy_type: PolicyType = PolicyType.IDENTITY,
        policy_id: str = "",
    ) -> Policy:
        """Parse and validate ``text`` as a policy of ``policy_type``.

        Raises:
            MalformedPolicyDocument: the first problem in IAM's check order
                (syntax, version, legacy parse, unique Sids, actions,
                resources, conditions), with IAM's message.
        """
        doc = parse_document(text, PolicyType(policy_type))
        return cls(
            text=doc.text,
            policy_type=PolicyType(policy_type),
            policy_id=policy_id,
            version=doc.version,
            id=doc.id,
            statements=doc.statements,
        )
