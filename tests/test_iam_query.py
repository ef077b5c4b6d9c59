"""The Query protocol against botocore, the independent oracle.

Requests: botocore's own ``QuerySerializer`` writes the form body for generated
inputs of every IAM and STS operation; ``read_params`` must read back exactly
those inputs. Responses: ``serialize_response`` writes generated outputs of every
operation; botocore's ``QueryParser`` (what boto3 runs) must read back exactly
those outputs. Validation messages are compared with AWS's documented wording.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import botocore.parsers
import botocore.serialize
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigv4kit.middleware.iam.api import (
    QueryError,
    decode_form,
    load_service_model,
    parse_query_request,
    read_params,
    serialize_error,
    serialize_response,
)

IAM = load_service_model("iam")
STS = load_service_model("sts")
OPERATIONS = [(model, name) for model in (IAM, STS) for name in model.operation_names]

# Text XML 1.0 can carry (botocore's parser rejects the rest, as any XML parser must).
_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32)]))
        + "\ufffe\uffff",
    ),
    max_size=12,
)
_TIMES = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=(t.microsecond // 1000) * 1000))


def _values(shape: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of any botocore shape (types only: constraints are not applied)."""
    kind = shape.type_name
    if kind == "structure":
        required = {n: _values(m, depth + 1) for n, m in shape.members.items()
                    if n in shape.required_members}
        # Deep down, only the required members (the models' required chains are finite).
        optional = {} if depth > 4 else {n: _values(m, depth + 1) for n, m in
                                         shape.members.items() if n not in shape.required_members}
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        return st.lists(_values(shape.member, depth + 1), max_size=3 if depth < 4 else 0)
    if kind == "map":
        return st.dictionaries(
            st.text(string.ascii_letters, min_size=1, max_size=6), _values(shape.value, depth + 1),
            max_size=3 if depth < 4 else 0,
        )
    if kind == "string":
        return st.sampled_from(shape.enum) if shape.enum else _TEXT
    if kind in ("integer", "long"):
        return st.integers(-(2**31), 2**31 - 1)
    if kind == "boolean":
        return st.booleans()
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False, width=64)
    if kind == "timestamp":
        return _TIMES
    if kind == "blob":
        return st.binary(max_size=16)
    raise AssertionError(f"no strategy for {kind}")


_ABSENT = object()


def _as_sent(value: Any) -> Any:
    """``value`` as the query protocol carries it: an empty structure leaves no field.

    So an empty structure reads back as absent, and so does a list whose items
    are all empty structures (an empty list is sent as ``Name=`` and stays).
    """
    if isinstance(value, dict):
        cleaned = {k: _as_sent(v) for k, v in value.items()}
        kept = {k: v for k, v in cleaned.items() if v is not _ABSENT}
        return kept if kept else _ABSENT
    if isinstance(value, list):
        items = [_as_sent(v) for v in value]
        kept_items = [v for v in items if v is not _ABSENT]
        return kept_items if kept_items or not value else _ABSENT
    return value


def _form_body(model: Any, name: str, params: dict[str, Any]) -> dict[str, str]:
    serializer = botocore.serialize.create_serializer("query", include_validation=False)
    request = serializer.serialize_to_request(params, model.operation_model(name))
    # What goes on the wire: botocore's fields, form-encoded as its HTTP layer does.
    return decode_form(urlencode(request["body"]))


@pytest.mark.parametrize(("model", "name"), OPERATIONS, ids=lambda v: getattr(v, "service_name", v))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_reads_what_botocore_sends(model: Any, name: str, data: st.DataObject) -> None:
    operation = model.operation_model(name)
    if operation.input_shape is None:
        assert read_params(None, {}) == {}
        return
    params = data.draw(_values(operation.input_shape))
    form = _form_body(model, name, params)
    assert form.pop("Action") == name
    assert form.pop("Version") == model.metadata["apiVersion"]
    sent = _as_sent(params)
    assert read_params(operation.input_shape, form) == ({} if sent is _ABSENT else sent)


