"""Explain a signature error: line up the service's view with ours, name the cause.

Pure functions for ``sigv4kit explain`` (and ``sigv4kit request`` on an AWS
error). The service's canonical request and string to sign come from its
error body (:func:`~sigv4kit.parse_aws_error` reads S3's ``<CanonicalRequest>``
and the JSON services' "The Canonical String for this request should have
been ..." prose); ours from the signer or from the signed request itself
(:func:`recompute_signed`). :func:`explain` compares them line by line and
names the likely cause in :class:`Cause` terms, the causes users hit most
(SIGNERS.md section (b): path and query encoding, ``+`` versus space, query
order and duplicates, header whitespace, headers changed by proxies, host and
port, body hash, clock, region or service, session token).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ..canonical._diagnostics import (
    REDACTED,
    first_line_diff,
)
from ..canonical._raw import RawRequest
from ..canonical._request import payload_sha256
from ..client._errors import AWSErrorDetails
from ..verify._verifier import SignedRequest, Verifier
from ._causes import (
    _AMZ_DATE,
    _clock_offset,
    _creq_findings,
    _header_findings,
    _no_difference,
    _scope_findings,
)
from ._model import Cause, Explanation, Finding

__all__ = ["explain", "recompute_signed"]


# -- our side: the canonical request of a request that is already signed ------------


def _request_time(raw: RawRequest, request: SignedRequest) -> datetime | None:
    text = raw.header("x-amz-date")
    if text is None:
        match = re.search(r"(?:^|&)X-Amz-Date=(\d{8}T\d{6}Z)", request.query)
        text = match.group(1) if match else None
    if text is None or not _AMZ_DATE.fullmatch(text.strip()):
        return None
    return datetime.strptime(text.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def recompute_signed(
    raw: RawRequest,
    verifier: Verifier | None = None,
    *,
    now: datetime | None = None,
    redact_token: bool = True,
) -> tuple[str, str]:
    """The canonical request and string to sign a signed request stands for.

    Parses the request's own ``Authorization`` header or ``X-Amz-*``
    parameters with the verifier (no key needed), at ``now`` (default: the
    request's own time, so a captured request is never "too old"). The
    session token in the canonical request reads ``** REDACTED **`` unless
    ``redact_token`` is false (to hash the text again, never to print it).

    Raises the verifier's :class:`~sigv4kit.VerificationError` when the
    authentication cannot be parsed.
    """
    verifier = verifier or Verifier()
    request = SignedRequest.from_raw(raw)
    when = now or _request_time(raw, request)
    if when is None:
        when = datetime.now(UTC)
    parsed = verifier.parse_at(request, when)
    payload = parsed.payload_hash if parsed.payload_hash is not None else payload_sha256(raw.body)
    creq, sts = verifier.canonical_request(parsed, request, payload)
    canonical = str(creq)
    if redact_token and parsed.session_token:
        canonical = canonical.replace(parsed.session_token, REDACTED)
    return canonical, str(sts)


# -- comparison -----------------------------------------------------------------------


_MESSAGE_HINTS: tuple[tuple[re.Pattern[str], Cause, str], ...] = (
    (
        re.compile(r"Signature expired|Signature not yet current|RequestTimeTooSkewed|"
                   r"difference between the request time", re.I),
        Cause.CLOCK,
        "clock: the request time is too far from the service's clock; sync the clock "
        "(NTP) or let SigV4Auth correct the skew.",
    ),
    (
        re.compile(r"scoped to a valid region|region '[^']*' is wrong|expecting '[^']*'", re.I),
        Cause.REGION,
        "region: the credential scope names a region the service does not serve (--region).",
    ),
    (
        re.compile(r"scoped to correct service|service '[^']*' is wrong", re.I),
        Cause.SERVICE,
        "service: the credential scope names another service (--service).",
    ),
    (
        re.compile(r"security token|ExpiredToken|InvalidToken|token has expired", re.I),
        Cause.SESSION_TOKEN,
        "session token: missing, expired or not matching the access key; temporary "
        "(ASIA...) keys need their session token.",
    ),
    (
        re.compile(r"x-amz-content-sha256|XAmzContentSHA256Mismatch", re.I),
        Cause.BODY_HASH,
        "body hash: the body the service received does not hash to the signed value.",
    ),
    (
        re.compile(r"Access Key Id you provided does not exist|InvalidAccessKeyId|"
                   r"UnrecognizedClient", re.I),
        Cause.ACCESS_KEY,
        "access key: the service does not know this access key id (or it is inactive).",
    ),
)


def explain(
    details: AWSErrorDetails,
    *,
    canonical_request: str | None,
    string_to_sign: str | None,
) -> Explanation:
    """Compare the service's view of a request with ours and name likely causes.

    ``details`` is the parsed error (:func:`~sigv4kit.parse_aws_error`);
    ``canonical_request`` / ``string_to_sign`` what we signed (None when
    unknown). Never raises on any error body.
    """
    server_creq = details.server_canonical_request
    server_sts = details.server_string_to_sign
    creq_diff = (
        first_line_diff(server_creq, canonical_request)
        if server_creq is not None and canonical_request is not None
        else None
    )
    sts_diff = (
        first_line_diff(server_sts, string_to_sign, string_to_sign=True)
        if server_sts is not None and string_to_sign is not None
        else None
    )
    findings: list[Finding] = []
    if creq_diff is not None and server_creq is not None and canonical_request is not None:
        findings += _creq_findings(creq_diff, server_creq, canonical_request)
        if creq_diff.line <= 3:
            # Other differences further down, in the headers, are worth naming too.
            findings += _header_findings(server_creq, canonical_request)
    if server_sts is not None:
        findings += _scope_findings(server_sts, string_to_sign, details.message)
    if not findings:
        text = f"{details.code} {details.message}"
        for pattern, cause, hint in _MESSAGE_HINTS:
            if pattern.search(text):
                if cause is Cause.CLOCK:
                    hint += _clock_offset(details.server_time, string_to_sign)
                findings.append(Finding(cause=cause, text=hint))
                break
    signature_error = details.code in {
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    } or "signature we calculated does not match" in details.message.lower()
    if not findings and signature_error:
        findings.append(
            _no_difference(server_creq, server_sts, canonical_request, string_to_sign, sts_diff)
        )
    if not findings:
        findings.append(
            Finding(cause=Cause.UNKNOWN, text=f"{details.code}: not a signature problem.")
        )
    return Explanation(
        code=details.code,
        message=details.message,
        server_canonical_request=server_creq,
        server_string_to_sign=server_sts,
        our_canonical_request=canonical_request,
        our_string_to_sign=string_to_sign,
        canonical_diff=creq_diff,
        string_to_sign_diff=sts_diff,
        findings=tuple(findings),
    )


# -- rendering ------------------------------------------------------------------------


