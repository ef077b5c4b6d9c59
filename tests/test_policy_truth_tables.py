"""Condition operator truth tables, every expected value written out by hand.

Each row is ``(operator as written, policy values, request context value, condition result)``
where the context value is ``MISSING`` (key absent), a string (single-valued key) or a list
(multivalued key).  Every row is checked twice: in an ``Allow`` statement (true => Allow,
false => ImplicitDeny) and in a ``Deny`` statement next to an allow-all policy (true =>
ExplicitDeny, false => Allow), so a condition that is silently ignored fails one of the two.

The rules the rows follow, with their sources:

* R1 missing key, positive operator => false: "If the key that you specify in a policy
  condition is not present in the request context, the values do not match. This applies to
  all condition operators except ...IfExists and Null check."
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)
* R2 missing key, negated operator => true: "Inverted condition operators like StringNotEquals
  or StringNotLike do match against a null value"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html, "Policy
  variables with no value"); the multivalued examples table gives "Match" for
  ForAllValues:StringNotLike with "No aws:TagKeys in the request context"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html).
* R3 ...IfExists, missing key => true; present => the operator's own test: "If the key is not
  present, evaluate the condition element as true." (condition operators page, #Conditions_IfExists)
* R4 values of one key OR; values of a negated operator NOR: "If a single negated matching
  condition operator includes multiple values for a context key, those values are evaluated
  using a logical NOR."
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html)
* R5 ForAllValues: true if every request value matches at least one policy value, and "true if
  there are no keys in the request, or if the key values resolve to a null data set";
  ForAnyValue: true if any request value matches, "For no matching key or a null dataset, the
  condition returns false." (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html)
  With a negated operator the per-value test is "matches none of the policy values" (the
  ForAllValues:StringNotLike table of the multivalued examples page).
* R6 a set operator on a single-valued key treats the value as a one-element set; a
  single-valued operator on a multivalued key does not match (issue 14, IAM.md §1.5).
* R7 Null: "true (the key doesn't exist — it is null) or false (the key exists and its value is
  not null)" (condition operators page, #Conditions_Null).
* Operator specifics (condition operators page): StringEquals exact and case-sensitive;
  IgnoreCase variants ignore case; StringLike ``*``/``?`` anywhere, nothing else special;
  Numeric compares integer or decimal values; Date takes ISO 8601 or epoch seconds; Bool
  "true"/"false"; BinaryEquals byte for byte on base64; IP CIDR (a bare address is /32, IPv6
  too); ArnEquals/ArnLike identical, segment by segment, case-sensitive.
"""

from __future__ import annotations

from typing import Any

import pytest
from _policy_util import ALLOW_ALL, decide, document, statement

MISSING: Any = object()
KEY = "ex:key"

T, F = True, False
EQ = ["alpha", "beta"]
LIKE = ["al*", "b?ta"]
DAY = ["2020-01-01T00:00:00Z"]
TOPIC = ["arn:aws:sns:us-east-1:123456789012:topic"]
TOPICS = ["arn:aws:sns:*:123456789012:topic-*"]
OWN = ["arn:aws:sns:*:123456789012:*"]
ADMIN = ["arn:aws:iam::*:role/admin-*"]
B64 = ["QmluYXJ5VmFsdWVJbkJhc2U2NA=="]  # "BinaryValueInBase64", the operators page's example
B64_OTHER = "QmluYXJ5VmFsdWVJbkJhc2U2NQ=="  # "BinaryValueInBase65"
NET = ["203.0.113.0/24"]