@pytest.mark.parametrize(("model", "name"), OPERATIONS, ids=lambda v: getattr(v, "service_name", v))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_botocore_parses_what_we_write(model: Any, name: str, data: st.DataObject) -> None:
    operation = model.operation_model(name)
    result = {} if operation.output_shape is None else data.draw(_values(operation.output_shape))
    body = serialize_response(operation, result, request_id="c0ffee")
    parsed = botocore.parsers.create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 200}, operation.output_shape
    )
    assert parsed.pop("ResponseMetadata")["RequestId"] == "c0ffee"
    assert parsed == result


def test_create_user_document_is_iams() -> None:
    # The shape of IAM's documented CreateUser response (IAM API reference, CreateUser, Examples).
    operation = IAM.operation_model("CreateUser")
    user = {
        "Path": "/division_abc/subdivision_xyz/",
        "UserName": "Bob",
        "UserId": "AIDACKCEVSQ6C2EXAMPLE",
        "Arn": "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob",
        "CreateDate": datetime(2013, 1, 21, 22, 39, 57, tzinfo=UTC),
    }
    body = serialize_response(operation, {"User": user}, request_id="7a62c49f")
    assert body == (
        b'<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        b"<CreateUserResult><User><Path>/division_abc/subdivision_xyz/</Path>"
        b"<UserName>Bob</UserName><UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>"
        b"<Arn>arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob</Arn>"
        b"<CreateDate>2013-01-21T22:39:57Z</CreateDate></User></CreateUserResult>"
        b"<ResponseMetadata><RequestId>7a62c49f</RequestId></ResponseMetadata>"
        b"</CreateUserResponse>"
    )


def test_error_document_parses_as_botocore_error() -> None:
    body = serialize_error(
        IAM, code="NoSuchEntity", message="The user with name bob cannot be found.",
        request_id="r1",
    )
    parsed = botocore.parsers.create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 404}, None
    )
    assert parsed["Error"] == {
        "Type": "Sender",
        "Code": "NoSuchEntity",
        "Message": "The user with name bob cannot be found.",
    }
    assert parsed["ResponseMetadata"]["RequestId"] == "r1"


def test_text_that_needs_escaping_survives() -> None:
    operation = IAM.operation_model("GetUser")
    user = {
        "Path": "/", "UserName": "a&b<c>\"'\r\n\t", "UserId": "AIDA", "Arn": "x",
        "CreateDate": datetime(2020, 1, 1, tzinfo=UTC),
    }
    body = serialize_response(operation, {"User": user}, request_id="r")
    parsed = botocore.parsers.create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 200}, operation.output_shape
    )
    assert parsed["User"]["UserName"] == "a&b<c>\"'\r\n\t"


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"User": {"UserName": "b"}}, "User requires Path"),
        ({"Nope": 1}, "has no members ['Nope']"),
        ({}, "requires User"),
    ],
)
def test_writing_an_incomplete_or_unknown_member_is_refused(
    result: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        serialize_response(IAM.operation_model("GetUser"), result, request_id="r")


def test_a_naive_timestamp_is_refused() -> None:
    user = {"Path": "/", "UserName": "b", "UserId": "AIDA", "Arn": "x",
            "CreateDate": datetime(2020, 1, 1)}
    with pytest.raises(ValueError, match="aware datetime"):
        serialize_response(IAM.operation_model("GetUser"), {"User": user}, request_id="r")


def _refusal(body: str, model: Any = IAM) -> QueryError:
    with pytest.raises(QueryError) as caught:
        parse_query_request(model, body)
    return caught.value


V = "Version=2010-05-08"


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (f"{V}&UserName=bob", "MissingAction", "The request must contain the parameter Action."),
        ("Action=ListUsers", "MissingParameter",
         "The request must contain the parameter Version."),
        (f"Action=MakeCoffee&{V}", "InvalidAction",
         "Could not find operation MakeCoffee for version 2010-05-08."),
        ("Action=ListUsers&Version=2011-06-15", "InvalidAction",
         "Could not find operation ListUsers for version 2011-06-15."),
        (f"Action=CreateUser&{V}", "ValidationError",
         "1 validation error detected: Value null at 'userName' failed to satisfy constraint: "
         "Member must not be null"),
        (f"Action=CreateUser&{V}&UserName=a%20b", "ValidationError",
         "1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: "
         "Member must satisfy regular expression pattern: [\\w+=,.@-]+"),
        (f"Action=CreateUser&{V}&UserName=" + "a" * 65, "ValidationError",
         f"1 validation error detected: Value '{'a' * 65}' at 'userName' failed to satisfy "
         "constraint: Member must have length less than or equal to 64"),
        (f"Action=ListUsers&{V}&MaxItems=0", "ValidationError",
         "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: "
         "Member must have value greater than or equal to 1"),
        (f"Action=UpdateAccessKey&{V}&AccessKeyId=AKIAIOSFODNN7EXAMPLE&Status=On",
         "ValidationError",
         "1 validation error detected: Value 'On' at 'status' failed to satisfy constraint: "
         "Member must satisfy enum value set: [Active, Inactive, Expired]"),
        (f"Action=ListUsers&{V}&MaxItems=ten", "InvalidParameterValue",
         "Value 'ten' for parameter MaxItems is invalid: expected an integer."),
        (f"Action=ListUsers&{V}&MaxItems=1&MaxItems=2", "MalformedQueryString",
         "The parameter MaxItems appears more than once."),
        (f"Action=ListUsers&{V}&Marker=%FF", "MalformedQueryString", None),
    ],
)
def test_malformed_requests_get_aws_error_codes(body: str, code: str, message: str | None) -> None:
    error = _refusal(body)
    assert error.code == code
    assert error.status == 400
    if message is not None:
        assert error.message == message


