"""The verification error classes: AWS codes, statuses and exports."""

from __future__ import annotations

import pytest

import sigv4kit
from sigv4kit.verify import _errors as _verify_errors
from sigv4kit.verify import _verifier

# Codes and statuses from S3's error table (docs: ErrorResponses), see VERIFIERS.md §3.
TABLE = {
    "AccessDenied": ("AccessDenied", 403),
    "AuthorizationHeaderMalformed": ("AuthorizationHeaderMalformed", 400),
    "AuthorizationQueryParametersError": ("AuthorizationQueryParametersError", 400),
    "EntityTooLarge": ("EntityTooLarge", 413),
    "ExpiredToken": ("ExpiredToken", 400),
    "IncompleteSignature": ("IncompleteSignature", 400),
    "InternalError": ("InternalError", 500),
    "InvalidAccessKeyId": ("InvalidAccessKeyId", 403),
    "InvalidArgument": ("InvalidArgument", 400),
    "InvalidRequest": ("InvalidRequest", 400),
    "InvalidToken": ("InvalidToken", 400),
    "NotImplementedFeature": ("NotImplemented", 501),
    "RequestTimeTooSkewed": ("RequestTimeTooSkewed", 403),
    "ServiceUnavailable": ("ServiceUnavailable", 503),
    "SignatureDoesNotMatch": ("SignatureDoesNotMatch", 403),
    "XAmzContentSHA256Mismatch": ("XAmzContentSHA256Mismatch", 400),
}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_error_class_code_and_status(name: str) -> None:
    cls = getattr(sigv4kit, name)
    error = cls()
    assert (error.code, error.status) == TABLE[name]
    assert isinstance(error, sigv4kit.VerificationError)
    assert isinstance(error, sigv4kit.SigV4Error)
    assert error.message
    assert str(error) == error.message
    assert error.fields == ()


def test_messages_are_aws_text() -> None:
    assert sigv4kit.SignatureDoesNotMatch().message == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    )
    assert sigv4kit.InvalidAccessKeyId().message == (
        "The AWS Access Key Id you provided does not exist in our records."
    )
    assert sigv4kit.InvalidToken().message == (
        "The provided token is malformed or otherwise invalid."
    )
    assert sigv4kit.ExpiredToken().message == "The provided token has expired."


def test_fields_and_repr() -> None:
    error = sigv4kit.InvalidAccessKeyId(fields=(("AWSAccessKeyId", "AKIAX"),))
    assert error.fields == (("AWSAccessKeyId", "AKIAX"),)
    assert repr(error) == (
        "InvalidAccessKeyId(code='InvalidAccessKeyId', message="
        "'The AWS Access Key Id you provided does not exist in our records.')"
    )


@pytest.mark.parametrize("module", [_verifier, _verify_errors])
def test_all_sorted_and_exported(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert names == sorted(names)
    for name in names:
        # Issue 13: the verifier's names are exported by sigv4kit.verify (their
        # namespace); test_public_api checks the old top-level error names still alias them.
        assert getattr(sigv4kit.verify, name) is getattr(module, name)
        assert name in sigv4kit.verify.__all__
    assert set(TABLE) <= set(_verify_errors.__all__)
