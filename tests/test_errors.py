from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

import sigv4kit
from sigv4kit import (
    AccessDeniedError,
    AuthenticationError,
    AWSServiceError,
    Credentials,
    ExpiredTokenError,
    NotFoundError,
    ServiceUnavailableError,
    SignatureMismatchError,
    SigV4Auth,
    SigV4Error,
    ThrottlingError,
    ValidationError,
    parse_aws_error,
    raise_for_aws_error,
)
from sigv4kit.client import SIGNING_RESULT_EXTENSION
from sigv4kit.client._errors import first_difference

FIXED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-xyz")


def _error(response: httpx.Response) -> AWSServiceError:
    with pytest.raises(AWSServiceError) as info:
        raise_for_aws_error(response)
    return info.value


def test_rest_xml_s3_error() -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
        b"<Message>The specified key does not exist.</Message><Key>a.txt</Key>"
        b"<RequestId>4442587FB7D0A2F9</RequestId><HostId>host-id-2</HostId></Error>"
    )
    error = _error(httpx.Response(404, content=body))
    assert type(error) is NotFoundError
    assert error.code == "NoSuchKey"
    assert error.message == "The specified key does not exist."
    assert error.status_code == 404
    assert error.request_id == "4442587FB7D0A2F9"
    assert error.details.host_id == "host-id-2"
    assert "NoSuchKey" in str(error)
    assert "4442587FB7D0A2F9" in str(error)


def test_query_protocol_error_response() -> None:
    body = (
        b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        b"<Error><Type>Sender</Type><Code>ExpiredToken</Code>"
        b"<Message>The security token included in the request is expired</Message></Error>"
        b"<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
    )
    error = _error(httpx.Response(400, content=body))
    assert type(error) is ExpiredTokenError
    assert isinstance(error, AuthenticationError)
    assert error.request_id == "c6104cbe-af31-11e0-8154-cbc7ccf896c7"
    assert error.message == "The security token included in the request is expired"


def test_ec2_response_errors() -> None:
    body = (
        b"<Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able "
        b"to validate the provided access credentials</Message></Error></Errors>"
        b"<RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>"
    )
    error = _error(httpx.Response(401, content=body))
    assert type(error) is AuthenticationError
    assert error.code == "AuthFailure"
    assert error.request_id == "ea966190-f9aa-478e-9ede-example"


def test_json_type_with_namespace_and_request_id_header() -> None:
    body = json.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
            "message": "Requested resource not found",
        }
    ).encode()
    response = httpx.Response(400, content=body, headers={"x-amzn-RequestId": "RID123"})
    error = _error(response)
    assert type(error) is NotFoundError
    assert error.code == "ResourceNotFoundException"
    assert error.message == "Requested resource not found"
    assert error.request_id == "RID123"
    assert error.response is response


def test_json_type_with_colon_suffix_and_code_key() -> None:
    details = parse_aws_error(
        400, {}, b'{"__type": "ValidationException:http://internal.amazon.com/", "Message": "m"}'
    )
    assert details.code == "ValidationException"
    assert details.message == "m"
    details = parse_aws_error(429, {}, b'{"code": "TooManyRequestsException", "message": "slow"}')
    assert details.code == "TooManyRequestsException"


def test_rest_json_error_type_header_wins() -> None:
    response = httpx.Response(
        400,
        content=b'{"message": "1 validation error detected"}',
        headers={"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/coral/"},
    )
    error = _error(response)
    assert type(error) is ValidationError
    assert error.code == "ValidationException"


def test_query_compatible_header() -> None:
    details = parse_aws_error(
        400,
        {"x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender"},
        b'{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "no queue"}',
    )
    assert details.code == "AWS.SimpleQueueService.NonExistentQueue"


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "message"),
    [
        (503, b"", ServiceUnavailableError, "503", "Service Unavailable"),
        (502, b"<html><body>oops</body></html>", ServiceUnavailableError, "502", "Bad Gateway"),
        (403, b"", AccessDeniedError, "403", "Forbidden"),
        (429, b"not json or xml", ThrottlingError, "429", "Too Many Requests"),
        (418, b"", AWSServiceError, "418", "I'm a Teapot"),
    ],
)
def test_generic_bodies_fall_back_on_status(
    status: int, body: bytes, cls: type[AWSServiceError], code: str, message: str
) -> None:
    error = _error(httpx.Response(status, content=body))
    assert type(error) is cls
    assert error.code == code
    assert error.message == message


def test_throttling_codes_map_to_throttling_error() -> None:
    for code in ("Throttling", "SlowDown", "ProvisionedThroughputExceededException"):
        body = f"<Error><Code>{code}</Code></Error>".encode()
        assert type(_error(httpx.Response(400, content=body))) is ThrottlingError


