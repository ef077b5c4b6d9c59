"""The result of a fast signature: a SigningResult that ``sign()`` fills in when first read.

Kept out of :mod:`sigv4kit.client._fastsign` because that module is compiled
with mypyc, and a compiled module cannot define a subclass with
``__slots__`` of a plain Python class (``SigningResult``).
"""

from __future__ import annotations

from datetime import datetime

import httpx

from .._settings import SigningSettings
from ..canonical._request import CanonicalRequest
from ..signing._credentials import Credentials
from ..signing._signer import SigningResult, StringToSign, sign

# Internal: the fast signer's result, not public API.
__all__: list[str] = []


#: What sign() needs to rebuild a fast signature's result: method, target,
#: the signed request's headers as httpx's (raw name, lower-case name, value)
#: triples, credentials, region, service, time, payload line, settings.
Arguments = tuple[
    str, str, tuple[tuple[bytes, bytes, bytes], ...], Credentials, str, str, datetime, str,
    SigningSettings,
]


class LazySigningResult(SigningResult):
    """A :class:`SigningResult` that ``sign()`` fills in when it is first read."""

    __slots__ = ("_arguments", "_built")
    _arguments: Arguments
    _built: SigningResult | None

    def __init__(self, arguments: Arguments) -> None:
        object.__setattr__(self, "_arguments", arguments)
        object.__setattr__(self, "_built", None)

    def _result(self) -> SigningResult:
        built: SigningResult | None = self._built
        if built is None:
            (method, target, triples, credentials, region, service, now, payload,
             settings) = self._arguments
            # What sign_httpx_request passes: the headers as httpx decodes them.
            headers = httpx.Headers([(name, value) for name, _, value in triples]).multi_items()
            built = sign(method, target, headers, credentials=credentials, region=region,
                         service=service, now=now, payload_hash=payload, settings=settings)
            object.__setattr__(self, "_built", built)
        return built

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazySigningResult):
            other = other._result()
        return self._result() == other

    def __hash__(self) -> int:
        return hash(self._result())

    def __repr__(self) -> str:
        return repr(self._result())

    @property
    def canonical_request(self) -> CanonicalRequest:
        return self._result().canonical_request

    @property
    def string_to_sign(self) -> StringToSign:
        return self._result().string_to_sign

    @property
    def signature(self) -> str:
        return self._result().signature

    @property
    def target(self) -> str:
        return self._result().target

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return self._result().headers

    @property
    def added_headers(self) -> tuple[tuple[str, str], ...]:
        return self._result().added_headers

    @property
    def removed_headers(self) -> frozenset[str]:
        return self._result().removed_headers

    @property
    def authorization(self) -> str | None:
        return self._result().authorization