ROWS: list[tuple[str, list[str], Any, bool]] = [
    # --- String: StringEquals (exact, case-sensitive; R1, R4 OR, R6)
    ("StringEquals", EQ, "alpha", T),
    ("StringEquals", EQ, "beta", T),
    ("StringEquals", EQ, "gamma", F),
    ("StringEquals", EQ, "ALPHA", F),
    ("StringEquals", EQ, "alph", F),
    ("StringEquals", ["al*"], "alpha", F),
    ("StringEquals", ["al*"], "al*", T),
    ("StringEquals", EQ, MISSING, F),
    ("StringEquals", EQ, ["alpha", "beta"], F),
    ("StringEqualsIfExists", EQ, MISSING, T),
    ("StringEqualsIfExists", EQ, "alpha", T),
    ("StringEqualsIfExists", EQ, "gamma", F),
    ("ForAllValues:StringEquals", EQ, ["alpha", "beta"], T),
    ("ForAllValues:StringEquals", EQ, ["alpha"], T),
    ("ForAllValues:StringEquals", EQ, ["alpha", "gamma"], F),
    ("ForAllValues:StringEquals", EQ, MISSING, T),
    ("ForAllValues:StringEquals", EQ, [], T),
    ("ForAllValues:StringEquals", EQ, "alpha", T),
    ("ForAllValues:StringEquals", EQ, "gamma", F),
    ("ForAllValues:StringEqualsIfExists", EQ, MISSING, T),
    ("ForAnyValue:StringEquals", EQ, ["gamma", "beta"], T),
    ("ForAnyValue:StringEquals", EQ, ["gamma", "delta"], F),
    ("ForAnyValue:StringEquals", EQ, MISSING, F),
    ("ForAnyValue:StringEquals", EQ, [], F),
    ("ForAnyValue:StringEquals", EQ, "alpha", T),
    ("ForAnyValue:StringEquals", EQ, "gamma", F),
    # --- StringNotEquals (R2 missing => true, R4 NOR)
    ("StringNotEquals", EQ, "gamma", T),
    ("StringNotEquals", EQ, "alpha", F),
    ("StringNotEquals", EQ, "beta", F),
    ("StringNotEquals", EQ, "ALPHA", T),
    ("StringNotEquals", EQ, MISSING, T),
    ("StringNotEqualsIfExists", EQ, MISSING, T),
    ("StringNotEqualsIfExists", EQ, "alpha", F),
    ("StringNotEqualsIfExists", EQ, "gamma", T),
    ("ForAllValues:StringNotEquals", EQ, ["gamma", "delta"], T),
    ("ForAllValues:StringNotEquals", EQ, ["gamma", "alpha"], F),
    ("ForAllValues:StringNotEquals", EQ, MISSING, T),
    ("ForAllValues:StringNotEquals", EQ, [], T),
    ("ForAnyValue:StringNotEquals", EQ, ["alpha", "gamma"], T),
    ("ForAnyValue:StringNotEquals", EQ, ["alpha", "beta"], F),
    ("ForAnyValue:StringNotEquals", EQ, MISSING, F),
    ("ForAnyValue:StringNotEquals", EQ, [], F),
    # --- IgnoreCase variants
    ("StringEqualsIgnoreCase", ["Alpha"], "ALPHA", T),
    ("StringEqualsIgnoreCase", ["Alpha"], "alpha", T),
    ("StringEqualsIgnoreCase", ["Alpha"], "alphas", F),
    ("StringEqualsIgnoreCase", ["Alpha"], MISSING, F),
    ("StringEqualsIgnoreCaseIfExists", ["Alpha"], MISSING, T),
    ("ForAnyValue:StringEqualsIgnoreCase", ["Alpha"], ["x", "ALPHA"], T),
    ("ForAllValues:StringEqualsIgnoreCase", ["Alpha"], ["x", "ALPHA"], F),
    ("StringNotEqualsIgnoreCase", ["Alpha", "Beta"], "ALPHA", F),
    ("StringNotEqualsIgnoreCase", ["Alpha", "Beta"], "bEtA", F),
    ("StringNotEqualsIgnoreCase", ["Alpha", "Beta"], "gamma", T),
    ("StringNotEqualsIgnoreCase", ["Alpha", "Beta"], MISSING, T),
    # --- StringLike (* and ? anywhere; case-sensitive; nothing else is special)
    ("StringLike", LIKE, "alpha", T),
    ("StringLike", LIKE, "al", T),
    ("StringLike", LIKE, "beta", T),
    ("StringLike", LIKE, "bEta", T),
    ("StringLike", LIKE, "bta", F),
    ("StringLike", LIKE, "beeta", F),
    ("StringLike", LIKE, "Alpha", F),
    ("StringLike", LIKE, "xalpha", F),
    ("StringLike", LIKE, MISSING, F),
    ("StringLike", LIKE, ["alpha", "beta"], F),
    ("StringLike", ["a.c"], "abc", F),
    ("StringLike", ["a.c"], "a.c", T),
    ("StringLike", ["a+"], "aa", F),
    ("StringLike", ["a+"], "a+", T),
    ("StringLike", ["[ab]"], "a", F),
    ("StringLike", ["[ab]"], "[ab]", T),
    ("StringLike", ["*"], "", T),
    ("StringLike", ["x*y*z"], "x/y:z", T),
    ("StringLikeIfExists", LIKE, MISSING, T),
    ("StringLikeIfExists", LIKE, "zzz", F),
    ("ForAllValues:StringLike", LIKE, ["alpha", "beta"], T),
    ("ForAllValues:StringLike", LIKE, ["alpha", "gamma"], F),
    ("ForAllValues:StringLike", LIKE, MISSING, T),
    ("ForAnyValue:StringLike", LIKE, ["gamma", "alpine"], T),
    ("ForAnyValue:StringLike", LIKE, ["gamma"], F),
    ("ForAnyValue:StringLike", LIKE, MISSING, F),
    # --- StringNotLike (R2, R4 NOR; the multivalued examples table)
    ("StringNotLike", LIKE, "gamma", T),
    ("StringNotLike", LIKE, "alpha", F),
    ("StringNotLike", LIKE, "beta", F),
    ("StringNotLike", LIKE, MISSING, T),
    ("StringNotLikeIfExists", LIKE, MISSING, T),
    ("ForAllValues:StringNotLike", ["key1*"], ["key2:audit"], T),
    ("ForAllValues:StringNotLike", ["key1*"], ["key1:legal"], F),
    ("ForAllValues:StringNotLike", ["key1*"], ["key1:hr", "key1:personnel"], F),
    ("ForAllValues:StringNotLike", ["key1*"], ["key1:hr", "key2:audit"], F),
    ("ForAllValues:StringNotLike", ["key1*"], MISSING, T),
    ("ForAllValues:StringNotLike", ["key1*", "key2*"], ["key1:hr", "key2:audit"], F),
    ("ForAllValues:StringNotLike", ["key1*", "key2*"], ["key3:legal"], T),
    ("ForAnyValue:StringNotLike", ["key1*"], ["key1:a", "key2:b"], T),
    ("ForAnyValue:StringNotLike", ["key1*"], ["key1:a"], F),
    ("ForAnyValue:StringNotLike", ["key1*"], MISSING, F),
    # --- Numeric (integer or decimal, compared as numbers)
    ("NumericEquals", ["10"], "10", T),
    ("NumericEquals", ["10"], "10.0", T),
    ("NumericEquals", ["10"], "9", F),
    ("NumericEquals", ["10"], MISSING, F),
    ("NumericEquals", ["10"], ["10", "11"], F),
    ("NumericEqualsIfExists", ["10"], MISSING, T),
    ("NumericNotEquals", ["10", "20"], "15", T),
    ("NumericNotEquals", ["10", "20"], "10", F),
    ("NumericNotEquals", ["10", "20"], "20", F),
    ("NumericNotEquals", ["10", "20"], MISSING, T),
    ("NumericLessThan", ["10"], "9", T),
    ("NumericLessThan", ["10"], "9.5", T),
    ("NumericLessThan", ["10"], "-1", T),
    ("NumericLessThan", ["10"], "10", F),
    ("NumericLessThan", ["10"], MISSING, F),
    ("NumericLessThan", ["10", "20"], "15", T),
    ("NumericLessThan", ["10", "20"], "25", F),
    ("NumericLessThanEquals", ["10"], "10", T),
    ("NumericLessThanEquals", ["10"], "11", F),
    ("NumericGreaterThan", ["10"], "11", T),
    ("NumericGreaterThan", ["10"], "100", T),
    ("NumericGreaterThan", ["10"], "10", F),
    ("NumericGreaterThan", ["10"], "9", F),
    ("NumericGreaterThanEquals", ["10"], "10", T),
    ("NumericGreaterThanEquals", ["10"], "9", F),
    ("NumericGreaterThanEquals", ["10"], MISSING, F),
    ("NumericGreaterThanIfExists", ["10"], MISSING, T),
    ("NumericGreaterThanIfExists", ["10"], "5", F),
    ("ForAllValues:NumericLessThan", ["10"], ["1", "2"], T),
    ("ForAllValues:NumericLessThan", ["10"], ["1", "20"], F),
    ("ForAllValues:NumericLessThan", ["10"], MISSING, T),
    ("ForAnyValue:NumericGreaterThan", ["10"], ["1", "20"], T),
    ("ForAnyValue:NumericGreaterThan", ["10"], ["1", "2"], F),
    ("ForAnyValue:NumericGreaterThan", ["10"], MISSING, F),
    # --- Date (ISO 8601 or epoch seconds; compared as instants)
    ("DateEquals", DAY, "2020-01-01T00:00:00Z", T),
    ("DateEquals", DAY, "1577836800", T),
    ("DateEquals", DAY, "2020-01-01T01:00:00+01:00", T),
    ("DateEquals", DAY, "2020-01-01T00:00:01Z", F),
    ("DateEquals", DAY, MISSING, F),
    ("DateEqualsIfExists", DAY, MISSING, T),
    ("DateNotEquals", DAY, "2021-01-01T00:00:00Z", T),
    ("DateNotEquals", DAY, "2020-01-01T00:00:00Z", F),
    ("DateNotEquals", DAY, MISSING, T),
    ("DateLessThan", DAY, "2019-12-31T23:59:59Z", T),
    ("DateLessThan", DAY, "2020-01-01T00:00:00Z", F),
    ("DateLessThan", DAY, MISSING, F),
    ("DateLessThanIfExists", DAY, MISSING, T),
    ("DateLessThanEquals", DAY, "2020-01-01T00:00:00Z", T),
    ("DateLessThanEquals", DAY, "2020-01-01T00:00:01Z", F),
    ("DateGreaterThan", DAY, "2020-01-01T00:00:01Z", T),
    ("DateGreaterThan", DAY, "2020-01-01T00:00:00Z", F),
    ("DateGreaterThan", ["1577836800"], "2020-06-01T00:00:00Z", T),
    ("DateGreaterThan", ["1577836800"], "2019-06-01T00:00:00Z", F),
    ("DateGreaterThanEquals", DAY, "2020-01-01T00:00:00Z", T),
    ("DateGreaterThanEquals", DAY, "1577836800", T),
    ("DateGreaterThanEquals", DAY, "2019-12-31T23:59:59Z", F),
    ("ForAnyValue:DateLessThan", DAY, ["2019-01-01T00:00:00Z", "2021-01-01T00:00:00Z"], T),
    ("ForAllValues:DateLessThan", DAY, ["2019-01-01T00:00:00Z", "2021-01-01T00:00:00Z"], F),
    # --- Bool
    ("Bool", ["true"], "true", T),
    ("Bool", ["true"], "false", F),
    ("Bool", ["true"], MISSING, F),
    ("Bool", ["false"], "false", T),
    ("Bool", ["false"], "true", F),
    ("Bool", ["false"], MISSING, F),
    ("BoolIfExists", ["false"], MISSING, T),
    ("BoolIfExists", ["false"], "false", T),
    ("BoolIfExists", ["false"], "true", F),
    ("BoolIfExists", ["true"], MISSING, T),
    # --- Binary (byte for byte, base64 in the policy)
    ("BinaryEquals", B64, B64[0], T),
    ("BinaryEquals", B64, B64_OTHER, F),
    ("BinaryEquals", B64, MISSING, F),
    ("BinaryEqualsIfExists", B64, MISSING, T),
    # --- IP address (CIDR; bare address = /32; IPv6)
    ("IpAddress", NET, "203.0.113.0", T),
    ("IpAddress", NET, "203.0.113.255", T),
    ("IpAddress", NET, "203.0.114.1", F),
    ("IpAddress", NET, "2001:db8::1", F),
    ("IpAddress", NET, MISSING, F),
    ("IpAddress", ["203.0.113.7"], "203.0.113.7", T),
    ("IpAddress", ["203.0.113.7"], "203.0.113.8", F),
    ("IpAddress", ["2001:DB8:1234:5678::/64"], "2001:db8:1234:5678::1", T),
    ("IpAddress", ["2001:DB8:1234:5678::/64"], "2001:db8:1234:5679::1", F),
    ("IpAddressIfExists", NET, MISSING, T),
    ("NotIpAddress", ["203.0.113.0/24", "198.51.100.0/24"], "192.0.2.1", T),
    ("NotIpAddress", ["203.0.113.0/24", "198.51.100.0/24"], "203.0.113.9", F),
    ("NotIpAddress", ["203.0.113.0/24", "198.51.100.0/24"], "198.51.100.9", F),
    ("NotIpAddress", NET, MISSING, T),
    ("NotIpAddressIfExists", NET, "203.0.113.9", F),
    ("NotIpAddressIfExists", NET, MISSING, T),
    ("ForAnyValue:IpAddress", NET, ["10.0.0.1", "203.0.113.9"], T),
    ("ForAllValues:IpAddress", NET, ["10.0.0.1", "203.0.113.9"], F),
    # --- ARN (segment by segment, case-sensitive; Equals == Like)
    ("ArnEquals", TOPIC, TOPIC[0], T),
    ("ArnEquals", TOPIC, "arn:aws:sns:us-east-1:123456789012:other", F),
    ("ArnEquals", TOPIC, MISSING, F),
    ("ArnEquals", TOPICS, "arn:aws:sns:eu-west-1:123456789012:topic-a", T),
    ("ArnLike", TOPICS, "arn:aws:sns:eu-west-1:123456789012:topic-a", T),
    ("ArnLike", TOPICS, "arn:aws:sns:eu-west-1:999999999999:topic-a", F),
    ("ArnLike", TOPICS, "arn:aws:sns:eu-west-1:123456789012:TOPIC-a", F),
    ("ArnLike", TOPICS, MISSING, F),
    ("ArnLikeIfExists", TOPICS, MISSING, T),
    ("ArnNotLike", OWN, "arn:aws:sns:us-east-1:999999999999:t", T),
    ("ArnNotLike", OWN, "arn:aws:sns:us-east-1:123456789012:t", F),
    ("ArnNotLike", OWN, MISSING, T),
    ("ArnNotEquals", OWN, "arn:aws:sns:us-east-1:123456789012:t", F),
    ("ArnNotEquals", OWN, "arn:aws:sns:us-east-1:999999999999:t", T),
    (
        "ForAnyValue:ArnLike",
        ADMIN,
        ["arn:aws:iam::111122223333:role/dev", "arn:aws:iam::123456789012:role/admin-x"],
        T,
    ),
    (
        "ForAllValues:ArnLike",
        ADMIN,
        ["arn:aws:iam::111122223333:role/dev", "arn:aws:iam::123456789012:role/admin-x"],
        F,
    ),
    ("ForAnyValue:ArnLike", ADMIN, MISSING, F),
    # --- Null (R7)
    ("Null", ["true"], MISSING, T),
    ("Null", ["true"], "anything", F),
    ("Null", ["false"], "anything", T),
    ("Null", ["false"], MISSING, F),
]

