"""A walk through SigV4 signing with sigv4kit (what `make demo` runs).

Signs the AWS test-suite request `get-vanilla` and checks the result against
the signature AWS publishes for it, then signs an httpx request, makes a
presigned URL and a SigV4A signature and verifies that one with the public key.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

import sigv4kit

# The shared parameters of the AWS SigV4 test suite (aws-c-auth, Apache-2.0).
CREDENTIALS = sigv4kit.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
WHEN = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
# aws-c-auth tests/aws-signing-test-suite/v4/get-vanilla/header-signature.txt
PUBLISHED = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"


def section(title: str) -> None:
    print(f"\n=== {title} ===")


def main() -> None:
    section("1. Sign the AWS test-suite request get-vanilla")
    result = sigv4kit.sign(
        "GET", "/", [("Host", "example.amazonaws.com")],
        credentials=CREDENTIALS, region="us-east-1", service="service", now=WHEN,
    )
    print("Canonical request:\n" + str(result.canonical_request))
    print("\nString to sign:\n" + str(result.string_to_sign))
    print("\nSignature:", result.signature)
    assert result.signature == PUBLISHED, "signature differs from AWS's published value"
    print("matches AWS's published signature")

    section("2. Sign an httpx request (no network: a MockTransport echoes it)")
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"authorization": request.headers["authorization"],
                                         "url": str(request.url)})
    auth = sigv4kit.SigV4Auth(CREDENTIALS, region="us-east-1", service="execute-api")
    with httpx.Client(transport=httpx.MockTransport(echo), auth=auth) as client:
        body = client.get("https://api.example.com/items?b=2&a=1+1").json()
    print("sent URL:     ", body["url"], "(a literal '+' is sent as %2B, as signed)")
    print("Authorization:", body["authorization"])

    section("3. A presigned S3 URL, valid 10 minutes")
    print(sigv4kit.presign(
        "GET", "https://example-bucket.s3.us-east-1.amazonaws.com/reports/2015 q3.csv",
        credentials=CREDENTIALS, region="us-east-1", service="s3",
        settings=sigv4kit.SigningSettings.s3(), expires_in=600, now=WHEN,
    ))

    section("4. SigV4A: sign for every region, verify with the derived public key")
    v4a = sigv4kit.sign(
        "GET", "/", [("Host", "example.amazonaws.com")],
        credentials=CREDENTIALS, region="*", service="service", now=WHEN,
        algorithm=sigv4kit.SigningAlgorithm.SIGV4A,
    )
    public_key = sigv4kit.derive_sigv4a_private_key(
        CREDENTIALS.access_key_id, CREDENTIALS.secret_access_key
    ).public_key()
    ok = sigv4kit.verify_sigv4a(public_key, str(v4a.string_to_sign), v4a.signature)
    print("Authorization:", v4a.authorization)
    print("signature verifies:", ok)
    assert ok


if __name__ == "__main__":
    main()
