"""Properties of evaluation over generated policies and requests (hypothesis).

* Deterministic: the same inputs give the same decision.
* Order-independent: shuffling statements within policies and the policies themselves changes
  neither the effect, nor who decided, nor the matched statements (as a set), nor the missing keys.
* Adding a Deny statement never turns a denial into an Allow.
* Adding an Allow statement never turns an Allow into a denial, unless the new statement cannot be
  evaluated (fail closed: any evaluation error means no Allow). It is added to a policy type the
  request already has: a first SCP, boundary or session policy is a new intersection, which may
  deny by design.
* The shape of a decision matches its effect (denials name no allowing statement, and so on).
"""

from __future__ import annotations

import json
import random
from typing import Any

from _policy_principals import ACCOUNT, ALICE, SESSION
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigv4kit.middleware.iam.policy import (
    AuthorizationRequest,
    Decision,
    DecisionEffect,
    Policy,
    PolicyType,
    evaluate,
)

ACTIONS = ["s3:GetObject", "s3:Get*", "s3:*", "*", "ec2:Describe*", "S3:getobject", "iam:*",
           "s3:PutObject", "s3:?etObject"]
RESOURCES = ["*", "arn:aws:s3:::reports/*", "arn:aws:s3:::reports/2026/*", "arn:aws:s3:::other/*",
             "arn:aws:s3:::reports/${aws:username}/*", "arn:aws:s3:::*/q3.csv"]
CONDITIONS: list[dict[str, dict[str, Any]]] = [
    {"StringEquals": {"aws:username": "alice"}},
    {"StringNotEquals": {"aws:username": ["bob", "carol"]}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"NotIpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": "team*"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}},
    {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
    {"Null": {"aws:TokenIssueTime": "true"}},
    {"NumericLessThan": {"aws:MultiFactorAuthAge": "soon"}},  # cannot be evaluated
]
PRINCIPALS: list[Any] = ["*", {"AWS": ACCOUNT}, {"AWS": ALICE.arn}, {"AWS": SESSION.role_arn},
                         {"AWS": SESSION.arn}, {"AWS": "arn:aws:iam::999988887777:user/eve"}]


