from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sigv4kit import AWSErrorDetails
from sigv4kit.client import SKEW_THRESHOLD, ClockOffset, parse_http_date, skew_offset

NOW = datetime(2026, 7, 1, 8, 0, 0, tzinfo=UTC)


def _details(code: str, message: str = "", server_time: str | None = None) -> AWSErrorDetails:
    return AWSErrorDetails(code=code, message=message, status_code=403, server_time=server_time)


def test_parse_http_date() -> None:
    assert parse_http_date("Wed, 01 Jul 2026 08:20:00 GMT") == NOW + timedelta(minutes=20)
    assert parse_http_date("not a date") is None
    assert parse_http_date(None) is None


def test_explicit_time_errors_adopt_the_server_clock() -> None:
    date = "Wed, 01 Jul 2026 08:20:00 GMT"
    for details in (
        _details("RequestTimeTooSkewed"),
        _details("RequestExpired"),
        _details("InvalidSignatureException", "Signature expired: 20260701T080000Z is now earlier"),
        _details("InvalidSignatureException", "Signature not yet current: 20260701T080000Z"),
    ):
        offset = skew_offset(details, date, clock_now=NOW, current_offset=timedelta(0))
        assert offset == timedelta(minutes=20)


def test_signature_errors_need_a_far_date() -> None:
    far = "Wed, 01 Jul 2026 08:04:01 GMT"
    near = "Wed, 01 Jul 2026 08:03:59 GMT"
    for code in ("SignatureDoesNotMatch", "InvalidSignatureException", "AuthFailure"):
        assert skew_offset(
            _details(code), far, clock_now=NOW, current_offset=timedelta(0)
        ) == timedelta(minutes=4, seconds=1)
        assert skew_offset(_details(code), near, clock_now=NOW, current_offset=timedelta(0)) is None
    assert timedelta(minutes=4) == SKEW_THRESHOLD


def test_current_offset_is_taken_into_account() -> None:
    date = "Wed, 01 Jul 2026 08:20:00 GMT"
    # already corrected by 20 minutes: a signature error is not blamed on the clock
    assert (
        skew_offset(
            _details("SignatureDoesNotMatch"),
            date,
            clock_now=NOW,
            current_offset=timedelta(minutes=20),
        )
        is None
    )


def test_other_errors_and_missing_dates() -> None:
    date = "Wed, 01 Jul 2026 09:00:00 GMT"
    assert (
        skew_offset(_details("AccessDenied"), date, clock_now=NOW, current_offset=timedelta(0))
        is None
    )
    assert (
        skew_offset(
            _details("InvalidSignatureException", "bad"),
            None,
            clock_now=NOW,
            current_offset=timedelta(0),
        )
        is None
    )
    s3 = _details("RequestTimeTooSkewed", server_time="2026-07-01T07:30:00Z")
    assert skew_offset(s3, None, clock_now=NOW, current_offset=timedelta(0)) == timedelta(
        minutes=-30
    )


def test_clock_offset_concurrent_writes() -> None:
    offset = ClockOffset()
    values = [timedelta(seconds=i) for i in range(50)]
    threads = [threading.Thread(target=offset.set, args=(v,)) for v in values]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert offset.value in values
