"""Policy evaluation against vectors authored by hand from the AWS documentation.

Each file in ``tests/policy_vectors/`` holds the example policies of one IAM User
Guide page, and requests with the outcome the page states (the ``source`` of each
vector names the page and section; ``note`` quotes or paraphrases the sentence that
states the outcome).  The expected outcomes were written from the documentation,
never from this engine's output: a failure here is either an engine bug or a
misreading of the page, and is reported as such, not "fixed" by editing the vector.

Vector format::

    {"page": URL, "archived_source": "awsdocs/iam-user-guide doc_source/<page>.md",
     "policies": {NAME: <policy JSON>, ...},        # shared by the vectors below
     "principals": {NAME: <principal>, ...},
     "vectors": [{
        "name": str, "source": "URL#anchor (section)", "note": str,
        "policies": {"identity": [NAME | <policy>], "resource" | "trust": NAME | <policy>,
                     "boundary": NAME | <policy>, "session": [...], "scp": [...]},
        "request": {"principal": NAME | {"arn", "type", "account"?, "role_arn"?},
                    "action": str, "resource": str, "context": {key: str | [str]},
                    "resource_account": str?},
        "expected": "Allow" | "ExplicitDeny" | "ImplicitDeny",
        "missing_context_keys": [str]?,
        "engine_bug": str?}]}

``"engine_bug"`` marks a vector the engine gets wrong today (reported to the lead): it runs
as a strict xfail, so the day the engine is fixed it fails until the mark is removed.

``"session"`` absent means no session policy was passed (``None``); a federated
user's session then has no permissions, as the evaluation-logic page states.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sigv4kit.middleware.iam.policy import (
    AuthorizationRequest,
    Policy,
    PolicyType,
    Principal,
    PrincipalType,
    evaluate,
)

VECTOR_DIR = Path(__file__).parent / "policy_vectors"
DECISIONS = {"Allow", "ExplicitDeny", "ImplicitDeny"}
ROLE_TYPES = {
    "identity": PolicyType.IDENTITY,
    "resource": PolicyType.RESOURCE,
    "trust": PolicyType.TRUST,
    "boundary": PolicyType.BOUNDARY,
    "session": PolicyType.SESSION,
    "scp": PolicyType.SCP,
}


def _load() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for path in sorted(VECTOR_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for vector in document["vectors"]:
            yield f"{path.stem}::{vector['name']}", document, vector


VECTORS = list(_load())
CASES = [
    pytest.param(
        name,
        document,
        vector,
        id=name,
        marks=[pytest.mark.xfail(strict=True, reason=vector["engine_bug"])]
        if "engine_bug" in vector
        else [],
    )
    for name, document, vector in VECTORS
]


def _policy(
    spec: str | dict[str, Any], document: Mapping[str, Any], role: str, index: int
) -> Policy:
    if isinstance(spec, str):
        body, policy_id = document["policies"][spec], spec
    else:
        body, policy_id = spec, f"{role}.{index + 1}"
    text = json.dumps(body, indent=2)
    return Policy.parse(text, policy_type=ROLE_TYPES[role], policy_id=policy_id)


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] or None if len(parts) > 5 else None


def _principal(spec: str | dict[str, Any], document: Mapping[str, Any]) -> Principal:
    data = document["principals"][spec] if isinstance(spec, str) else spec
    return Principal(
        arn=data["arn"],
        account=data.get("account", _account_of(data["arn"])),
        type=PrincipalType(data["type"]),
        role_arn=data.get("role_arn"),
        federated_provider=data.get("federated_provider"),
        service=data.get("service"),
    )


def _context(raw: Mapping[str, str | list[str]]) -> dict[str, str | tuple[str, ...]]:
    return {key: value if isinstance(value, str) else tuple(value) for key, value in raw.items()}


def decide(document: Mapping[str, Any], vector: Mapping[str, Any]) -> Any:
    """Evaluate one vector's request under its policies."""
    roles = vector["policies"]
    request = vector["request"]
    single = {
        role: _policy(roles[role], document, role, 0) if role in roles else None
        for role in ("resource", "trust", "boundary")
    }
    many = {
        role: [_policy(spec, document, role, i) for i, spec in enumerate(roles[role])]
        if role in roles
        else None
        for role in ("identity", "session", "scp")
    }
    return evaluate(
        AuthorizationRequest(
            principal=_principal(request["principal"], document),
            action=request["action"],
            resource=request["resource"],
            context=_context(request.get("context", {})),
            resource_account=request.get("resource_account"),
        ),
        identity_policies=many["identity"] or (),
        resource_policy=single["resource"] or single["trust"],
        permissions_boundary=single["boundary"],
        session_policies=many["session"],
        service_control_policies=many["scp"],
    )


def test_the_corpus_is_large_and_well_formed() -> None:
    assert len(VECTORS) >= 150
    names = [name for name, _, _ in VECTORS]
    assert len(names) == len(set(names)), "vector names must be unique"
    for name, document, vector in VECTORS:
        assert vector["expected"] in DECISIONS, name
        assert vector["source"].startswith("https://docs.aws.amazon.com/"), name
        assert document["page"].startswith("https://docs.aws.amazon.com/"), name
        assert set(vector["policies"]) <= set(ROLE_TYPES), name


def test_every_decision_kind_is_covered() -> None:
    seen = {vector["expected"] for _, _, vector in VECTORS}
    assert seen == DECISIONS


@pytest.mark.parametrize(("name", "document", "vector"), CASES)
def test_vector(name: str, document: dict[str, Any], vector: dict[str, Any]) -> None:
    decision = decide(document, vector)
    assert decision.effect.value == vector["expected"], (
        f"{name}: expected {vector['expected']}, got {decision.effect.value} "
        f"({vector.get('note', '')})"
    )
    if "missing_context_keys" in vector:
        assert sorted(decision.missing_context_keys) == sorted(vector["missing_context_keys"]), name