def test_entity_expansion_is_refused_safely() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<Error><Code>&lol2;</Code></Error>"
    )
    details = parse_aws_error(400, {}, bomb)
    assert details.code == "400"
    external = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<Error><Code>&e;</Code></Error>"
    )
    assert parse_aws_error(400, {}, external).code == "400"


@settings(max_examples=200, deadline=None)
@given(status=st.integers(100, 599), body=st.binary(max_size=300))
def test_parse_never_raises(status: int, body: bytes) -> None:
    details = parse_aws_error(status, {}, body)
    assert isinstance(details.code, str)
    assert details.code


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_parse_never_raises_on_xml_like_text(text: str) -> None:
    details = parse_aws_error(400, {}, f"<Error><Code>{text}".encode())
    assert details.code


def test_success_is_returned() -> None:
    response = httpx.Response(204)
    assert raise_for_aws_error(response) is response


def test_errors_are_sigv4_errors() -> None:
    assert issubclass(AWSServiceError, SigV4Error)
    assert repr(AWSServiceError("X", "m", 400, "r")) == (
        "AWSServiceError(code='X', status_code=400, request_id='r')"
    )


def _signed_request_and_error(server_canonical: str, sts: str) -> SignatureMismatchError:
    def handler(request: httpx.Request) -> httpx.Response:
        body = (
            "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
            "calculated does not match the signature you provided.</Message>"
            f"<StringToSign>{sts}</StringToSign>"
            f"<CanonicalRequest>{server_canonical}</CanonicalRequest>"
            "<RequestId>R1</RequestId></Error>"
        )
        return httpx.Response(403, content=body.encode())

    auth = SigV4Auth(
        CREDS,
        region="us-east-1",
        service="s3",
        settings=sigv4kit.SigningSettings.s3(),
        clock=lambda: FIXED,
        # One invocation id for both requests: their canonical requests
        # differ only where the test makes them differ.
        invocation_id=lambda: "00000000-0000-4000-8000-000000000000",
    )
    with httpx.Client(auth=auth, transport=httpx.MockTransport(handler)) as client:
        response = client.get("https://bucket.s3.amazonaws.com/a%20b.txt?x=1")
    with pytest.raises(SignatureMismatchError) as info:
        raise_for_aws_error(response)
    return info.value


def test_signature_mismatch_names_first_differing_line() -> None:
    # The "service" canonicalized the path differently: the second line.
    server_canonical = "GET\n/a+b.txt\nx=1\nhost:bucket.s3.amazonaws.com\n\nhost\nUNSIGNED"
    error = _signed_request_and_error(server_canonical, "AWS4-HMAC-SHA256\nX")
    assert error.server_canonical_request == server_canonical
    assert error.our_canonical_request is not None
    assert error.our_canonical_request.split("\n")[1] == "/a%20b.txt"
    assert error.our_string_to_sign is not None
    assert error.our_string_to_sign.startswith("AWS4-HMAC-SHA256\n")
    assert "line 2 (canonical URI)" in str(error)
    assert "'/a+b.txt'" in str(error)
    assert "'/a%20b.txt'" in str(error)
    assert error.request_id == "R1"


def test_signature_mismatch_redacts_the_session_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, content=b"")

    auth = SigV4Auth(
        CREDS,
        region="us-east-1",
        service="s3",
        settings=sigv4kit.SigningSettings.s3(),
        clock=lambda: FIXED,
        # One invocation id for both requests: their canonical requests
        # differ only where the test makes them differ.
        invocation_id=lambda: "00000000-0000-4000-8000-000000000000",
    )
    with httpx.Client(auth=auth, transport=httpx.MockTransport(handler)) as client:
        response = client.get("https://bucket.s3.amazonaws.com/a%20b.txt?x=1")
    ours = str(response.request.extensions[SIGNING_RESULT_EXTENSION].canonical_request)
    token_line = next(i for i, line in enumerate(ours.split("\n")) if "security-token" in line)
    lines = ours.split("\n")
    lines[token_line] = "x-amz-security-token:other-token"
    error = _signed_request_and_error("\n".join(lines), "x")
    assert "session-token-xyz" not in str(error)
    assert "other-token" not in str(error)
    assert "REDACTED" in str(error)


def test_json_prose_canonical_request_is_extracted() -> None:
    message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.\n\nThe Canonical String for this request should have "
        "been\n'POST\n/\n\nhost:example.amazonaws.com\n\nhost\nabc'\n\n"
        "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20150830T123600Z\nscope\nff'\n"
    )
    details = parse_aws_error(
        403,
        {},
        json.dumps({"__type": "InvalidSignatureException", "message": message}).encode(),
    )
    assert details.code == "InvalidSignatureException"
    assert details.server_canonical_request == "POST\n/\n\nhost:example.amazonaws.com\n\nhost\nabc"
    assert details.server_string_to_sign == "AWS4-HMAC-SHA256\n20150830T123600Z\nscope\nff"


