"""Context entries: the AWS CLI's shorthand and JSON, checked against awscli's own parser.

The AWS CLI (installed as a dev dependency) is the independent oracle for the shorthand
syntax: ``awscli.argprocess.ParamShorthandParser`` turns ``--context-entries`` words into
``ContextEntry`` structures exactly as ``aws iam simulate-custom-policy`` would send them.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sigv4kit.middleware.iam.policy import (
    ContextEntry,
    ContextEntryError,
    ContextKeyType,
    context_mapping,
    parse_context_entries,
)


@pytest.fixture(scope="module")
def awscli_parse() -> Any:
    from awscli.argprocess import ParamShorthandParser
    from awscli.clidriver import create_clidriver

    command = (
        create_clidriver()
        ._get_command_table()["iam"]
        ._get_command_table()["simulate-custom-policy"]
    )
    argument = command.arg_table["context-entries"]
    parser = ParamShorthandParser()

    def parse(words: list[str]) -> list[dict[str, Any]] | None:
        parsed = parser(argument, words, "process-cli-arg.iam.simulate-custom-policy")
        return None if parsed is None else list(parsed)

    return parse


def _ours(words: list[str]) -> list[dict[str, object]]:
    return [entry.to_aws() for entry in parse_context_entries(words)]


AWSCLI_CASES = [
    # the AWS CLI reference's own example (simulate-custom-policy, Example 1)
    [
        "ContextKeyName='aws:CurrentTime',ContextKeyValues='2019-04-25T11:00:00Z',ContextKeyType=date"
    ],
    ["ContextKeyName=aws:TagKeys,ContextKeyValues=a,b,ContextKeyType=stringList"],
    [
        "ContextKeyName=aws:TagKeys,ContextKeyValues=a,b,c,ContextKeyType=stringList",
        "ContextKeyName=aws:SourceIp,ContextKeyValues=203.0.113.7,ContextKeyType=ip",
    ],
    ["ContextKeyName=k,ContextKeyValues=[a,b],ContextKeyType=stringList"],
    ["ContextKeyName=k,ContextKeyValues=[ a , b ],ContextKeyType=stringList"],
    ["ContextKeyValues=a,b,ContextKeyName=k,ContextKeyType=stringList"],
    ["ContextKeyType=stringList,ContextKeyValues=x,ContextKeyName=k"],
    ["ContextKeyName=k,ContextKeyValues=a\\,b,ContextKeyType=string"],
    ["ContextKeyName=k,ContextKeyValues=x=y,ContextKeyType=string"],
    ["ContextKeyName=k,ContextKeyValues=,ContextKeyType=string"],
    ["ContextKeyName=k , ContextKeyValues = a , b , ContextKeyType = stringList"],
    ['ContextKeyName=k,ContextKeyValues="a,b",c,ContextKeyType=stringList'],
    ["ContextKeyName=k,ContextKeyValues='it\\'s',ContextKeyType=string"],
    ["ContextKeyName=k,ContextKeyValues=a b,ContextKeyType=string"],
    ["ContextKeyName=aws:PrincipalTag/team,ContextKeyValues=*,ContextKeyType=string"],
    [
        "ContextKeyName=s3:prefix,ContextKeyValues=home/${aws:username}/,ContextKeyType=string"
    ],  # both refuse "}"
    ["ContextKeyName=s3:prefix,ContextKeyValues='home/${aws:username}/',ContextKeyType=string"],
    ["ContextKeyName=k,ContextKeyValues='a"],  # both refuse: unterminated quote
    [
        "ContextKeyName=aws:SourceArn,ContextKeyValues=arn:aws:sns:us-east-1:123456789012:t,ContextKeyType=string"
    ],
    [
        '[{"ContextKeyName": "aws:username", "ContextKeyValues": ["bob"], '
        '"ContextKeyType": "string"}]'
    ],
]


@pytest.mark.parametrize("words", AWSCLI_CASES, ids=[w[0][:60] for w in AWSCLI_CASES])
def test_shorthand_matches_the_aws_cli(awscli_parse: Any, words: list[str]) -> None:
    from awscli.argprocess import ParamError

    try:
        expected = awscli_parse(words)
    except ParamError:
        with pytest.raises(ContextEntryError):
            parse_context_entries(words)
        return
    if expected is None:  # JSON: the CLI leaves it to json.loads
        import json

        expected = [item for word in words for item in json.loads(word)]
    assert _ours(words) == expected


_VALUE = (
    st.text(alphabet="abcXYZ019:/._-*$@#%+ ", min_size=1, max_size=12).map(str.strip).filter(bool)
)
_KEY = st.sampled_from(
    ["aws:TagKeys", "aws:username", "s3:prefix", "aws:PrincipalTag/team", "ec2:InstanceType"]
)


@settings(max_examples=150, deadline=None)
@given(key=_KEY, values=st.lists(_VALUE, min_size=1, max_size=4))
def test_generated_lists_match_the_aws_cli(awscli_parse: Any, key: str, values: list[str]) -> None:
    word = f"ContextKeyName={key},ContextKeyValues={','.join(values)},ContextKeyType=stringList"
    assert _ours([word]) == awscli_parse([word])


def test_one_text_holds_several_entries() -> None:
    text = (
        "ContextKeyName=aws:TagKeys , ContextKeyValues=a,b,ContextKeyType=stringList "
        "ContextKeyName='aws:SourceIp',ContextKeyValues=203.0.113.7,ContextKeyType=ip"
    )
    assert parse_context_entries(text) == (
        ContextEntry(key="aws:TagKeys", values=("a", "b"), type=ContextKeyType.STRING_LIST),
        ContextEntry(key="aws:SourceIp", values=("203.0.113.7",), type=ContextKeyType.IP),
    )


def test_json_object_list_and_shorthand_agree() -> None:
    shorthand = parse_context_entries(
        "ContextKeyName=n,ContextKeyValues=1,2,ContextKeyType=numericList"
    )
    as_list = parse_context_entries(
        '[{"ContextKeyName":"n","ContextKeyValues":["1","2"],"ContextKeyType":"numericList"}]'
    )
    as_object = parse_context_entries(
        '{"ContextKeyName":"n","ContextKeyValues":["1","2"],"ContextKeyType":"numericList"}'
    )
    assert (
        shorthand
        == as_list
        == as_object
        == (ContextEntry(key="n", values=("1", "2"), type=ContextKeyType.NUMERIC_LIST),)
    )


def test_mapping_makes_list_types_multivalued() -> None:
    entries = parse_context_entries(
        [
            "ContextKeyName=aws:TagKeys,ContextKeyValues=a,ContextKeyType=stringList",
            "ContextKeyName=aws:username,ContextKeyValues=bob,ContextKeyType=string",
            "ContextKeyName=aws:MultiFactorAuthPresent,ContextKeyValues=TRUE,ContextKeyType=boolean",
        ]
    )
    assert context_mapping(entries) == {
        "aws:TagKeys": ("a",),
        "aws:username": "bob",
        "aws:MultiFactorAuthPresent": "true",
    }


@pytest.mark.parametrize(
    ("type_name", "value"),
    [
        ("numeric", "10"),
        ("numeric", "-2.5"),
        ("boolean", "false"),
        ("ip", "203.0.113.7"),
        ("ip", "2001:db8::/32"),
        ("binary", "QmluYXJ5VmFsdWVJbkJhc2U2NA=="),
        ("date", "2019-04-25T11:00:00Z"),
        ("date", "2019-04-25T13:00:00+02:00"),
        ("date", "1556190000"),
        ("string", ""),
    ],
)
def test_typed_values_are_accepted(type_name: str, value: str) -> None:
    (entry,) = parse_context_entries(
        [f"ContextKeyName=k,ContextKeyValues='{value}',ContextKeyType={type_name}"]
    )
    assert entry.type == ContextKeyType(type_name)
    assert len(entry.values) == 1


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["ContextKeyName=k,ContextKeyValues=ten,ContextKeyType=numeric"], "'ten' is not a number"),
        (["ContextKeyName=k,ContextKeyValues=NaN,ContextKeyType=numeric"], "not a finite number"),
        (
            ["ContextKeyName=k,ContextKeyValues=yes,ContextKeyType=boolean"],
            "'yes' is not true or false",
        ),
        (["ContextKeyName=k,ContextKeyValues=300.1.1.1,ContextKeyType=ip"], "not an IP address"),
        (["ContextKeyName=k,ContextKeyValues=!!,ContextKeyType=binary"], "not base64"),
        (
            ["ContextKeyName=k,ContextKeyValues=yesterday,ContextKeyType=date"],
            "not an ISO 8601 date",
        ),
        (
            ["ContextKeyName=k,ContextKeyValues=a,b,ContextKeyType=string"],
            "takes exactly one value, got 2",
        ),
        (
            ["ContextKeyName=k,ContextKeyValues=a,ContextKeyType=text"],
            "ContextKeyType must be one of",
        ),
        (["ContextKeyName=k,ContextKeyValues=a"], "ContextKeyType is required"),
        (["ContextKeyValues=a,ContextKeyType=string"], "ContextKeyName is required"),
        (
            ["ContextKeyName=k,ContextKeyValue=a,ContextKeyType=string"],
            "unknown member 'ContextKeyValue'",
        ),
        (["ContextKeyName=k,ContextKeyName=j"], "ContextKeyName given twice"),
        (
            ["ContextKeyName=k,ContextKeyValues=a,b=c,ContextKeyType=stringList"],
            "unknown member 'b'",
        ),
        (["ContextKeyName=k,ContextKeyValues='a,ContextKeyType=string"], "unterminated ' quote"),
        (["ContextKeyName"], "expected '='"),
        (
            [
                "ContextKeyName=a,ContextKeyValues=x,ContextKeyType=string",
                "ContextKeyName=A,ContextKeyValues=y,ContextKeyType=string",
            ],
            "given twice",
        ),
        (['[{"ContextKeyName": "k",'], "invalid JSON"),
        (['["k"]'], "expected a JSON object"),
        (
            ['{"ContextKeyName": "k", "ContextKeyValues": [1], "ContextKeyType": "numeric"}'],
            "list of strings",
        ),
    ],
)
def test_bad_entries_name_the_problem(words: list[str], message: str) -> None:
    with pytest.raises(ContextEntryError, match="context") as info:
        parse_context_entries(words)
    assert message in str(info.value)


def test_empty_text_is_refused() -> None:
    with pytest.raises(ContextEntryError, match="no context entries"):
        parse_context_entries("   ")
