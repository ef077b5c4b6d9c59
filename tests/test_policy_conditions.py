"""Condition operators, one condition at a time.

Expected values are worked out by hand from the IAM User Guide pages
reference_policies_elements_condition_operators (CO), reference_policies_elements_condition (C),
reference_policies_multi-value-conditions and
reference_policies_condition_examples-multi-valued-context-keys (MV), reference_policies_variables
(V). Epoch seconds were checked with GNU date (``date -u -d @1795780800`` is 2026-11-27 12:00:00
UTC), base64 with coreutils (``echo -n BinaryValue | base64`` is ``QmluYXJ5VmFsdWU=``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sigv4kit.middleware.iam.policy import Condition
from sigv4kit.middleware.iam.policy._conditions import ConditionError, compile_condition

Context = dict[str, str | list[str]]


def condition(operator: str, key: str, values: str | Sequence[str]) -> Condition:
    """A Condition as the parser builds it (qualifier and IfExists split off by hand here)."""
    qualifier, _, rest = operator.rpartition(":")
    if_exists = rest.endswith("IfExists")
    base = rest.removesuffix("IfExists") if if_exists else rest
    return Condition(operator=operator, base=base, qualifier=qualifier, if_exists=if_exists,
                     key=key, values=(values,) if isinstance(values, str) else tuple(values))


def lookup(context: Context):  # type: ignore[no-untyped-def]
    lowered = {key.lower(): value for key, value in context.items()}
    return lambda key: lowered.get(key.lower())


def holds(operator: str, key: str, values: str | Sequence[str], context: Context, *,
          variables: bool = True) -> bool:
    compiled = compile_condition(condition(operator, key, values), variables=variables)
    return compiled.evaluate(lookup(context), set())


def missing_keys(
    operator: str, key: str, values: str | Sequence[str], context: Context
) -> set[str]:
    missing: set[str] = set()
    compile_condition(condition(operator, key, values), variables=True).evaluate(
        lookup(context), missing)
    return missing


# -- String (CO, "String condition operators") -----------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "value", "expected"),
    [
        ("StringEquals", "bob", "bob", True),
        ("StringEquals", "bob", "Bob", False),  # case-sensitive
        ("StringEquals", ["alice", "bob"], "bob", True),  # OR across values
        ("StringEquals", "a*", "abc", False),  # no wildcards in StringEquals
        ("StringEquals", "a*", "a*", True),
        ("StringNotEquals", ["alice", "bob"], "carol", True),  # NOR: matches none
        ("StringNotEquals", ["alice", "bob"], "bob", False),
        ("StringEqualsIgnoreCase", "Finance", "fINANCE", True),
        ("StringEqualsIgnoreCase", "Finance", "Finances", False),
        ("StringNotEqualsIgnoreCase", "Finance", "FINANCE", False),
        ("StringNotEqualsIgnoreCase", "Finance", "Sales", True),
        ("StringLike", "home/*", "home/bob/notes.txt", True),
        ("StringLike", "home/*", "Home/bob", False),
        ("StringLike", "file?.txt", "file1.txt", True),
        ("StringLike", "file?.txt", "file10.txt", False),
        ("StringLike", ["a*", "b*"], "bcd", True),
        ("StringNotLike", ["a*", "b*"], "cde", True),
        ("StringNotLike", ["a*", "b*"], "bcd", False),
    ],
)
def test_string_operators(operator: str, values: str | list[str], value: str,
                          expected: bool) -> None:
    assert holds(operator, "aws:PrincipalTag/x", values, {"aws:PrincipalTag/x": value}) is expected


# -- Numeric, Date, Bool, Binary, IP --------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "value", "expected"),
    [
        ("NumericEquals", "10", "10", True),
        ("NumericEquals", "1.0", "1", True),  # numbers, not strings
        ("NumericNotEquals", ["1", "2"], "3", True),
        ("NumericNotEquals", ["1", "2"], "2", False),
        ("NumericLessThan", "10", "9", True),
        ("NumericLessThan", "10", "10", False),
        ("NumericLessThanEquals", "10", "10", True),
        ("NumericGreaterThan", "10", "10.5", True),
        ("NumericGreaterThanEquals", "10", "9.99", False),
        ("NumericLessThanEquals", "3600", "-1", True),
    ],
)
def test_numeric_operators(operator: str, values: str | list[str], value: str,
                           expected: bool) -> None:
    assert holds(operator, "aws:MultiFactorAuthAge", values,
                 {"aws:MultiFactorAuthAge": value}) is expected


@pytest.mark.parametrize(
    ("operator", "values", "value", "expected"),
    [
        ("DateLessThan", "2027-01-01T00:00:00Z", "2026-11-27T12:00:00Z", True),
        ("DateGreaterThan", "2027-01-01T00:00:00Z", "2026-11-27T12:00:00Z", False),
        # Epoch seconds and ISO 8601 compare as the same instant.
        ("DateEquals", "2026-11-27T12:00:00Z", "1795780800", True),
        ("DateEquals", "1795780800", "2026-11-27T13:00:00+01:00", True),
        ("DateLessThanEquals", "1795780800", "1795780800", True),
        ("DateLessThan", "1795780800", "1795780800", False),
        ("DateGreaterThanEquals", "2026-11-27", "2026-11-27T00:00:00Z", True),  # a date is midnight
        ("DateNotEquals", ["2026-11-27T12:00:00Z", "2020-01-01T00:00:00Z"], "1795780801", True),
        ("DateNotEquals", ["2026-11-27T12:00:00Z"], "1795780800", False),
    ],
)
def test_date_operators(operator: str, values: str | list[str], value: str,
                        expected: bool) -> None:
    assert holds(operator, "aws:CurrentTime", values, {"aws:CurrentTime": value}) is expected


def test_bool_compares_true_and_false_in_any_case() -> None:
    assert holds("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": "True"})
    assert not holds("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": "false"})
    assert holds("Bool", "aws:SecureTransport", "FALSE", {"aws:SecureTransport": "false"})


def test_bool_with_a_missing_key_is_the_mfa_pitfall() -> None:
    # C / condition keys page: long-term keys carry no aws:MultiFactorAuthPresent, so
    # Bool {..: false} does not match them, while BoolIfExists {..: false} does.
    assert not holds("Bool", "aws:MultiFactorAuthPresent", "false", {})
    assert holds("BoolIfExists", "aws:MultiFactorAuthPresent", "false", {})
    assert not holds("BoolIfExists", "aws:MultiFactorAuthPresent", "false",
                     {"aws:MultiFactorAuthPresent": "true"})


def test_binary_equals_compares_bytes() -> None:
    assert holds("BinaryEquals", "s3:x", "QmluYXJ5VmFsdWU=", {"s3:x": "QmluYXJ5VmFsdWU="})
    assert not holds("BinaryEquals", "s3:x", "QmluYXJ5VmFsdWU=", {"s3:x": "QmluYXJ5VmFsdWF="})


@pytest.mark.parametrize(
    ("operator", "values", "value", "expected"),
    [
        ("IpAddress", "203.0.113.0/24", "203.0.113.7", True),
        ("IpAddress", "203.0.113.0/24", "203.0.114.7", False),
        ("IpAddress", ["198.51.100.0/24", "203.0.113.0/24"], "203.0.113.255", True),
        ("IpAddress", "203.0.113.7", "203.0.113.7", True),  # a bare address is a /32
        ("IpAddress", "203.0.113.7", "203.0.113.8", False),
        # CO's IPv6 example: "2001:DB8:1234:5678::/64".
        ("IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5678::1", True),
        ("IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5679::1", False),
        ("IpAddress", "0.0.0.0/0", "2001:db8::1", False),  # IPv6 never in an IPv4 block
        ("IpAddress", "::/0", "203.0.113.7", False),
        ("NotIpAddress", ["203.0.113.0/24", "198.51.100.0/24"], "192.0.2.1", True),
        ("NotIpAddress", ["203.0.113.0/24", "198.51.100.0/24"], "198.51.100.9", False),
    ],
)
def test_ip_operators(operator: str, values: str | list[str], value: str,
                      expected: bool) -> None:
    assert holds(operator, "aws:SourceIp", values, {"aws:SourceIp": value}) is expected


# -- ARN (CO, "Amazon Resource Name (ARN) condition operators") ---------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("ArnLike", "arn:aws:someservice:us-east-2:111122223333:finance/document.txt", True),
        # The documented non-match: each of the six components is matched separately.
        ("ArnLike",
         "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
         False),
        ("ArnEquals", "arn:aws:someservice:us-east-2:111122223333:finance/x", True),
        ("ArnNotLike", "arn:aws:someservice:us-east-2:999999999999:finance/x", True),
        ("ArnNotEquals", "arn:aws:someservice:us-east-2:111122223333:finance/x", False),
        ("ArnLike", "not-an-arn", False),
    ],
)
def test_arn_operators(operator: str, value: str, expected: bool) -> None:
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    assert holds(operator, "aws:SourceArn", pattern, {"aws:SourceArn": value}) is expected


# -- Null and missing keys (CO "Important" box; C; MV) ---------------------------------------------


def test_null_checks_existence_only() -> None:
    assert holds("Null", "aws:TokenIssueTime", "true", {})
    assert not holds("Null", "aws:TokenIssueTime", "true", {"aws:TokenIssueTime": "x"})
    assert holds("Null", "aws:TokenIssueTime", "false", {"aws:TokenIssueTime": "x"})
    assert not holds("Null", "aws:TokenIssueTime", "false", {})
    assert holds("Null", "aws:TagKeys", "true", {"aws:TagKeys": []})  # empty set: null


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", False), ("StringLike", False), ("NumericLessThan", False),
        ("DateGreaterThan", False), ("Bool", False), ("IpAddress", False), ("ArnLike", False),
        ("BinaryEquals", False),
        # Negated operators are true when the key is missing.
        ("StringNotEquals", True), ("StringNotLike", True), ("StringNotEqualsIgnoreCase", True),
        ("NumericNotEquals", True), ("DateNotEquals", True), ("NotIpAddress", True),
        ("ArnNotLike", True), ("ArnNotEquals", True),
        # ...IfExists: true when missing, whatever the operator.
        ("StringEqualsIfExists", True), ("NumericLessThanIfExists", True),
        ("IpAddressIfExists", True),
        # Set operators: ForAllValues true, ForAnyValue false.
        ("ForAllValues:StringEquals", True), ("ForAnyValue:StringEquals", False),
        ("ForAllValues:StringNotEquals", True), ("ForAnyValue:StringNotEquals", False),
        ("ForAnyValue:StringEqualsIfExists", True),
    ],
)
def test_missing_key(operator: str, expected: bool) -> None:
    values = {"Numeric": "1", "Date": "2020-01-01T00:00:00Z", "Bool": "true",
              "IpAddr": "10.0.0.0/8", "NotIpAd": "10.0.0.0/8", "ArnLike": "arn:aws:s3:::*",
              "ArnNotL": "arn:aws:s3:::*", "ArnNotE": "arn:aws:s3:::*", "BinaryE": "AA=="}
    value = next((v for prefix, v in values.items()
                  if operator.split(":")[-1].startswith(prefix)), "x")
    assert holds(operator, "aws:SomeKey", value, {}) is expected
    assert missing_keys(operator, "aws:SomeKey", value, {}) == {"aws:SomeKey"}


def test_single_valued_operator_on_a_multivalued_key_does_not_match() -> None:
    context: Context = {"aws:TagKeys": ["a"]}
    assert not holds("StringEquals", "aws:TagKeys", "a", context)
    assert not holds("StringNotEquals", "aws:TagKeys", "b", context)
    assert not holds("StringLike", "aws:TagKeys", "*", context)


# -- Set operators (MV) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "request_values", "expected"),
    [
        ("ForAllValues:StringEquals", ["a"], True),
        ("ForAllValues:StringEquals", ["a", "b"], True),
        ("ForAllValues:StringEquals", ["a", "c"], False),
        ("ForAllValues:StringEquals", [], True),  # empty set: vacuously true
        ("ForAnyValue:StringEquals", ["c", "a"], True),
        ("ForAnyValue:StringEquals", ["c"], False),
        ("ForAnyValue:StringEquals", [], False),
        # Negated: the per-value test is "matches none of the policy values".
        ("ForAllValues:StringNotEquals", ["c", "d"], True),
        ("ForAllValues:StringNotEquals", ["a", "c"], False),
        ("ForAnyValue:StringNotEquals", ["a", "c"], True),
        ("ForAnyValue:StringNotEquals", ["a", "b"], False),
        # A single request value is a one-element set.
        ("ForAnyValue:StringEquals", "b", True),
        ("ForAllValues:StringEquals", "c", False),
    ],
)
def test_set_operators(operator: str, request_values: str | list[str], expected: bool) -> None:
    assert holds(operator, "aws:TagKeys", ["a", "b"], {"aws:TagKeys": request_values}) is expected


@pytest.mark.parametrize(
    ("tag_keys", "expected"),
    [
        (["key1:legal"], False),
        (["key1:hr", "key1:personnel"], False),
        (["key2:audit"], True),
        (None, True),  # "There is no aws:TagKeys in the request context" -> match
    ],
)
def test_documented_for_all_values_string_not_like_table(tag_keys: list[str] | None,
                                                         expected: bool) -> None:
    # MV, "Deny a single policy condition value for a multivalued context key".
    context: Context = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
    assert holds("ForAllValues:StringNotLike", "aws:TagKeys", "key1*", context) is expected


# -- Policy variables in condition values (V) -----------------------------------------------------


def test_variable_in_a_string_condition() -> None:
    context: Context = {"aws:username": "bob", "s3:prefix": "home/bob/"}
    assert holds("StringLike", "s3:prefix", "home/${aws:username}/*", context)
    assert not holds("StringLike", "s3:prefix", "home/${aws:username}/*",
                     {"aws:username": "alice", "s3:prefix": "home/bob/"})


def test_variables_are_literal_without_version_2012() -> None:
    context: Context = {"aws:username": "bob", "s3:prefix": "home/${aws:username}/x"}
    assert holds("StringLike", "s3:prefix", "home/${aws:username}/*", context, variables=False)
    assert not holds("StringLike", "s3:prefix", "home/${aws:username}/*", context)


def test_unresolvable_variable_matches_nothing() -> None:
    context: Context = {"aws:PrincipalTag/owner": "bob"}
    assert not holds("StringEquals", "aws:PrincipalTag/owner", "${aws:username}", context)
    # A negated operator: the unresolvable value matches nothing, so "matches none" holds.
    assert holds("StringNotEquals", "aws:PrincipalTag/owner", "${aws:username}", context)
    assert missing_keys("StringEquals", "aws:PrincipalTag/owner", "${aws:username}",
                        context) == {"aws:username"}


def test_variable_default_value() -> None:
    context: Context = {"aws:ResourceTag/team": "company-wide"}
    assert holds("StringEquals", "aws:ResourceTag/team",
                 "${aws:PrincipalTag/team, 'company-wide'}", context)


def test_substituted_value_is_not_a_wildcard() -> None:
    context: Context = {"aws:PrincipalTag/team": "*", "s3:prefix": "anything"}
    assert not holds("StringLike", "s3:prefix", "${aws:PrincipalTag/team}", context)
    assert holds("StringLike", "s3:prefix", "${aws:PrincipalTag/team}",
                 {"aws:PrincipalTag/team": "*", "s3:prefix": "*"})


def test_escapes_in_condition_values() -> None:
    assert holds("StringEquals", "k:x", "a${*}b${?}c${$}", {"k:x": "a*b?c$"})


def test_variables_only_in_string_arn_and_bool_values() -> None:
    # V: Numeric values do not take variables: the text stays literal and is not a number.
    with pytest.raises(ConditionError):
        holds("NumericLessThan", "k:n", "${aws:EpochTime}", {"k:n": "1", "aws:EpochTime": "2"})
    assert holds("Bool", "k:b", "${aws:SecureTransport}",
                 {"k:b": "true", "aws:SecureTransport": "true"})


# -- Errors fail closed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "context"),
    [
        ("NumericLessThan", "10", {"k:x": "ten"}),
        ("NumericLessThan", "ten", {"k:x": "1"}),
        ("DateLessThan", "2020-13-45", {"k:x": "2020-01-01"}),
        ("DateLessThan", "2020-01-01", {"k:x": "yesterday"}),
        ("Bool", "true", {"k:x": "yes"}),
        ("Bool", "maybe", {"k:x": "true"}),
        ("BinaryEquals", "not base64!", {"k:x": "AA=="}),
        ("IpAddress", "10.0.0.0/8", {"k:x": "not-an-ip"}),
        ("IpAddress", "10.0.0.0/33", {"k:x": "10.0.0.1"}),
        ("StringEqualsWithTypo", "x", {"k:x": "x"}),
        ("Null", "maybe", {}),
        ("StringEquals", "${aws:username", {"k:x": "x"}),  # malformed variable
    ],
)
def test_unevaluable_conditions_raise(operator: str, values: str, context: Context) -> None:
    with pytest.raises(ConditionError):
        holds(operator, "k:x", values, context)


def test_w3c_year_and_month_is_the_first_of_the_month() -> None:
    # https://www.w3.org/TR/NOTE-datetime "Year and month: YYYY-MM" (cited by CO for Date values).
    assert holds("DateEquals", "aws:CurrentTime", "2020-02", {"aws:CurrentTime": "2020-02-01"})
    assert holds("DateGreaterThan", "aws:CurrentTime", "2020-01",
                 {"aws:CurrentTime": "2020-01-01T00:00:01Z"})


def test_an_empty_string_is_an_empty_set_for_set_operators() -> None:
    # reference_policies_multi-value-conditions: "If the key values in the request resolve to an
    # empty data set (for example, an empty string), a condition operator modified by
    # ForAllValues returns true ... ForAnyValue returns false."
    context: Context = {"dynamodb:Attributes": ""}
    assert holds("ForAllValues:StringEquals", "dynamodb:Attributes", ["ID"], context)
    assert not holds("ForAnyValue:StringLike", "dynamodb:Attributes", ["*"], context)
    # Without a set operator an empty string is just a value.
    assert holds("StringEquals", "dynamodb:Attributes", "", context)
