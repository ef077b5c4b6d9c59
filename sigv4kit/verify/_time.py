"""Time checks: the request date (``X-Amz-Date`` or ``Date``), clock skew and presigned expiry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache

from .._exceptions import InvalidTimeError
from ._errors import (
    AccessDenied,
    AuthorizationQueryParametersError,
    RequestTimeTooSkewed,
)
from ._model import _NO_DATE, ParsedAuth, VerifierConfig, _header

__all__ = ["check_time"]


_ISO_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")


def _check_now(now: datetime) -> datetime:
    if type(now) is datetime and now.tzinfo is UTC:
        return now
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise InvalidTimeError("the verification time must be a timezone-aware datetime")
    return now.astimezone(UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=256)
def _parse_iso_basic(text: str) -> datetime | None:
    # Cached: every request signed in the same second carries the same text.
    match = _ISO_BASIC.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def _request_date(
    headers: Mapping[str, tuple[str, ...]], query_date: str | None
) -> tuple[str, datetime]:
    if query_date is not None:
        when = _parse_iso_basic(query_date)
        if when is None:
            raise AuthorizationQueryParametersError(
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
            )
        return query_date, when
    text = _header(headers, "x-amz-date")
    if text is not None:
        when = _parse_iso_basic(text)
        if when is None:
            raise AccessDenied(_NO_DATE)
        return text, when
    text = _header(headers, "date")
    if text is None:
        raise AccessDenied(_NO_DATE)
    when = _parse_iso_basic(text)
    if when is None:
        # SigV4 allows the HTTP Date header instead of X-Amz-Date; its
        # ISO 8601 basic form is what goes into the string to sign.
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise AccessDenied(_NO_DATE) from None
        if parsed.tzinfo is None:
            raise AccessDenied(_NO_DATE)
        when = parsed.astimezone(UTC).replace(microsecond=0)
        text = when.strftime("%Y%m%dT%H%M%SZ")
    return text, when


def check_time(config: VerifierConfig, parsed: ParsedAuth, now: datetime) -> None:
    """See :meth:`Verifier.check_time_at`."""
    _check_time(config, parsed.request_time, parsed.amz_date, parsed.expires, _check_now(now))


def _check_time(
    config: VerifierConfig,
    request_time: datetime,
    amz_date_text: str,
    expires: int | None,
    now: datetime,
) -> None:
    max_skew = config.max_skew
    if expires is None:
        if abs(now - request_time) > max_skew:
            raise _skewed(config, amz_date_text, now)
        return
    # A presigned URL is valid from its date for `expires` seconds; one
    # dated too far in the future is a clock problem, not a long validity.
    if request_time - now > max_skew:
        raise _skewed(config, amz_date_text, now)
    expiry = request_time + timedelta(seconds=expires)
    if now > expiry:
        raise AccessDenied(
            "Request has expired",
            fields=(
                ("X-Amz-Expires", str(expires)),
                ("Expires", _iso(expiry)),
                ("ServerTime", _iso(now)),
            ),
        )


def _skewed(config: VerifierConfig, amz_date_text: str, now: datetime) -> RequestTimeTooSkewed:
    milliseconds = int(config.max_skew.total_seconds() * 1000)
    return RequestTimeTooSkewed(
        fields=(
            ("RequestTime", amz_date_text),
            ("ServerTime", _iso(now)),
            ("MaxAllowedSkewMilliseconds", str(milliseconds)),
        )
    )