@st.composite
def statements(draw: st.DrawFn, *, effect: str | None = None,
               principal: bool = False) -> dict[str, Any]:
    # Mostly Allow statements, so that allowed decisions are common enough to test.
    statement: dict[str, Any] = {
        "Effect": effect or draw(st.sampled_from(["Allow", "Allow", "Allow", "Deny"]))}
    names = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3))
    statement["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = names
    patterns = draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2))
    statement["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = patterns
    chosen = draw(st.lists(st.sampled_from(CONDITIONS), max_size=2)) if draw(st.booleans()) else []
    condition: dict[str, dict[str, Any]] = {}
    for block in chosen:
        for operator, keys in block.items():
            condition.setdefault(operator, {}).update(keys)
    if condition:
        statement["Condition"] = condition
    if principal:
        statement["Principal"] = draw(st.sampled_from(PRINCIPALS))
    return statement


def document(statement_list: list[dict[str, Any]]) -> dict[str, Any]:
    numbered = [{**s, "Sid": f"S{i}"} for i, s in enumerate(statement_list)]
    return {"Version": "2012-10-17", "Statement": numbered}


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Policy documents (as JSON-ready dicts) by type, and a request."""
    identity = draw(st.lists(st.lists(statements(), min_size=1, max_size=4), max_size=3))
    scenario: dict[str, Any] = {"identity": [document(s) for s in identity]}
    if draw(st.integers(0, 3)) == 0:
        scenario["boundary"] = document(draw(st.lists(statements(), min_size=1, max_size=3)))
    if draw(st.integers(0, 3)) == 0:
        scenario["scp"] = [document(draw(st.lists(statements(), min_size=1, max_size=3)))]
    if draw(st.booleans()):
        scenario["resource"] = document(
            draw(st.lists(statements(principal=True), min_size=1, max_size=3)))
    context: dict[str, str | list[str]] = {}
    for key, values in [("aws:username", ["alice", "bob"]),
                        ("aws:SourceIp", ["203.0.113.9", "198.51.100.1"]),
                        ("aws:MultiFactorAuthPresent", ["true", "false"]),
                        ("aws:SecureTransport", ["true", "false"]),
                        ("aws:MultiFactorAuthAge", ["10", "7200"])]:
        if draw(st.booleans()):
            context[key] = draw(st.sampled_from(values))
    if draw(st.booleans()):
        context["aws:TagKeys"] = draw(st.lists(st.sampled_from(["team", "cost", "owner"]),
                                               max_size=2))
    scenario["principal"] = draw(st.sampled_from([ALICE, SESSION]))
    scenario["action"] = draw(st.sampled_from(["s3:GetObject", "s3:GetObject", "s3:PutObject",
                                               "iam:CreateUser", "ec2:DescribeInstances"]))
    scenario["resource_arn"] = draw(st.sampled_from(
        ["arn:aws:s3:::reports/2026/q3.csv", "arn:aws:s3:::reports/alice/x",
         "arn:aws:s3:::other/q3.csv", "*"]))
    scenario["context"] = context
    return scenario


def parse(doc: dict[str, Any], kind: PolicyType, name: str) -> Policy:
    return Policy.parse(json.dumps(doc), policy_type=kind, policy_id=name)


def decide(scenario: dict[str, Any]) -> Decision:
    request = AuthorizationRequest(principal=scenario["principal"], action=scenario["action"],
                                   resource=scenario["resource_arn"],
                                   context=scenario["context"])
    identity = [parse(doc, PolicyType.IDENTITY, f"identity{i}")
                for i, doc in enumerate(scenario["identity"])]
    boundary = scenario.get("boundary")
    scps = scenario.get("scp")
    resource = scenario.get("resource")
    return evaluate(
        request,
        identity_policies=identity,
        permissions_boundary=parse(boundary, PolicyType.BOUNDARY, "boundary") if boundary else None,
        service_control_policies=[parse(d, PolicyType.SCP, f"scp{i}") for i, d in enumerate(scps)]
        if scps else None,
        resource_policy=parse(resource, PolicyType.RESOURCE, "resource") if resource else None,
    )


def summary(decision: Decision) -> tuple[Any, ...]:
    """What must not depend on order (statement positions and error wording do)."""
    return (decision.effect, decision.denied_by,
            frozenset((m.policy_id, m.sid) for m in decision.matched),
            decision.missing_context_keys, bool(decision.errors))


def shuffled(scenario: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    def shuffle_doc(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "Statement": rng.sample(doc["Statement"], len(doc["Statement"]))}

    copy = dict(scenario)
    # Policy names travel with their documents, so only the statement order changes within each.
    identity = [shuffle_doc(doc) for doc in scenario["identity"]]
    copy["identity"] = identity
    if "boundary" in scenario:
        copy["boundary"] = shuffle_doc(scenario["boundary"])
    if "scp" in scenario:
        copy["scp"] = [shuffle_doc(doc) for doc in scenario["scp"]]
    if "resource" in scenario:
        copy["resource"] = shuffle_doc(scenario["resource"])
    return copy


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(scenarios())
def test_deterministic(scenario: dict[str, Any]) -> None:
    assert decide(scenario) == decide(scenario)


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_order_independent_over_statements(scenario: dict[str, Any], rng: random.Random) -> None:
    assert summary(decide(shuffled(scenario, rng))) == summary(decide(scenario))


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_order_independent_over_policies(scenario: dict[str, Any], rng: random.Random) -> None:
    request = AuthorizationRequest(principal=scenario["principal"], action=scenario["action"],
                                   resource=scenario["resource_arn"], context=scenario["context"])
    identity = [parse(doc, PolicyType.IDENTITY, f"identity{i}")
                for i, doc in enumerate(scenario["identity"])]
    scps = [parse(doc, PolicyType.SCP, f"scp{i}") for i, doc in enumerate(scenario.get("scp", []))]
    before = evaluate(request, identity_policies=identity, service_control_policies=scps or None)
    after = evaluate(request, identity_policies=rng.sample(identity, len(identity)),
                     service_control_policies=rng.sample(scps, len(scps)) or None)
    assert summary(after) == summary(before)


def with_statement(
    scenario: dict[str, Any], where: str, statement: dict[str, Any]
) -> dict[str, Any]:
    """The scenario with one more statement in a policy type it already has (else identity).

    Adding the first SCP creates a layer that must allow (an intersection), which can deny: that
    is a new policy type, not one more statement, so it is not what these properties are about.
    """
    copy = dict(scenario)
    if where == "identity" or where not in scenario:
        copy["identity"] = [*scenario["identity"], document([statement])]
    elif where == "resource":
        doc = scenario["resource"]
        copy["resource"] = document([*doc["Statement"], statement])
    else:
        copy[where] = [*scenario.get(where, []), document([statement])]
    return copy


@PROPERTY_SETTINGS
@given(scenarios(), st.sampled_from(["Allow", "Deny"]),
       st.sampled_from(["identity", "scp", "resource"]), st.data())
def test_adding_a_statement_moves_the_decision_only_its_way(
    scenario: dict[str, Any], effect: str, where: str, data: st.DataObject
) -> None:
    extra = data.draw(statements(effect=effect, principal=where == "resource"
                                 and where in scenario))
    before, after = decide(scenario), decide(with_statement(scenario, where, extra))
    if before.effect is DecisionEffect.EXPLICIT_DENY:  # nothing added lifts an explicit Deny
        assert after.effect is DecisionEffect.EXPLICIT_DENY
    if effect == "Deny" and not before.allowed:
        assert not after.allowed
    if effect == "Allow" and before.allowed and len(after.errors) == len(before.errors):
        assert after.allowed


@PROPERTY_SETTINGS
@given(scenarios())
def test_decision_shape_matches_its_effect(scenario: dict[str, Any]) -> None:
    decision = decide(scenario)
    effects = {m.effect for m in decision.matched}
    if decision.effect is DecisionEffect.ALLOW:
        assert effects == {"Allow"}
        assert decision.denied_by is None
        assert not decision.errors
    elif decision.effect is DecisionEffect.EXPLICIT_DENY:
        assert effects == {"Deny"}
        assert decision.denied_by is not None
    else:
        assert decision.matched == ()
        assert decision.denied_by is not None
    assert list(decision.missing_context_keys) == sorted(set(decision.missing_context_keys))


def evaluate_with(scenario: dict[str, Any], policies: dict[str, Any]) -> Decision:
    request = AuthorizationRequest(principal=scenario["principal"], action=scenario["action"],
                                   resource=scenario["resource_arn"],
                                   context=scenario["context"])
    return evaluate(request, **policies)


def parsed(scenario: dict[str, Any]) -> dict[str, Any]:
    boundary, scps, resource = (scenario.get(k) for k in ("boundary", "scp", "resource"))
    return {
        "identity_policies": [parse(doc, PolicyType.IDENTITY, f"identity{i}")
                              for i, doc in enumerate(scenario["identity"])],
        "permissions_boundary": parse(boundary, PolicyType.BOUNDARY, "boundary")
        if boundary else None,
        "service_control_policies": [parse(d, PolicyType.SCP, f"scp{i}")
                                     for i, d in enumerate(scps)] if scps else None,
        "resource_policy": parse(resource, PolicyType.RESOURCE, "resource") if resource else None,
    }


@PROPERTY_SETTINGS
@given(scenarios(), st.lists(scenarios(), min_size=1, max_size=6))
def test_remembered_condition_outcomes_change_no_decision(
    scenario: dict[str, Any], others: list[dict[str, Any]]
) -> None:
    """The same policy objects decide a series of requests (each candidate list remembers its
    statements' condition outcomes per context signature): every decision equals the one of
    freshly parsed policies, which remember nothing yet."""
    shared = parsed(scenario)
    for other in [scenario, *others, scenario, *reversed(others)]:
        request = {**scenario, **{key: other[key] for key in
                                  ("principal", "action", "resource_arn", "context")}}
        assert evaluate_with(request, shared) == evaluate_with(request, parsed(scenario))