FAMILIES = (
    "String",
    "Numeric",
    "Date",
    "Bool",
    "Binary",
    "IpAddress",
    "NotIpAddress",
    "Arn",
    "Null",
)


def _context(value: Any) -> dict[str, Any]:
    if value is MISSING:
        return {}
    return {KEY: value if isinstance(value, str) else tuple(value)}


def _row_id(row: tuple[str, list[str], Any, bool]) -> str:
    operator, values, value, result = row
    shown = "MISSING" if value is MISSING else repr(value)
    return f"{operator}{values}-{shown}-{result}"


def test_table_covers_every_family_and_qualifier() -> None:
    operators = {operator for operator, _, _, _ in ROWS}
    for family in FAMILIES:
        assert any(op.split(":")[-1].startswith(family) for op in operators), family
    assert any(op.endswith("IfExists") for op in operators)
    assert any(op.startswith("ForAllValues:") for op in operators)
    assert any(op.startswith("ForAnyValue:") for op in operators)
    # both outcomes for missing keys, single and multivalued keys
    assert {r[3] for r in ROWS if r[2] is MISSING} == {True, False}
    assert {r[3] for r in ROWS if isinstance(r[2], list)} == {True, False}


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(r) for r in ROWS])
def test_condition_in_an_allow_statement(row: tuple[str, list[str], Any, bool]) -> None:
    operator, values, value, result = row
    body = document(statement("Allow", {operator: {KEY: values}}))
    decision = decide(body, context=_context(value))
    assert decision.effect.value == ("Allow" if result else "ImplicitDeny")


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(r) for r in ROWS])
def test_condition_in_a_deny_statement(row: tuple[str, list[str], Any, bool]) -> None:
    operator, values, value, result = row
    body = document(statement("Deny", {operator: {KEY: values}}))
    decision = decide(ALLOW_ALL, body, context=_context(value))
    assert decision.effect.value == ("ExplicitDeny" if result else "Allow")


# The W3C profile of ISO 8601 the Date operators cite (https://www.w3.org/TR/NOTE-datetime)
# lists "Complete date" YYYY-MM-DD and "Year and month" YYYY-MM among its formats.
W3C_DATES = [
    pytest.param("2020-01-01", id="complete-date"),
    pytest.param("2020-01-01T00:00Z", id="hours-minutes"),
    pytest.param("2020-01-01T00:00:00.5Z", id="fraction"),
    pytest.param("2020-01", id="year-month"),
]


@pytest.mark.parametrize("policy_date", W3C_DATES)
def test_date_operators_take_the_w3c_formats(policy_date: str) -> None:
    body = document(statement("Allow", {"DateGreaterThan": {"aws:CurrentTime": policy_date}}))
    later = decide(body, context={"aws:CurrentTime": "2020-06-01T00:00:00Z"})
    earlier = decide(body, context={"aws:CurrentTime": "2019-06-01T00:00:00Z"})
    assert (later.effect.value, earlier.effect.value) == ("Allow", "ImplicitDeny")
