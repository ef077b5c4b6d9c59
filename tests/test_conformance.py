"""The official AWS SigV4 / SigV4A suites, through the Python API.

aws-c-auth: every v4 and v4a case, header and query signing. botocore's
aws4_testsuite: every case. See tests/vectors/INDEX.md for the rules of use.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qsl, unquote

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from vectors_loader import (
    SECRET,
    WHEN,
    BotocoreCase,
    CrtCase,
    botocore_cases,
    crt_cases,
    parse_signed_request,
)

import sigv4kit
from sigv4kit.signing import derive_sigv4a_private_key, verify_sigv4a

CRT = list(crt_cases())
BOTO = list(botocore_cases())


def same_target(sent: str, expected: str) -> bool:
    """The suite writes raw UTF-8 in targets (not valid on the wire); the
    signer sends the canonical percent-encoding of the same bytes."""
    return unquote(sent) == unquote(expected)


def sign_case(case: CrtCase) -> sigv4kit.SigningResult:
    request = sigv4kit.parse_raw_request(case.request_bytes())
    return sigv4kit.sign(
        request.method,
        request.target,
        request.headers,
        credentials=case.credentials,
        region=case.context["region"],
        service=case.context["service"],
        now=case.time,
        body=request.body,
        settings=case.settings(),
        algorithm=case.algorithm,
        expires_in=case.context["expiration_in_seconds"],
    )


def public_key(case: CrtCase) -> ec.EllipticCurvePublicKey:
    x, y = case.public_key_xy()
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


def test_suite_is_complete() -> None:
    # 38 v4 + 38 complete v4a cases, each in two locations; 34 botocore cases.
    assert len(CRT) == 152
    assert len(BOTO) == 34


@pytest.mark.parametrize("case", CRT, ids=lambda c: c.id)
def test_canonical_request_and_string_to_sign(case: CrtCase) -> None:
    result = sign_case(case)
    assert str(result.canonical_request) == case.read("canonical-request.txt")
    assert str(result.string_to_sign) == case.read("string-to-sign.txt")


@pytest.mark.parametrize("case", [c for c in CRT if c.version == "v4"], ids=lambda c: c.id)
def test_v4_signature_and_signed_request(case: CrtCase) -> None:
    result = sign_case(case)
    assert result.signature == case.read("signature.txt").strip()
    expected = parse_signed_request(case.read("signed-request.txt"))
    if case.location == "header":
        assert result.authorization == expected.header("Authorization")
        assert same_target(result.target, expected.target)
    else:
        assert result.authorization is None
        # X-Amz-* parameters must match exactly; order on the wire is not normative.
        got = sorted(parse_qsl(result.target.partition("?")[2], keep_blank_values=True))
        want = sorted(parse_qsl(expected.target.partition("?")[2], keep_blank_values=True))
        assert got == want
        assert result.target.partition("?")[0] == expected.target.partition("?")[0]
    # Other headers as a multiset (name case-insensitive, value exact).
    assert Counter((n.lower(), v) for n, v in result.headers) == Counter(
        (n.lower(), v) for n, v in expected.headers
    )


@pytest.mark.parametrize("case", [c for c in CRT if c.version == "v4a"], ids=lambda c: c.id)
def test_v4a_signatures_verify_with_the_published_key(case: CrtCase) -> None:
    result = sign_case(case)
    key = public_key(case)
    sts = str(result.string_to_sign)
    assert verify_sigv4a(key, sts, result.signature)
    # The suite's own (random) signature verifies against our string to sign too.
    assert verify_sigv4a(key, sts, case.read("signature.txt").strip())
    # A signature over a different string does not.
    assert not verify_sigv4a(key, sts + "x", result.signature)
    expected = parse_signed_request(case.read("signed-request.txt"))
    if case.location == "header":
        auth = result.authorization
        assert auth is not None
        want = expected.header("Authorization")
        assert want is not None
        assert auth.rpartition("Signature=")[0] == want.rpartition("Signature=")[0]
        assert expected.header("X-Amz-Region-Set") == "us-east-1"
    else:
        got = dict(parse_qsl(result.target.partition("?")[2]))
        want_q = dict(parse_qsl(expected.target.partition("?")[2]))
        got.pop("X-Amz-Signature")
        want_q.pop("X-Amz-Signature")
        assert got == want_q


@pytest.mark.parametrize(
    "case", [c for c in CRT if c.version == "v4a" and c.location == "header"], ids=lambda c: c.id
)
def test_v4a_key_derivation_gives_the_published_public_key(case: CrtCase) -> None:
    creds = case.credentials
    derived = derive_sigv4a_private_key(creds.access_key_id, creds.secret_access_key)
    numbers = derived.public_key().public_numbers()
    assert (numbers.x, numbers.y) == case.public_key_xy()


def test_v4a_key_derivation_extra_vector() -> None:
    # aws-c-auth tests/key_derivation_tests.c, quoted in tests/vectors/INDEX.md.
    key = derive_sigv4a_private_key(
        "AKISORANDOMAASORANDOM", "q+jcrXGc+0zWN6uzclKVhvMmUsIfRPa4rlRandom"
    )
    assert key.private_numbers().private_value == int(
        "7fd3bd010c0d9c292141c2b77bfbde1042c92e6836fff749d1269ec890fca1bd", 16
    )
    pub = key.public_key().public_numbers()
    assert pub.x == int("15d242ceebf8d8169fd6a8b5a746c41140414c3b07579038da06af89190fffcb", 16)
    assert pub.y == int("0515242cedd82e94799482e4c0514b505afccf2c0c98d6a553bf539f424c5ec0", 16)


def sign_botocore_case(case: BotocoreCase) -> sigv4kit.SigningResult:
    request = sigv4kit.parse_raw_request(case.request_bytes())
    mode = (
        sigv4kit.SessionTokenMode.EXCLUDE
        if case.token_after_signing
        else sigv4kit.SessionTokenMode.INCLUDE
    )
    return sigv4kit.sign(
        request.method,
        request.target,
        request.headers,
        credentials=sigv4kit.Credentials("AKIDEXAMPLE", SECRET, case.token),
        region="us-east-1",
        service="service",
        now=WHEN,
        body=request.body,
        settings=sigv4kit.SigningSettings(session_token_mode=mode),
    )


@pytest.mark.parametrize("case", BOTO, ids=lambda c: c.name)
def test_botocore_suite(case: BotocoreCase) -> None:
    result = sign_botocore_case(case)
    assert str(result.canonical_request) == case.read("creq")
    assert str(result.string_to_sign) == case.read("sts")
    assert result.authorization == case.read("authz")
    expected = parse_signed_request(case.read("sreq"))
    # .sreq writes "Name: value"; INDEX.md: get-vanilla-with-session-token.sreq
    # carries get-vanilla's signature (an upstream defect), so .authz is the truth.
    got = Counter((n.lower(), v.strip()) for n, v in result.headers if n.lower() != "authorization")
    want = Counter(
        (n.lower(), v.strip()) for n, v in expected.headers if n.lower() != "authorization"
    )
    assert got == want
    assert same_target(result.target, expected.target)
