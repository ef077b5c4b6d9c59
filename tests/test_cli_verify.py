"""``sigv4kit verify``: the official signed requests, every error path, a real key store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _cli_util import run_cli, run_program

VECTORS = Path(__file__).parent / "vectors" / "aws-c-auth" / "v4"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
WHEN = "2015-08-30T12:36:00Z"


def case(name: str, kind: str = "header") -> Path:
    return VECTORS / name / f"{kind}-signed-request.txt"


def expected(name: str, part: str, kind: str = "header") -> str:
    return (VECTORS / name / f"{kind}-{part}.txt").read_text()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("get-vanilla", "header"),
        ("get-vanilla-query-order-key-case", "header"),
        ("post-x-www-form-urlencoded", "header"),
        ("get-vanilla", "query"),
    ],
)
def test_official_requests_verify(name: str, kind: str) -> None:
    r = run_cli(
        "verify", str(case(name, kind)), "--secret-access-key", SECRET, "--time", WHEN, "--json"
    )
    assert r.code == 0, r.out + r.err
    doc = json.loads(r.out)
    assert doc["verified"] is True
    assert doc["identity"]["access_key_id"] == "AKIDEXAMPLE"
    assert doc["identity"]["presigned"] is (kind == "query")
    assert doc["canonical_request"] == expected(name, "canonical-request", kind)
    assert doc["string_to_sign"] == expected(name, "string-to-sign", kind)


def test_human_output() -> None:
    r = run_cli("verify", str(case("get-vanilla")), "--secret-access-key", SECRET, "--time", WHEN)
    assert r.code == 0
    assert "== Verified ==" in r.out
    assert "principal: AKIDEXAMPLE" in r.out
    assert "== Canonical request ==\n" + expected("get-vanilla", "canonical-request") in r.out


@pytest.mark.parametrize(
    ("fmt", "marker"),
    [
        ("s3-xml", "<Code>SignatureDoesNotMatch</Code>"),
        ("query-xml", "<Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"),
        ("json", '"__type": "SignatureDoesNotMatch"'),
    ],
)
def test_wrong_secret_prints_the_middlewares_error(fmt: str, marker: str) -> None:
    r = run_cli(
        "verify",
        str(case("get-vanilla")),
        "--secret-access-key",
        "wrong",
        "--time",
        WHEN,
        "--format",
        fmt,
        "--json",
    )
    assert r.code == 4
    doc = json.loads(r.out)
    assert doc["verified"] is False
    assert doc["error"]["code"] == "SignatureDoesNotMatch"
    assert doc["error"]["status"] == 403
    assert marker in doc["error"]["body"]
    assert doc["canonical_request"] == expected("get-vanilla", "canonical-request")
    assert "wrong" not in doc["error"]["body"]


def test_default_time_is_now_so_an_old_capture_is_too_skewed() -> None:
    r = run_cli("verify", str(case("get-vanilla")), "--secret-access-key", SECRET)
    assert r.code == 4
    assert "== Rejected ==\n403 RequestTimeTooSkewed" in r.out
    assert "<Code>RequestTimeTooSkewed</Code>" in r.out


def test_region_and_service_acceptance_sets() -> None:
    r = run_cli(
        "verify",
        str(case("get-vanilla")),
        "--secret-access-key",
        SECRET,
        "--time",
        WHEN,
        "--region",
        "eu-west-1",
        "--region",
        "eu-central-1",
    )
    assert r.code == 4
    assert "AuthorizationHeaderMalformed" in r.out
    ok = run_cli(
        "verify",
        str(case("get-vanilla")),
        "--secret-access-key",
        SECRET,
        "--time",
        WHEN,
        "--region",
        "us-east-1",
        "--service",
        "service",
    )
    assert ok.code == 0
    other = run_cli(
        "verify",
        str(case("get-vanilla")),
        "--secret-access-key",
        SECRET,
        "--time",
        WHEN,
        "--service",
        "s3",
    )
    assert other.code == 4


def test_s3_rules() -> None:
    # S3 requires x-amz-content-sha256, which the service-rule vectors do not send.
    name = "get-slash-dot-slash-normalized"
    args = ("--secret-access-key", SECRET, "--time", WHEN, "--json")
    # Service rules verify the normalized path, so a path sent with dot
    # segments is refused as the middleware refuses it (issue 12, item 1).
    plain = run_cli("verify", str(case(name)), *args)
    assert plain.code == 4
    assert json.loads(plain.out)["error"]["code"] == "InvalidURI"
    s3 = run_cli("verify", str(case(name)), *args, "--s3")
    assert s3.code == 4
    error = json.loads(s3.out)["error"]
    assert (error["code"], error["status"]) == ("InvalidRequest", 400)
    assert "x-amz-content-sha256" in error["message"]


def test_unsigned_request() -> None:
    r = run_cli(
        "verify",
        "-",
        "--secret-access-key",
        SECRET,
        "--time",
        WHEN,
        stdin=(VECTORS / "get-vanilla" / "request.txt").read_bytes(),
    )
    assert r.code == 4
    assert "403 AccessDenied" in r.out


def test_bad_input() -> None:
    assert run_cli("verify", "/nonexistent", "--secret-access-key", "x").code == 3
    assert run_cli("verify", "-", "--secret-access-key", "x", stdin=b"\n").code == 3
    assert run_cli("verify", "-").code == 2  # neither a secret nor a store
    assert run_cli("verify", "-", "--secret-access-key", "x", "--time", "yesterday").code == 2


def test_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SIGV4KIT_"):
            monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path}/keys.db"
    created = run_cli("keys", "create", "--principal", "carol", "--store", url, "--json")
    assert created.code == 0, created.err
    key = json.loads(created.out)
    signed = run_cli(
        "sign",
        str(VECTORS / "get-vanilla" / "request.txt"),
        "--json",
        "--access-key-id",
        key["access_key_id"],
        "--secret-access-key",
        key["secret_access_key"],
        "--region",
        "us-east-1",
        "--service",
        "service",
        "--time",
        WHEN,
    )
    doc = json.loads(signed.out)
    raw = "GET / HTTP/1.1\n" + "".join(f"{k}:{v}\n" for k, v in doc["headers"]) + "\n"
    r = run_cli("verify", "-", "--store", url, "--time", WHEN, "--json", stdin=raw.encode())
    assert r.code == 0, r.out + r.err
    assert json.loads(r.out)["identity"]["principal"] == "carol"
    unknown = run_cli("verify", str(case("get-vanilla")), "--store", url, "--time", WHEN)
    assert unknown.code == 4
    assert "InvalidAccessKeyId" in unknown.out
    assert (
        run_cli(
            "verify", "-", "--store", "nosuchscheme://x", "--time", WHEN, stdin=raw.encode()
        ).code
        == 2
    )


def test_as_a_subprocess() -> None:
    r = run_program(
        "verify", str(case("get-vanilla")), "--secret-access-key", SECRET, "--time", WHEN
    )
    assert r.code == 0, r.err
    assert "principal: AKIDEXAMPLE" in r.out
    bad = run_program(
        "verify",
        "-",
        "--secret-access-key",
        "wrong",
        "--time",
        WHEN,
        stdin=case("get-vanilla").read_bytes(),
    )
    assert bad.code == 4
    assert "SignatureDoesNotMatch" in bad.out


def test_help() -> None:
    r = run_cli("verify", "--help")
    assert r.code == 0
    assert "examples:" in r.out
    assert "4  aws error" in r.out


@pytest.mark.parametrize("value", ["12x", "-5", "\u00b2", " "])
def test_malformed_decoded_content_length_is_reported_as_malformed(value: str) -> None:
    # Issue 12, item 13: a present but malformed value used to be called "missing".
    from datetime import UTC, datetime

    from sigv4kit import Credentials, RawRequest, SigningSettings, sign

    def signed(headers: list[tuple[str, str]]) -> bytes:
        result = sign(
            "PUT",
            "/bucket/key",
            [("Host", "s3.amazonaws.com"), *headers],
            credentials=Credentials("AKIDEXAMPLE", "secret"),
            region="us-east-1",
            service="s3",
            now=datetime(2015, 8, 30, 12, 36, tzinfo=UTC),
            settings=SigningSettings.s3(),
            payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        )
        return RawRequest("PUT", result.target, result.headers, b"").to_text().encode()

    r = run_cli(
        "verify",
        "-",
        "--secret-access-key",
        "secret",
        "--time",
        WHEN,
        "--json",
        stdin=signed([("x-amz-decoded-content-length", value)]),
    )
    assert r.code == 4, r.err
    error = json.loads(r.out)["error"]
    assert error["code"] == "InvalidArgument"
    assert "x-amz-decoded-content-length must be" in error["message"]
    assert "Missing" not in error["message"]
    missing = run_cli(
        "verify", "-", "--secret-access-key", "secret", "--time", WHEN, "--json", stdin=signed([])
    )
    assert json.loads(missing.out)["error"]["message"] == (
        "Missing required header for this request: x-amz-decoded-content-length"
    )
