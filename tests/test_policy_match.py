"""The policy wildcard matcher: ``*``/``?`` globs, ARN segments, policy variables in patterns.

Expected values are worked out by hand from the IAM User Guide pages cited next to each case; the
property test compares against a textbook dynamic-programming matcher written here (an oracle that
shares no code with the matcher under test).
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sigv4kit.middleware.iam.policy._match import (
    Wildcard,
    arn_like,
    compile_arn_pattern,
    compile_glob,
    compile_pattern,
    glob_tokens,
    split_arn,
    wildcard_match,
)
from sigv4kit.middleware.iam.policy._variables import (
    Literal,
    Variable,
    VariableSyntaxError,
    as_text,
    parse_template,
    pattern_matcher,
    substitute,
)


def oracle(pattern: str, text: str) -> bool:
    """Textbook DP glob match: ``*`` any run, ``?`` one character."""

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(text)
        if pattern[i] == "*":
            return match(i + 1, j) or (j < len(text) and match(i, j + 1))
        return j < len(text) and pattern[i] in ("?", text[j]) and match(i + 1, j + 1)

    return match(0, 0)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*", "", True),
        ("*", "anything:at/all", True),
        ("", "", True),
        ("", "a", False),
        ("abc", "abc", True),
        ("abc", "abcd", False),
        ("abc", "ABC", False),  # case-sensitive unless the caller lower-cases
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a?c", "abbc", False),
        ("???", "abc", True),
        ("???", "ab", False),
        ("a*", "a", True),
        ("*a", "ba", True),
        ("*a", "ab", False),
        ("a*b", "ab", True),
        ("a*b", "aXb", True),
        ("a*b", "aXbY", False),
        ("a*b*c", "abc", True),
        ("a*b*c", "aXbYbZc", True),
        ("a*b*c", "acb", False),
        ("*b*", "abc", True),
        ("*b?d*", "xxbcdyy", True),
        ("*b?d*", "xxbdyy", False),
        ("ab*ba", "aba", False),  # head and tail must not overlap
        ("ab*ba", "abba", True),
        ("a**b", "ab", True),
        ("a.c", "abc", False),  # '.' is literal (no regex)
        ("a+c", "a+c", True),
        ("[ab]", "a", False),  # no character classes
        ("[ab]", "[ab]", True),
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("*?", "", False),
        ("?*?", "ab", True),
        ("*a?b*", "xaab", True),
        ("*a?b*", "xab", False),
        ("*a?b*", "xaxb", True),
    ],
)
def test_wildcard_match(pattern: str, text: str, expected: bool) -> None:
    assert wildcard_match(pattern, text) is expected


def test_actions_are_matched_case_insensitively() -> None:
    # reference_policies_elements_action: "iam:ListAccessKeys is the same as IAM:listaccesskeys".
    assert compile_pattern("iam:ListAccessKeys", ignore_case=True)("IAM:listaccesskeys")
    assert compile_pattern("S3:get*", ignore_case=True)("s3:GetObject")
    assert not compile_pattern("s3:get*", ignore_case=True)("s3:PutObject")


def test_glob_tokens_reads_wildcards() -> None:
    assert glob_tokens("a*b?c") == ("a", Wildcard.STAR, "b", Wildcard.ANY_CHAR, "c")
    assert glob_tokens("") == ()


def test_literal_tokens_are_never_wildcards() -> None:
    # A substituted value is literal: a token holding "*" matches only "*".
    matcher = compile_glob(("team/", "*", Wildcard.STAR))
    assert matcher("team/*/x")
    assert not matcher("team/a/x")
    assert compile_glob(("a?",))("a?")
    assert not compile_glob(("a?",))("ab")


@pytest.mark.parametrize("stars", [5, 20, 60])
def test_adversarial_patterns_are_answered_correctly(stars: int) -> None:
    # Patterns that make backtracking matchers explode; only correctness is asserted.
    text = "a" * 20_000
    assert wildcard_match("a*" * stars + "b", text) is False
    assert wildcard_match("a*" * stars + "a", text) is True
    assert wildcard_match("*a" * stars + "*b*", text) is False
    assert wildcard_match("?*" * stars + "b", text + "b") is True
    assert wildcard_match("*aab" * 3, ("a" * 500 + "b") * 3) is True
    assert wildcard_match("*a?b" * 3 + "*", "ab" * 5000) is False


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab*?", max_size=8), st.text(alphabet="ab*?", max_size=10))
def test_matches_a_textbook_oracle(pattern: str, text: str) -> None:
    assert wildcard_match(pattern, text) is oracle(pattern, text)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        # reference_policies_elements_condition_operators, ARN condition operators: each of the six
        # colon-delimited components is checked separately, so this ArnLike does not match although
        # StringLike would.
        ("arn:aws:someservice:*:111122223333:finance/*",
         "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
         False),
        ("arn:aws:someservice:*:111122223333:finance/*",
         "arn:aws:someservice:us-east-2:111122223333:finance/document.txt", True),
        # The resource part may contain colons and slashes; a '*' there spans both.
        ("arn:aws:sns:us-east-1:123456789012:*", "arn:aws:sns:us-east-1:123456789012:topic:sub/x",
         True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
        ("arn:aws:iam::*:role/Admin?", "arn:aws:iam::111122223333:role/Admin1", True),
        ("arn:aws:iam::*:role/Admin?", "arn:aws:iam::111122223333:role/Admin12", False),
        # ARNs are case-sensitive.
        ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x", False),
        # A value that is not an ARN does not match a six-segment pattern.
        ("arn:aws:s3:::*", "*", False),
        ("arn:aws:s3:::*", "not-an-arn", False),
        # "*" (no colons) matches every value.
        ("*", "*", True),
        ("*", "arn:aws:s3:::x", True),
    ],
)
def test_arn_like(pattern: str, value: str, expected: bool) -> None:
    assert arn_like(pattern, value) is expected
    assert compile_arn_pattern(pattern)(value) is expected


def test_split_arn_keeps_colons_in_the_resource() -> None:
    assert split_arn("arn:aws:sns:us-east-1:1:topic:sub") == [
        "arn", "aws", "sns", "us-east-1", "1", "topic:sub"]
    assert split_arn("arn:aws:s3") is None


def test_wildcards_do_not_cross_arn_segments() -> None:
    # '*' in the region segment must not absorb the account segment.
    assert not arn_like("arn:aws:ec2:*:111122223333:instance/*",
                        "arn:aws:ec2:us-east-1:444455556666:x:111122223333:instance/i-1")


# -- policy variables in patterns (reference_policies_variables) ----------------------------------


def context(values: dict[str, str | list[str]]):  # type: ignore[no-untyped-def]
    lowered = {key.lower(): value for key, value in values.items()}
    return lambda key: lowered.get(key.lower())


def test_variables_are_literal_text_without_version_2012() -> None:
    assert parse_template("arn:aws:s3:::b/${aws:username}/*", variables=False) == (
        "arn:aws:s3:::b/${aws:username}/*",)


def test_template_parts() -> None:
    assert parse_template("home/${aws:username}/${*}x", variables=True) == (
        "home/", Variable("aws:username"), "/", Literal("*"), "x")
    assert parse_template("${aws:PrincipalTag/team, 'company-wide'}", variables=True) == (
        Variable("aws:PrincipalTag/team", "company-wide"),)
    assert parse_template("${?}${$}", variables=True) == (Literal("?"), Literal("$"))


@pytest.mark.parametrize("text", ["${aws:username", "${}", "${a b}", "${aws:x, none}"])
def test_malformed_variables_raise(text: str) -> None:
    with pytest.raises(VariableSyntaxError):
        parse_template(text, variables=True)


def test_variable_keys_are_case_insensitive_and_defaults_apply() -> None:
    template = parse_template("${AWS:UserName}-${aws:PrincipalTag/team, 'none'}", variables=True)
    parts = substitute(template, context({"aws:username": "bob"}))
    assert not isinstance(parts, Variable)
    assert as_text(parts) == "bob-none"


def test_unresolvable_variable_is_reported() -> None:
    template = parse_template("x/${aws:username}", variables=True)
    assert substitute(template, context({})) == Variable("aws:username")
    # A multivalued context value cannot be substituted.
    assert substitute(template, context({"aws:username": ["a", "b"]})) == Variable("aws:username")


def test_substituted_wildcards_are_literal() -> None:
    # A tag value "*" must not become a wildcard (reference_policies_variables; IAM.md §1.4).
    template = parse_template("arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*", variables=True)
    parts = substitute(template, context({"aws:PrincipalTag/team": "*"}))
    assert not isinstance(parts, Variable)
    matcher = pattern_matcher(parts, arn=True)
    assert matcher("arn:aws:s3:::bucket/*/report.txt")
    assert not matcher("arn:aws:s3:::bucket/finance/report.txt")


def test_escapes_are_literal_but_policy_wildcards_stay() -> None:
    template = parse_template("a${*}b*", variables=True)
    parts = substitute(template, context({}))
    assert not isinstance(parts, Variable)
    matcher = pattern_matcher(parts, arn=False)
    assert matcher("a*bxyz")
    assert not matcher("aXbxyz")


def test_substituted_colons_do_not_create_arn_segments() -> None:
    template = parse_template("arn:aws:s3:::${aws:username}", variables=True)
    parts = substitute(template, context({"aws:username": "a:b:c"}))
    assert not isinstance(parts, Variable)
    assert pattern_matcher(parts, arn=True)("arn:aws:s3:::a:b:c")


def test_variable_in_the_account_segment() -> None:
    template = parse_template("arn:aws:iam::${aws:PrincipalAccount}:user/*", variables=True)
    parts = substitute(template, context({"aws:PrincipalAccount": "111122223333"}))
    assert not isinstance(parts, Variable)
    matcher = pattern_matcher(parts, arn=True)
    assert matcher("arn:aws:iam::111122223333:user/bob")
    assert not matcher("arn:aws:iam::444455556666:user/bob")
