"""The aws-chunked decoder's errors: AWS's codes, statuses and messages for a framed body that
fails to decode or verify (:mod:`sigv4kit.verify._chunked`)."""

from __future__ import annotations

from ._errors import VerificationError

# The factories are the decoder's (private); the error class is the API.
__all__ = ["ChunkedBodyError"]


class ChunkedBodyError(VerificationError):
    """An aws-chunked body failed to decode or verify.

    A :class:`~sigv4kit.VerificationError` whose ``code`` and ``status``
    are the AWS error code and HTTP status of the particular failure
    (``IncompleteBody``, ``InvalidChunkSizeError``, ``SignatureDoesNotMatch``,
    ``BadDigest``, ``MalformedTrailerError``, ``InvalidRequest``).
    """

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _incomplete() -> ChunkedBodyError:
    return ChunkedBodyError(
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
    )


def _bad_chunk_signature() -> ChunkedBodyError:
    return ChunkedBodyError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
    )


def _malformed_trailer() -> ChunkedBodyError:
    return ChunkedBodyError(
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform "
        "to our published schema.",
    )
