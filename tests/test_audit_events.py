"""Audit events: CloudTrail's record layout, field by field, and redaction.

Expected records are written out by hand from the CloudTrail User Guide's
"CloudTrail record contents" and "CloudTrail userIdentity element" pages
(field names, ``eventTime`` as ``YYYY-MM-DDTHH:MM:SSZ``, ``mfaAuthenticated``
as the string "true"/"false", ``resources`` as ``ARN``/``accountId``/``type``).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import botocore.session
import pytest
from _audit_util import user
from sigv4kit.middleware.audit import (
    REDACTED,
    SENSITIVE_FIELDS,
    AuthFailure,
    IdentityType,
    RequestInfo,
    Resource,
    SessionContext,
    SessionIssuer,
    UserIdentity,
    api_call_event,
    authentication_failure_event,
    authorization_event,
    find_secrets,
    redact,
)

WHEN = datetime(2026, 12, 3, 10, 15, 30, 123456, tzinfo=UTC)
REQUEST = RequestInfo(
    when=WHEN,
    event_id="3038ebd2-c98a-4c65-9b6e-e22506292313",
    request_id="4EXAMPLE-0e8d-11e4-b3f7-bbf2b1f0e2e6",
    source_ip="192.0.2.1",
    user_agent="aws-cli/2.13.5",
    region="us-east-1",
)
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEBYaDHhBTEXAMPLETOKENVALUE"


def decision(**overrides: object) -> dict[str, object]:
    """An authorization record: alice reads order 7, allowed, unless overridden."""
    arguments: dict[str, object] = {
        "identity": user("alice"),
        "action": "orders:GetOrder",
        "resources": [],
        "allowed": True,
        "read_only": True,
        "event_source": "orders.example.com",
        "request": REQUEST,
    }
    return authorization_event(**{**arguments, **overrides}).to_json()


def role_session(mfa: bool) -> UserIdentity:
    return UserIdentity(
        type=IdentityType.ASSUMED_ROLE,
        principal_id="AROAIDPPEZS35WEXAMPLE:deploy-session",
        arn="arn:aws:sts::123456789012:assumed-role/deployer/deploy-session",
        account_id="123456789012",
        access_key_id="ASIAIOSFODNN7EXAMPLE",
        session_context=SessionContext(
            creation_date=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
            mfa_authenticated=mfa,
            session_issuer=SessionIssuer(
                type="Role",
                principal_id="AROAIDPPEZS35WEXAMPLE",
                arn="arn:aws:iam::123456789012:role/deployer",
                account_id="123456789012",
                user_name="deployer",
            ),
            source_identity="alice",
        ),
    )


def test_allowed_decision_is_a_cloudtrail_record() -> None:
    event = authorization_event(
        identity=user("alice"),
        action="orders:GetOrder",
        resources=[Resource(arn="arn:aws:orders:us-east-1:123456789012:order/7", type="Order")],
        allowed=True,
        read_only=True,
        event_source="orders.example.com",
        request=REQUEST,
    )
    assert event.to_json() == {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAJ45Q7YFFAREXAMPLE",
            "arn": "arn:aws:iam::123456789012:user/alice",
            "accountId": "123456789012",
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "userName": "alice",
        },
        "eventTime": "2026-12-03T10:15:30Z",
        "eventSource": "orders.example.com",
        "eventName": "GetOrder",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.1",
        "userAgent": "aws-cli/2.13.5",
        "requestID": "4EXAMPLE-0e8d-11e4-b3f7-bbf2b1f0e2e6",
        "eventID": "3038ebd2-c98a-4c65-9b6e-e22506292313",
        "readOnly": True,
        "resources": [{"ARN": "arn:aws:orders:us-east-1:123456789012:order/7", "type": "Order"}],
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": "123456789012",
        "eventCategory": "Data",
    }
    # One compact line, keys in CloudTrail's order.
    line = event.to_line()
    assert "\n" not in line
    assert list(json.loads(line))[:4] == [
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
    ]


def test_denied_decision_carries_access_denied_and_the_message() -> None:
    message = (
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: "
        "orders:DeleteOrder on resource: arn:aws:orders:us-east-1:123456789012:order/7"
    )
    record = decision(
        action="orders:DeleteOrder", allowed=False, read_only=False, error_message=message
    )
    assert record["errorCode"] == "AccessDenied"
    assert record["errorMessage"] == message
    assert record["eventName"] == "DeleteOrder"
    assert record["readOnly"] is False
    assert "resources" not in record


def test_session_identity_has_the_session_context() -> None:
    record = decision(identity=role_session(mfa=True))
    assert record["userIdentity"] == {
        "type": "AssumedRole",
        "principalId": "AROAIDPPEZS35WEXAMPLE:deploy-session",
        "arn": "arn:aws:sts::123456789012:assumed-role/deployer/deploy-session",
        "accountId": "123456789012",
        "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAIDPPEZS35WEXAMPLE",
                "arn": "arn:aws:iam::123456789012:role/deployer",
                "accountId": "123456789012",
                "userName": "deployer",
            },
            "attributes": {"creationDate": "2026-12-03T09:00:00Z", "mfaAuthenticated": "true"},
            "sourceIdentity": "alice",
        },
    }
    without = role_session(mfa=False).to_json()
    assert without["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (AuthFailure.BAD_SIGNATURE, "SignatureDoesNotMatch"),
        (AuthFailure.UNKNOWN_KEY, "InvalidClientTokenId"),
        (AuthFailure.EXPIRED_TOKEN, "ExpiredToken"),
    ],
)
def test_authentication_failure_names_the_key_and_nothing_else(
    failure: AuthFailure, code: str
) -> None:
    record = authentication_failure_event(
        failure=failure,
        message="The request signature we calculated does not match the signature you provided.",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        account_id=None,
        event_source="orders.example.com",
        event_name="GetOrder",
        read_only=True,
        request=REQUEST,
    ).to_json()
    assert record["userIdentity"] == {"type": "Unknown", "accessKeyId": "AKIAIOSFODNN7EXAMPLE"}
    assert record["errorCode"] == code
    assert record["managementEvent"] is False
    assert record["eventCategory"] == "Data"
    assert "recipientAccountId" not in record


def test_authentication_failure_without_a_key_on_the_iam_api() -> None:
    record = authentication_failure_event(
        failure=AuthFailure.MALFORMED,
        message="Authorization header requires 'Credential' parameter.",
        access_key_id=None,
        account_id=None,
        event_source="iam.amazonaws.com",
        event_name="ListUsers",
        read_only=True,
        request=REQUEST,
        management=True,
    ).to_json()
    assert record["userIdentity"] == {"type": "Unknown"}
    assert record["errorCode"] == "IncompleteSignature"
    assert record["managementEvent"] is True
    assert record["eventCategory"] == "Management"


def test_user_agent_and_error_message_are_cut_at_1_kb() -> None:
    long = "x" * 5000
    record = decision(
        allowed=False,
        error_message=long,
        request=dataclasses.replace(REQUEST, user_agent="é" * 1000),
    )
    assert len(record["errorMessage"]) == 1024
    assert record["userAgent"] == "é" * 512  # 1024 bytes of UTF-8, never half a character


def test_sts_assume_role_event_hides_the_secret_and_token() -> None:
    record = api_call_event(
        identity=user("alice"),
        service="sts",
        operation="AssumeRole",
        read_only=False,
        request_parameters={
            "roleArn": "arn:aws:iam::123456789012:role/deployer",
            "roleSessionName": "deploy-session",
            "serialNumber": "arn:aws:iam::123456789012:mfa/alice",
            "tokenCode": "123456",
        },
        response_elements={
            "credentials": {
                "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
                "secretAccessKey": SECRET,
                "sessionToken": TOKEN,
                "expiration": "Dec 3, 2026, 11:15:30 AM",
            },
            "assumedRoleUser": {
                "assumedRoleId": "AROAIDPPEZS35WEXAMPLE:deploy-session",
                "arn": "arn:aws:sts::123456789012:assumed-role/deployer/deploy-session",
            },
        },
        request=REQUEST,
    ).to_json()
    assert record["eventSource"] == "sts.amazonaws.com"
    assert record["eventName"] == "AssumeRole"
    assert record["requestParameters"]["tokenCode"] == REDACTED
    assert record["requestParameters"]["roleSessionName"] == "deploy-session"
    assert record["responseElements"]["credentials"] == {
        "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
        "secretAccessKey": REDACTED,
        "sessionToken": REDACTED,
        "expiration": "Dec 3, 2026, 11:15:30 AM",
    }
    assert find_secrets(record, [SECRET, TOKEN]) == []
    assert '123456"' not in json.dumps(record)  # the MFA code
    assert SECRET not in json.dumps(record)


def test_failed_api_call_has_no_response_elements() -> None:
    record = api_call_event(
        identity=user("alice"),
        service="iam",
        operation="CreateAccessKey",
        read_only=False,
        request_parameters={"userName": "bob"},
        response_elements={"accessKey": {"secretAccessKey": SECRET}},
        error_code="LimitExceeded",
        error_message="Cannot exceed quota for AccessKeysPerUser: 2",
        request=REQUEST,
    ).to_json()
    assert "responseElements" not in record
    assert record["errorCode"] == "LimitExceeded"


def test_redaction_covers_nested_lists_and_every_case() -> None:
    value = {
        "Users": [{"Password": "hunter2-long-password", "UserName": "bob"}],
        "virtualMFADevice": {"base32StringSeed": "JBSWY3DPEHPK3PXP", "qrCodePNG": "iVBOR"},
        "webIdentityToken": "eyJhbGciOi.example.jwt",
    }
    assert redact(value) == {
        "Users": [{"Password": REDACTED, "UserName": "bob"}],
        "virtualMFADevice": {"base32StringSeed": REDACTED, "qrCodePNG": REDACTED},
        "webIdentityToken": REDACTED,
    }


def test_scanner_finds_leaks() -> None:
    leaky = {"a": {"b": [f"prefix {SECRET} suffix"]}, "sessionToken": TOKEN}
    assert find_secrets(leaky, [SECRET]) == ["$.a.b[0]", "$.sessionToken"]
    assert find_secrets({"ok": "nothing"}, [SECRET]) == []


def _botocore_sensitive(service: str) -> set[str]:
    model = botocore.session.get_session().get_service_model(service)
    found: set[str] = set()
    seen: set[str] = set()

    def walk(shape: object) -> None:
        name = getattr(shape, "name", None)
        if shape is None or name in seen:
            return
        seen.add(str(name))
        kind = getattr(shape, "type_name", "")
        if kind == "structure":
            for member, sub in shape.members.items():  # type: ignore[attr-defined]
                if sub.metadata.get("sensitive"):
                    found.add(member)
                walk(sub)
        elif kind == "list":
            walk(shape.member)  # type: ignore[attr-defined]
        elif kind == "map":
            walk(shape.value)  # type: ignore[attr-defined]

    for operation in model.operation_names:
        op = model.operation_model(operation)
        walk(op.input_shape)
        walk(op.output_shape)
    return found


@pytest.mark.parametrize("service", ["iam", "sts"])
def test_every_member_botocore_marks_sensitive_is_redacted(service: str) -> None:
    sensitive = _botocore_sensitive(service)
    assert "SecretAccessKey" in sensitive  # the oracle works
    assert sensitive <= SENSITIVE_FIELDS
