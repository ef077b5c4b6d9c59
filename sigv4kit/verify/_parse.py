"""Parsing the authentication: the ``Authorization`` header or the presigned query, the
credential scope, the signed headers and the stated payload hash, checked against the
verifier's accepted regions, services and algorithms."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from fnmatch import fnmatchcase
from urllib.parse import unquote

from .._settings import (
    PathNormalization,
    PayloadChecksumKind,
    PayloadMode,
    SessionTokenMode,
    SigningAlgorithm,
    SigningSettings,
)
from ..canonical._request import (
    UNSIGNED_PAYLOAD,
    encode_query_pairs,
    is_normalized_path,
)
from ..signing._chunked import StreamingMode
from ..signing._signer import (
    MAX_PRESIGN_EXPIRES,
    CredentialScope,
)
from ._errors import (
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    IncompleteSignature,
    InvalidArgument,
    InvalidRequest,
    InvalidURI,
    NotImplementedFeature,
    VerificationError,
)
from ._model import (
    _HEX64,
    ParsedAuth,
    SignedRequest,
    VerifierConfig,
    _declares_aws_chunked,
    _header,
    _index_headers,
    _query_params,
)
from ._time import _check_now, _check_time, _request_date

__all__ = ["parse"]


_SCOPE_DATE = re.compile(r"\d{8}")


_INTEGER = re.compile(r"[+-]?\d{1,20}")


_HEADER_PREFIX = "The authorization header is malformed; "


_QUERY_PREFIX = "Error parsing the X-Amz-Credential parameter; "


_THREE_COMPONENTS = (
    _HEADER_PREFIX + "the authorization header requires three components: "
    "Credential, SignedHeaders, and Signature."
)


_ONLY_ONE_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
    "Signature query string parameter or the Authorization header should be specified"
)


_COMPONENTS = ("Credential", "SignedHeaders", "Signature")


_ALGORITHMS = {algorithm.value: algorithm for algorithm in SigningAlgorithm}


_QUERY_AUTH_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)


_QUERY_SINGLETONS = frozenset(
    {*_QUERY_AUTH_PARAMS, "X-Amz-Security-Token", "X-Amz-Region-Set"}
)


def parse(config: VerifierConfig, request: SignedRequest, now: datetime) -> ParsedAuth:
    """See :meth:`Verifier.parse_at`."""
    now = _check_now(now)
    headers = _index_headers(request.headers)
    params = _query_params(request.query)
    names = {key for key, _ in params}
    authorization = headers.get("authorization")
    query_v4 = any(name in names for name in _QUERY_AUTH_PARAMS)
    query_v2 = "Signature" in names
    if authorization is not None and (query_v4 or query_v2):
        raise InvalidArgument(
            _ONLY_ONE_MECHANISM,
            fields=(("ArgumentName", "Authorization"), ("ArgumentValue", authorization[0])),
        )
    if query_v4 and query_v2:
        raise InvalidArgument(
            _ONLY_ONE_MECHANISM,
            fields=(("ArgumentName", "Signature"), ("ArgumentValue", "")),
        )
    if authorization is not None:
        parsed = _parse_header_auth(config, request, headers, authorization, now)
    elif query_v4:
        parsed = _parse_query_auth(config, request, headers, params, now)
    elif query_v2 or "AWSAccessKeyId" in names:
        raise InvalidRequest()
    else:
        raise AccessDenied()
    return parsed


def _parse_header_auth(
    config: VerifierConfig,
    request: SignedRequest,
    headers: Mapping[str, tuple[str, ...]],
    values: tuple[str, ...],
    now: datetime,
) -> ParsedAuth:
    if len(values) > 1:
        raise AuthorizationHeaderMalformed(
            _HEADER_PREFIX + "only one Authorization header is allowed."
        )
    value = values[0].strip()
    scheme, _, rest = value.partition(" ")
    algorithm = _header_algorithm(config, scheme, value)
    components: dict[str, str] = {}
    for raw_component in rest.split(","):
        component = raw_component.strip()
        if not component:
            continue
        name, equals, component_value = component.partition("=")
        name = name.strip()
        if not equals:
            raise IncompleteSignature(
                f"'{component}' not a valid key=value pair (missing equal-sign) "
                f"in Authorization header: '{value}'"
            )
        if name not in _COMPONENTS or name in components:
            raise AuthorizationHeaderMalformed(_THREE_COMPONENTS)
        components[name] = component_value.strip()
    if any(not components.get(name) for name in _COMPONENTS):
        raise AuthorizationHeaderMalformed(_THREE_COMPONENTS)
    return _finish_parse(config,
        request=request,
        headers=headers,
        algorithm=algorithm,
        credential=components["Credential"],
        signed_headers=components["SignedHeaders"],
        signature=components["Signature"],
        date_text=None,
        expires=None,
        session_token=_header(headers, "x-amz-security-token"),
        region_set=_header(headers, "x-amz-region-set"),
        presigned=False,
        now=now,
    )


def _header_algorithm(config: VerifierConfig, scheme: str, value: str) -> SigningAlgorithm:
    algorithm = _ALGORITHMS.get(scheme)
    if algorithm is None:
        if scheme == "AWS" or scheme.startswith("AWS4-"):
            raise InvalidRequest()
        raise InvalidArgument(
            "Unsupported Authorization Type",
            fields=(("ArgumentName", "Authorization"), ("ArgumentValue", value)),
        )
    if algorithm not in config.algorithms:
        raise InvalidRequest()
    return algorithm


def _parse_query_auth(
    config: VerifierConfig,
    request: SignedRequest,
    headers: Mapping[str, tuple[str, ...]],
    params: list[tuple[str, str]],
    now: datetime,
) -> ParsedAuth:
    auth: dict[str, str] = {}
    for key, value in params:
        if key in _QUERY_SINGLETONS:
            if key in auth:
                raise AuthorizationQueryParametersError(
                    f"{key} must be given only once."
                )
            auth[key] = unquote(value, errors="replace") if "%" in value else value
    if any(not auth.get(name) for name in _QUERY_AUTH_PARAMS):
        raise AuthorizationQueryParametersError()
    algorithm = _ALGORITHMS.get(auth["X-Amz-Algorithm"])
    if algorithm is None or algorithm not in config.algorithms:
        supported = " and ".join(
            f'"{alg.value}"' for alg in SigningAlgorithm if alg in config.algorithms
        )
        raise AuthorizationQueryParametersError(f"X-Amz-Algorithm only supports {supported}")
    expires_text = auth["X-Amz-Expires"]
    if not _INTEGER.fullmatch(expires_text):
        raise AuthorizationQueryParametersError("X-Amz-Expires should be a number")
    expires = int(expires_text)
    if expires < 0:
        raise AuthorizationQueryParametersError("X-Amz-Expires must be non-negative")
    if expires == 0:
        raise AuthorizationQueryParametersError("X-Amz-Expires must be greater than 0")
    if expires > MAX_PRESIGN_EXPIRES:
        raise AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given "
            f"X-Amz-Expires must be less than {MAX_PRESIGN_EXPIRES} seconds"
        )
    return _finish_parse(config,
        request=request,
        headers=headers,
        algorithm=algorithm,
        credential=auth["X-Amz-Credential"],
        signed_headers=auth["X-Amz-SignedHeaders"],
        signature=auth["X-Amz-Signature"],
        date_text=auth["X-Amz-Date"],
        expires=expires,
        session_token=auth.get("X-Amz-Security-Token"),
        region_set=auth.get("X-Amz-Region-Set"),
        presigned=True,
        now=now,
    )


def _finish_parse(
    config: VerifierConfig,
    *,
    request: SignedRequest,
    headers: Mapping[str, tuple[str, ...]],
    algorithm: SigningAlgorithm,
    credential: str,
    signed_headers: str,
    signature: str,
    date_text: str | None,
    expires: int | None,
    session_token: str | None,
    region_set: str | None,
    presigned: bool,
    now: datetime,
) -> ParsedAuth:
    error: type[VerificationError] = (
        AuthorizationQueryParametersError if presigned else AuthorizationHeaderMalformed
    )
    prefix = _QUERY_PREFIX if presigned else _HEADER_PREFIX
    is_v4a = algorithm is SigningAlgorithm.SIGV4A

    # Credential: <akid>/<date>[/<region>]/<service>/aws4_request. The key
    # id is everything before the scope (it may itself contain '/').
    scope_parts = 3 if is_v4a else 4
    parts = credential.split("/")
    if (
        len(parts) <= scope_parts
        or not all(parts[-scope_parts:])
        or not all(parts[:-scope_parts])
        or not _SCOPE_DATE.fullmatch(parts[-scope_parts])
    ):
        raise error(
            prefix + "the Credential is mal-formed; expecting "
            '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
        )
    access_key_id = "/".join(parts[:-scope_parts])
    scope_date = parts[-scope_parts]
    service, terminal = parts[-2], parts[-1]
    config = config
    if is_v4a:
        region = _check_region_set(config, region_set, error, prefix, presigned)
        scope = CredentialScope(scope_date, None, service)
    else:
        region = parts[-3]
        if config.regions is not None and region not in config.regions:
            expected = min(config.regions)
            raise error(
                prefix + f"the region '{region}' is wrong; expecting '{expected}'",
                fields=(("Region", expected),),
            )
        scope = CredentialScope(scope_date, region, service)
    if config.services is not None and service not in config.services:
        raise error(
            prefix + f'incorrect service "{service}". This endpoint belongs to '
            f'"{min(config.services)}".'
        )
    if terminal != "aws4_request":
        raise error(
            prefix + f'incorrect terminal "{terminal}". This endpoint uses "aws4_request".'
        )

    settings = config.settings_for(service)
    if config.normalized_paths_only:
        _check_path(request.path, settings)

    amz_date_text, request_time = _request_date(headers, date_text)
    if amz_date_text[:8] != scope_date:
        raise error(prefix + "Invalid credential date. Date is not the same as X-Amz-Date.")
    _check_time(config, request_time, amz_date_text, expires, now)

    query_pairs = encode_query_pairs(request.query)
    if presigned:
        excluded = {"X-Amz-Signature"}
        if settings.session_token_mode is SessionTokenMode.EXCLUDE:
            excluded.add("X-Amz-Security-Token")
        query_pairs = [(k, v) for k, v in query_pairs if k not in excluded]
    return ParsedAuth(
        algorithm=algorithm,
        presigned=presigned,
        access_key_id=access_key_id,
        scope=scope,
        region=region,
        service=service,
        signed_headers=tuple(signed_headers.split(";")),
        signature=signature,
        amz_date=amz_date_text,
        request_time=request_time,
        expires=expires,
        session_token=session_token,
        settings=settings,
        payload_hash=_payload_hash(headers, settings, presigned),
        query_pairs=tuple(query_pairs),
        headers=headers,
    )


def _check_path(path: str, settings: SigningSettings) -> None:
    """Under path normalization, only a path already in normalized form is accepted.

    The signature covers the normalized path, but the app routes on the
    path as sent: ``/secret/../public/x`` would verify as ``/public/x``
    and reach the app as ``/secret/...``. SDKs, the AWS CLI and curl never
    send dot or empty segments, so such a path is refused rather than
    rewritten. S3 rules sign the raw path itself and skip this check.
    """
    if settings.path_normalization is not PathNormalization.ENABLED:
        return
    if not is_normalized_path(path):
        raise InvalidURI(
            "Couldn't parse the specified URI. Under this service's signing rules the "
            "path is normalized before it is signed, so it must be sent normalized: "
            "no '.', '..' or empty segments (encoded or not).",
            fields=(("URI", path),),
        )


def _check_region_set(
    config: VerifierConfig,
    region_set: str | None,
    error: type[VerificationError],
    prefix: str,
    presigned: bool,
) -> str:
    if not region_set:
        where = "X-Amz-Region-Set parameter" if presigned else "X-Amz-Region-Set header"
        raise error(prefix + f"the {where} is required for AWS4-ECDSA-P256-SHA256.")
    regions = config.regions
    if regions is not None:
        patterns = [pattern.strip() for pattern in region_set.split(",")]
        if not any(fnmatchcase(region, p) for p in patterns for region in regions):
            expected = min(regions)
            raise error(
                prefix + f"the region set '{region_set}' is wrong; expecting '{expected}'",
                fields=(("Region", expected),),
            )
    return region_set


def _payload_hash(
    headers: Mapping[str, tuple[str, ...]], settings: SigningSettings, presigned: bool
) -> str | None:
    if (
        settings.payload_checksum is not PayloadChecksumKind.X_AMZ_CONTENT_SHA256
        and _declares_aws_chunked(headers)
    ):
        # aws-chunked is S3's: its mode travels in x-amz-content-sha256,
        # which these rules do not use. Refused plainly, rather than
        # failing the signature or handing the app a framed body.
        raise InvalidArgument(
            "aws-chunked payloads (Content-Encoding: aws-chunked, "
            "x-amz-decoded-content-length) are accepted only under S3 rules; "
            "this service's rules sign the body's SHA-256: send a plain body.",
            fields=(
                ("ArgumentName", "Content-Encoding"),
                ("ArgumentValue", _header(headers, "content-encoding") or ""),
            ),
        )
    stated = _header(headers, "x-amz-content-sha256")
    if stated is None:
        if presigned:
            unsigned = settings.presigned_payload is PayloadMode.UNSIGNED
            return UNSIGNED_PAYLOAD if unsigned else None
        if settings.payload_checksum is PayloadChecksumKind.X_AMZ_CONTENT_SHA256:
            raise InvalidRequest(
                "Missing required header for this request: x-amz-content-sha256"
            )
        return UNSIGNED_PAYLOAD if settings.payload is PayloadMode.UNSIGNED else None
    if stated.startswith("STREAMING-"):
        return _streaming_payload(headers, settings, stated)
    if stated == UNSIGNED_PAYLOAD:
        allowed = (
            settings.payload is PayloadMode.UNSIGNED
            or settings.payload_checksum is PayloadChecksumKind.X_AMZ_CONTENT_SHA256
            or (presigned and settings.presigned_payload is PayloadMode.UNSIGNED)
        )
        if not allowed:
            raise InvalidArgument(
                "UNSIGNED-PAYLOAD is not accepted by this service; "
                "x-amz-content-sha256 must be a valid sha256 value.",
                fields=(
                    ("ArgumentName", "x-amz-content-sha256"),
                    ("ArgumentValue", stated),
                ),
            )
        return stated
    if not _HEX64.fullmatch(stated):
        raise InvalidArgument(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.",
            fields=(("ArgumentName", "x-amz-content-sha256"), ("ArgumentValue", stated)),
        )
    return stated


def _streaming_payload(
    headers: Mapping[str, tuple[str, ...]], settings: SigningSettings, stated: str
) -> str:
    """Accept an aws-chunked payload mode where the service's rules allow it."""
    try:
        mode = StreamingMode(stated)
    except ValueError:
        raise NotImplementedFeature(
            "A header you provided implies functionality that is not implemented. "
            f"The streaming payload {stated} is not supported; send "
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], "
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER or a sha256 of the body.",
            fields=(("Header", "x-amz-content-sha256"),),
        ) from None
    # aws-chunked is S3's: accepted where the settings are S3's (the
    # payload hash travels in x-amz-content-sha256).
    if settings.payload_checksum is not PayloadChecksumKind.X_AMZ_CONTENT_SHA256:
        raise InvalidArgument(
            f"{stated} is not accepted by this service; "
            "x-amz-content-sha256 must be a valid sha256 value.",
            fields=(("ArgumentName", "x-amz-content-sha256"), ("ArgumentValue", stated)),
        )
    decoded = _header(headers, "x-amz-decoded-content-length")
    if decoded is None:
        raise InvalidRequest(
            "Missing required header for this request: x-amz-decoded-content-length"
        )
    # ASCII digits only: str.isdigit() also accepts '²' and other digits int() refuses.
    if not (decoded.isascii() and decoded.isdigit()):
        raise InvalidArgument(
            "x-amz-decoded-content-length must be the decoded body length, a "
            "whole number of bytes.",
            fields=(
                ("ArgumentName", "x-amz-decoded-content-length"),
                ("ArgumentValue", decoded),
            ),
        )
    if mode.has_trailer and not _header(headers, "x-amz-trailer"):
        raise InvalidRequest("Missing required header for this request: x-amz-trailer")
    return stated