@respx.mock
def test_sync_event_hook_passes_success() -> None:
    respx.get("https://sqs.us-east-1.amazonaws.com/ok").respond(200, text="fine")
    hooks = {"response": [sigv4kit.raise_for_aws_error_hook]}
    with httpx.Client(event_hooks=hooks) as client:
        assert client.get("https://sqs.us-east-1.amazonaws.com/ok").text == "fine"


@respx.mock
def test_sync_event_hook_raises() -> None:
    respx.get("https://sqs.us-east-1.amazonaws.com/q").respond(
        400,
        content=b"<ErrorResponse><Error><Code>AWS.SimpleQueueService.NonExistentQueue</Code>"
        b"<Message>gone</Message></Error><RequestId>42</RequestId></ErrorResponse>",
    )
    hooks = {"response": [sigv4kit.raise_for_aws_error_hook]}
    with httpx.Client(event_hooks=hooks) as client, pytest.raises(AWSServiceError) as info:
        client.get("https://sqs.us-east-1.amazonaws.com/q")
    assert info.value.code == "AWS.SimpleQueueService.NonExistentQueue"
    assert info.value.request_id == "42"


@respx.mock
async def test_async_event_hook_raises() -> None:
    respx.post("https://dynamodb.us-east-1.amazonaws.com/").respond(
        400,
        json={"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "s"},
    )
    respx.get("https://dynamodb.us-east-1.amazonaws.com/ok").respond(200)
    hooks = {"response": [sigv4kit.async_raise_for_aws_error_hook]}
    async with httpx.AsyncClient(event_hooks=hooks) as client:
        assert (await client.get("https://dynamodb.us-east-1.amazonaws.com/ok")).status_code == 200
        with pytest.raises(ThrottlingError):
            await client.post("https://dynamodb.us-east-1.amazonaws.com/", content=b"{}")


@respx.mock
async def test_raise_for_unread_async_response_explains() -> None:
    respx.get("https://x.amazonaws.com/").respond(500)
    async with (
        httpx.AsyncClient() as client,
        client.stream("GET", "https://x.amazonaws.com/") as response,
    ):
        with pytest.raises(SigV4Error, match="aread"):
            raise_for_aws_error(response)


@pytest.mark.parametrize(
    "module",
    ["client._auth", "client._errors", "client._providers", "client._retry", "client._skew"],
)
def test_client_modules_are_exported(module: str) -> None:
    import importlib

    mod = importlib.import_module(f"sigv4kit.{module}")
    # Issue 13: exported by the client subpackage; sigv4kit.__all__ holds the user subset.
    assert [name for name in mod.__all__ if name not in sigv4kit.client.__all__] == []
    assert all(hasattr(mod, name) for name in mod.__all__)


def test_errors_pickle_without_the_response() -> None:
    import pickle

    body = b"<Error><Code>NoSuchKey</Code><Message>gone</Message><RequestId>R9</RequestId></Error>"
    error = _error(httpx.Response(404, content=body))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NotFoundError
    assert (copy.code, copy.message, copy.status_code, copy.request_id) == (
        "NoSuchKey",
        "gone",
        404,
        "R9",
    )
    assert copy.response is None
    assert str(copy) == str(error)


def test_first_difference_names_string_to_sign_lines() -> None:
    # Issue 13: the client's copy named string-to-sign lines as canonical-request
    # lines (line 3, the credential scope, read "canonical query string").
    server = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nabc"
    ours = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-west-2/iam/aws4_request\nabc"
    assert first_difference(server, ours, string_to_sign=True) == (
        "differs first at line 3 (credential scope): "
        "service has '20150830/us-east-1/iam/aws4_request', "
        "we signed '20150830/us-west-2/iam/aws4_request'"
    )


def test_first_difference_accepts_a_redacted_token_and_crlf_on_either_side() -> None:
    # The client's copy reported the token line as different when one side was
    # redacted, and split only the service's text on CRLF.
    server = "GET\n/\n\nhost:x\nx-amz-security-token:secret\n\nhost;x-amz-security-token\nUNSIGNED"
    ours = server.replace("secret", "** REDACTED **").replace("\n", "\r\n")
    assert first_difference(server, ours) is None
    assert first_difference(server, ours.replace("UNSIGNED", "e3b0")) == (
        "differs first at line 8 (payload hash): service has 'UNSIGNED', we signed 'e3b0'"
    )
