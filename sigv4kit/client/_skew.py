"""Clock-skew correction: learn the service's clock from an error response.

botocore never corrects skew (boto/boto3#1252, open since 2017); the JS and
Go SDKs do. When a service rejects a request for its time, its ``Date``
header says what time it thinks it is; the difference to our clock is an
offset applied to every later signature.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from ._errors import AWSErrorDetails

__all__ = ["SKEW_THRESHOLD", "ClockOffset", "parse_http_date", "skew_offset"]

#: A signature error is blamed on the clock only when the service's ``Date``
#: is further than this from ours. AWS allows 5 minutes of skew; 4 minutes
#: leaves room for the request's time in flight.
SKEW_THRESHOLD = timedelta(minutes=4)

# Errors that say in so many words that the request time is wrong.
_TIME_CODES = frozenset({"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture"})
# InvalidSignatureException is a time error only when its message says so
# ("Signature expired: ... is now earlier than ...", "Signature not yet current").
_TIME_MESSAGES = ("signature expired", "not yet current")
# Errors a wrong clock produces without saying so.
_SIGNATURE_CODES = frozenset(
    {"SignatureDoesNotMatch", "InvalidSignatureException", "AuthFailure", "InvalidSignature"}
)


def parse_http_date(value: str | None) -> datetime | None:
    """An RFC 7231 date (``Date``, ``Retry-After``) as aware UTC, or None."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_server_time(value: str | None) -> datetime | None:
    # S3's <ServerTime>2013-03-27T09:56:51Z</ServerTime> in RequestTimeTooSkewed.
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def skew_offset(
    details: AWSErrorDetails,
    date_header: str | None,
    *,
    clock_now: datetime,
    current_offset: timedelta,
) -> timedelta | None:
    """The clock offset to adopt after this error, or None when it is no skew error.

    ``clock_now`` is our uncorrected clock when the response arrived and
    ``current_offset`` the correction in use; the result replaces it.
    """
    server = parse_http_date(date_header) or _parse_server_time(details.server_time)
    if server is None:
        return None
    code = details.code
    explicit = code in _TIME_CODES or (
        code == "InvalidSignatureException"
        and any(text in details.message.lower() for text in _TIME_MESSAGES)
    )
    if explicit:
        return server - clock_now
    if code in _SIGNATURE_CODES and abs(server - (clock_now + current_offset)) > SKEW_THRESHOLD:
        return server - clock_now
    return None


class ClockOffset:
    """A learned clock correction shared by threads and tasks.

    Reads are a single attribute load; writes take a lock so concurrent
    corrections do not interleave.
    """

    __slots__ = ("_lock", "_value")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = timedelta(0)

    @property
    def value(self) -> timedelta:
        return self._value

    def set(self, offset: timedelta) -> None:
        with self._lock:
            self._value = offset