def test_several_violations_are_counted_and_listed() -> None:
    error = _refusal(f"Action=CreateUser&{V}&UserName=a%20b&Path=nopath")
    assert error.message.startswith("2 validation errors detected: ")
    assert "at 'path'" in error.message
    assert "at 'userName'" in error.message


def test_tag_patterns_with_unicode_classes() -> None:
    ok = parse_query_request(
        IAM,
        f"Action=TagUser&{V}&UserName=bob&Tags.member.1.Key=%C3%A9quipe&Tags.member.1.Value=a+b",
    )
    assert ok.params["Tags"] == [{"Key": "équipe", "Value": "a b"}]
    tags = "Tags.member.1.Key=a%23b&Tags.member.1.Value=v"
    error = _refusal(f"Action=TagUser&{V}&UserName=bob&{tags}")
    assert error.code == "ValidationError"
    assert "at 'tags.1.member.key'" in error.message


def test_sensitive_values_are_never_echoed() -> None:
    # ChangePassword's passwords are marked sensitive in the model.
    secret = "hunter2" + "\x01"
    error = _refusal(
        f"Action=ChangePassword&{V}&OldPassword=x&NewPassword=" + secret.replace("\x01", "%01")
    )
    assert error.code == "ValidationError"
    assert "hunter2" not in error.message
    assert "at 'newPassword'" in error.message


def test_long_values_are_echoed_shortened() -> None:
    error = _refusal(f"Action=ListUsers&{V}&MaxItems=" + "x" * 10_000)
    assert len(error.message) < 300


def test_too_many_fields_are_refused() -> None:
    body = f"Action=ListUsers&{V}&" + "&".join(f"f{i}=1" for i in range(2000))
    assert _refusal(body).code == "MalformedQueryString"


def test_sts_request_round_trip() -> None:
    request = parse_query_request(
        STS,
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr"
        "&RoleSessionName=s1&DurationSeconds=900&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3A"
        "123456789012%3Apolicy%2Fp",
    )
    assert request.action == "AssumeRole"
    assert request.params == {
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "RoleSessionName": "s1",
        "DurationSeconds": 900,
        "PolicyArns": [{"arn": "arn:aws:iam::123456789012:policy/p"}],
    }


def test_empty_list_is_read_as_empty() -> None:
    shape = IAM.operation_model("CreateUser").input_shape
    assert read_params(shape, {"UserName": "b", "Tags": ""})["Tags"] == []
    body = urlencode({"Action": "CreateUser", "Version": "2010-05-08", "UserName": "b"})
    assert "Tags" not in parse_query_request(IAM, body).params
