"""``SigV4Middleware``: pure ASGI middleware that verifies SigV4 / SigV4A requests.

Per HTTP request: parse and time-check the authentication, await the key
store, check key, signed headers and signature, read (and hash) the body
when the signature covers it, then call the app with the verified body
replayed by a per-call ``receive``. The app never sees a byte that was not
verified. WebSocket handshakes are verified the same way before the app sees
them. Lifespan and unknown scope types pass straight through.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sigv4kit import Identity, KeyRecord, VerificationError, Verifier, VerifierConfig
from sigv4kit.canonical import is_normalized_path
from sigv4kit.verify import AccessDenied, InternalError, ServiceUnavailable
from sigv4kit.verify._fast import FastVerifier

from ..store.errors import StoreUnavailableError
from ..store.protocols import AccessKeyStore
from ..store.url import open_store
from .authorize import AllowAuthenticated, Authorizer
from .body import (
    EMPTY_SHA256,
    Body,
    BodyLimits,
    Disconnected,
    chunk_decoder,
    deliver_chunks,
    framed_body,
    present_decoded,
    stream_body,
)
from .fastpath import verify_fast
from .identity import (
    AnonymousUser,
    CallerCache,
    CallerIdentity,
    SigV4Credentials,
    SigV4User,
    caller_identity,
)
from .refusals import deny_websocket, log_internal, log_refusal, logger, send_error
from .replay import ReplayDetected, ReplayGuard, ReplayGuardUnavailableError, replay_ttl
from .replay import request_signature as _request_signature
from .request import is_cors_preflight, is_trusted, parse_trusted_proxies, signed_request
from .responses import ErrorFormat, new_request_id
from .types import ASGIApp, Message, Receive, Scope, Send
from .verified import Verified, VerifiedCache, request_key

if TYPE_CHECKING:
    from ..audit import AuditLog
    from .auditing import PendingDecision, RequestAuditor

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MEMORY_BODY_LIMIT",
    "DEFAULT_VERIFIED_REQUEST_CACHE_SIZE",
    "SigV4Middleware",
]

#: Bodies up to this size are hashed and kept in memory; larger ones are
#: spooled to a temporary file, so memory stays bounded for any upload.
DEFAULT_MEMORY_BODY_LIMIT = 1024 * 1024
#: S3's largest single PUT (5 GiB). Larger bodies are refused with 413.
DEFAULT_MAX_BODY_SIZE = 5 * 1024**3

#: Successful verifications remembered for byte-identical requests (a speed-up; see
#: ``verified_request_cache_size`` and :mod:`.verified`).
DEFAULT_VERIFIED_REQUEST_CACHE_SIZE = 1024
#: The constant's name before 0.x (deprecated; it is not replay protection).
DEFAULT_REPLAY_CACHE_SIZE = DEFAULT_VERIFIED_REQUEST_CACHE_SIZE

_UNSET: Any = object()


class SigV4Middleware:
    """Verify SigV4 / SigV4A signatures in front of any ASGI app.

    ```python
    from sigv4kit.middleware import MemoryKeyStore, SigV4Middleware

    app = SigV4Middleware(app, store="sqlite:///keys.db")
    ```

    ``store`` is an :class:`~sigv4kit.middleware.AccessKeyStore` or a store
    URL for :func:`~sigv4kit.middleware.open_store` (a store opened here is
    closed at lifespan shutdown). ``config`` says which regions, services and
    rules are accepted (default: any region and service, S3 rules for
    ``s3``). Each request is authenticated (signature, key, body), then
    authorized (``authorizer``), then handed to the app with
    ``scope["sigv4"]`` (the :class:`~sigv4kit.Identity`),
    ``scope["sigv4.caller"]`` (the :class:`~sigv4kit.middleware.CallerIdentity`:
    account, ARN, kind, session), ``scope["user"]`` and ``scope["auth"]``
    (Starlette's ``request.user`` / ``request.auth``).

    Options: ``error_format`` (S3 XML by default), ``exempt_paths`` (exact
    paths, or prefixes written ``/prefix/*``, let through unauthenticated, e.g.
    health checks), ``allow_cors_preflight`` (off by default: pass real CORS
    preflights, ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``
    and no credentials or body, through unauthenticated, since browsers never
    sign them; turn it on only when the app answers preflights itself, e.g.
    behind Starlette's ``CORSMiddleware``), ``trusted_proxies`` (addresses
    or networks whose ``X-Forwarded-Host/Proto/Port`` give the host the client
    signed), ``memory_body_limit`` and ``max_body_size`` (bodies are hashed
    in memory up to the first, spooled to a temporary file beyond it and
    refused with 413 beyond the second), ``verified_request_cache_size`` (a
    *speed-up*: how many successful verifications to remember so that a
    byte-identical request skips recomputing its signature, everything else
    re-checked; it *accepts* exact replays; 0 disables it; the old name
    ``replay_cache_size`` still works, deprecated), ``clock`` (returns
    an aware UTC datetime), ``replay_guard`` (replay *protection*, off by
    default: a :class:`~sigv4kit.middleware.ReplayGuard` that refuses a
    signature already accepted, AccessDenied "Request replay detected"; 503
    when it cannot answer), ``authorizer`` (an
    :class:`~sigv4kit.middleware.Authorizer` awaited after verification and
    before the app: it may refuse with AccessDenied, answered 403 in
    ``error_format``; default :class:`~sigv4kit.middleware.AllowAuthenticated`),
    ``refusal_log_level`` (each refusal is logged once on the
    ``sigv4kit.middleware`` logger with the request id, the error code and
    the access key id the request claimed; WARNING by default, so it shows
    under a plain ``uvicorn module:app``; never a secret, token or signature),
    ``audit`` (an :class:`~sigv4kit.middleware.audit.AuditLog`: one
    CloudTrail-shaped event per refused authentication, per authorization
    decision and, unless ``audit_requests=False`` (apps that record their own
    calls, like the IAM/STS APIs, which find the log at
    ``scope["sigv4.audit"]``), per authenticated request no authorizer decided;
    a full queue answers 503 or drops, as the log is configured; the
    middleware starts the log's writer and closes it at lifespan shutdown; see
    :mod:`.auditing` and ``docs/audit.md``).

    aws-chunked bodies (``x-amz-content-sha256: STREAMING-...``, S3 rules):
    decoded while they stream in, each chunk's signature and the trailer's
    checksum verified; the app sees a plain body with the decoded
    ``Content-Length``. By default the whole decoded body is held back (in
    memory, then spooled) until everything verified, so the app never acts on
    a body that later fails. ``stream_verified_chunks=True`` instead hands the
    app each chunk once its signature checked out; a failure later (a bad
    chunk, a wrong checksum) then ends the app's ``receive`` with
    ``http.disconnect`` and the client gets the error, or, if the app already
    started its response, the request is aborted.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: AccessKeyStore | str,
        config: VerifierConfig | None = None,
        error_format: ErrorFormat = ErrorFormat.S3_XML,
        exempt_paths: Iterable[str] = (),
        allow_cors_preflight: bool = False,
        trusted_proxies: Iterable[str] = (),
        memory_body_limit: int = DEFAULT_MEMORY_BODY_LIMIT,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        spool_directory: str | None = None,
        verified_request_cache_size: int = DEFAULT_VERIFIED_REQUEST_CACHE_SIZE,
        clock: Callable[[], datetime] | None = None,
        stream_verified_chunks: bool = False,
        replay_guard: ReplayGuard | None = None,
        authorizer: Authorizer | None = None,
        refusal_log_level: int = logging.WARNING,
        audit: AuditLog | None = None,
        audit_requests: bool = True,
        replay_cache_size: int = _UNSET,
    ) -> None:
        if replay_cache_size is not _UNSET:
            warnings.warn(
                "replay_cache_size is deprecated: use verified_request_cache_size "
                "(a speed-up; replay protection is replay_guard)",
                DeprecationWarning,
                stacklevel=2,
            )
            verified_request_cache_size = replay_cache_size
        # Replay *protection* (security, off by default; see replay.py), not
        # to be confused with the verified-request cache (a speed-up, verified.py).
        self.replay_guard = replay_guard
        self.authorizer: Authorizer = authorizer or AllowAuthenticated()
        if isinstance(store, str):
            self.store: AccessKeyStore = open_store(store)
            self._owns_store = True
        else:
            self.store = store
            self._owns_store = False
        if memory_body_limit < 0 or max_body_size < 0:
            raise ValueError("body limits must be non-negative")
        self.app = app
        self.verifier = Verifier(config)
        # The common request shape is verified from the scope's bytes (issue 15).
        self._fast = FastVerifier(self.verifier)
        self._callers = CallerCache()  # one CallerIdentity per fast Identity and key
        self.error_format = ErrorFormat(error_format)
        paths = list(exempt_paths)
        self.exempt_paths = frozenset(p for p in paths if not p.endswith("*"))
        self.exempt_prefixes = tuple(p[:-1] for p in paths if p.endswith("*"))
        self.allow_cors_preflight = allow_cors_preflight
        self.trusted_proxies = parse_trusted_proxies(trusted_proxies)
        self.body_limits = BodyLimits(
            memory_body_limit=memory_body_limit,
            max_body_size=max_body_size,
            spool_directory=spool_directory,
        )
        self.clock = clock or _system_clock
        self.stream_verified_chunks = stream_verified_chunks
        self.refusal_log_level = refusal_log_level
        self._verified = VerifiedCache(verified_request_cache_size)
        self.auditor: RequestAuditor | None = None
        if audit is not None:
            from .auditing import RequestAuditor  # the audit package only when auditing

            self.auditor = RequestAuditor(audit, requests=audit_requests)

    def __repr__(self) -> str:
        return f"SigV4Middleware(app={self.app!r}, store={self.store!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan" and (self._owns_store or self.auditor is not None):
            await self.app(scope, receive, self._lifespan_send(send))
        else:
            await self.app(scope, receive, send)

    async def aclose(self) -> None:
        """Close the audit log (writing what is queued), and the store if opened here."""
        if self.auditor is not None:
            await self.auditor.log.aclose()
        if self._owns_store:
            await self.store.aclose()

    def _lifespan_send(self, send: Send) -> Send:
        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.aclose()
            await send(message)

        return lifespan_send

    # -- pass-through ------------------------------------------------------------------------

    def _passes(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        if (
            path in self.exempt_paths
            or (self.exempt_prefixes and path.startswith(self.exempt_prefixes))
        ) and is_normalized_path(path):
            # Not `/public/../admin`: an app or a file server that resolves
            # dot segments would serve another route unauthenticated.
            return True
        return self.allow_cors_preflight and is_cors_preflight(scope)

    @staticmethod
    def _anonymous(scope: Scope) -> Scope:
        scope.setdefault("auth", SigV4Credentials())
        scope.setdefault("user", AnonymousUser())
        scope.setdefault("sigv4", None)
        scope.setdefault("sigv4.caller", None)
        return scope

    @staticmethod
    def _authenticated(scope: Scope, caller: CallerIdentity) -> Scope:
        scope["sigv4"] = caller.sigv4
        scope["sigv4.caller"] = caller
        scope["auth"] = SigV4Credentials(["authenticated"])
        user = scope.get("user")  # an authorizer's richer user of this caller (IAMUser) stays
        scope["user"] = user if isinstance(user, SigV4User) and user.caller is caller else (
            SigV4User(caller))
        return scope

    # -- HTTP ----------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._passes(scope):
            if self.auditor is not None:
                self.auditor.expose(scope)
            await self.app(self._anonymous(scope), receive, send)
            return
        body: Body | None = None
        caller: CallerIdentity | None = None
        pending: PendingDecision | None = None
        try:
            try:
                caller, body = await self._verify_http(scope, receive)
                if self.replay_guard is not None:
                    await self._refuse_replay(scope, caller)
                await self._authorize(caller, scope)
            except VerificationError as exc:
                # A request id only for answers that carry one (errors).
                request_id = new_request_id()
                log_refusal(exc, request_id, scope, self.refusal_log_level)
                error = self._audit_refusal(exc, scope, caller, request_id)
                await send_error(send, error, scope, request_id, self.error_format)
                return
            except Disconnected:
                return
            except Exception as exc:
                request_id = new_request_id()
                log_internal(exc, request_id)
                error = self._audit_refusal(InternalError(), scope, caller, request_id)
                await send_error(send, error, scope, request_id, self.error_format)
                return
            if self.auditor is not None:
                pending = self.auditor.admit_http(scope, caller, send, clock=self.clock)
                if pending is None:  # the audit queue is full: shed
                    await send_error(send, ServiceUnavailable(), scope, new_request_id(),
                                     self.error_format)
                    return
                if not pending.done:  # the event waits for the app's decision
                    send = pending.send
            if body is not None and body.decoder is not None:
                app_scope = self._authenticated(scope, caller)
                await deliver_chunks(
                    self.app,
                    app_scope,
                    receive,
                    send,
                    body.decoder,
                    error_format=self.error_format,
                    log_level=self.refusal_log_level,
                )
                return
            app_receive = receive if body is None or body.framed_empty else body.replay(receive)
            await self.app(self._authenticated(scope, caller), app_receive, send)
        finally:
            if pending is not None:
                pending.finish()
            if body is not None:
                body.close()

    def _audit_refusal(
        self, error: VerificationError, scope: Scope, caller: CallerIdentity | None,
        request_id: str,
    ) -> VerificationError:
        """The refusal's audit event; the error to answer (503 when the trail sheds)."""
        if self.auditor is None:
            return error
        return self.auditor.refused(error, scope, caller, request_id=request_id, now=self.clock())

    async def _authorize(self, caller: CallerIdentity, scope: Scope) -> None:
        """Authorization: the authorizer's refusal, or AccessDenied if it fails (fail closed)."""
        try:
            await self.authorizer.authorize(caller, scope)
        except VerificationError:
            raise
        except Exception as exc:
            log_internal(exc, "(authorizer)")
            raise AccessDenied() from None

    async def _refuse_replay(self, scope: Scope, caller: CallerIdentity) -> None:
        """Replay protection hook: AccessDenied for a signature already accepted."""
        assert self.replay_guard is not None
        signature = _request_signature(scope)
        if signature is None:  # pragma: no cover - a verified request carries one
            raise ReplayDetected()
        ttl = replay_ttl(
            caller.sigv4, scope, max_skew=self.verifier.config.max_skew, now=self.clock()
        )
        try:
            first = await self.replay_guard.first_use(signature, ttl)
        except ReplayGuardUnavailableError:
            raise ServiceUnavailable() from None
        if not first:
            raise ReplayDetected()

    async def _verify_http(
        self, scope: Scope, receive: Receive
    ) -> tuple[CallerIdentity, Body | None]:
        now = self.clock()
        verifier = self.verifier
        if not self.trusted_proxies or not is_trusted(scope, self.trusted_proxies):
            # Fast path for the common shape; None means the general path decides.
            fast = await verify_fast(self._fast, verifier, self.store, scope, now)
            if fast is not None:
                self._record_use(fast[0], now)
                return self._callers(*fast), None
        cache_key: tuple[Any, ...] | None = None
        if self._verified.size:
            trusted = bool(self.trusted_proxies) and is_trusted(scope, self.trusted_proxies)
            cache_key = request_key(scope, trusted)
            remembered = self._verified.get(cache_key)
            if remembered is not None:
                replayed = await self._verify_replay(remembered, scope, receive, now)
                if replayed is not None:
                    return replayed
        request = signed_request(scope, self.trusted_proxies)
        parsed = verifier.parse_at(request, now)
        key = await self._lookup(parsed.access_key_id)
        verifier.check_key_at(parsed, key, now)
        verifier.check_signed_headers(parsed)
        assert key is not None  # check_key_at refuses an unknown key
        limits = self.body_limits
        body: Body | None = None
        try:
            if parsed.needs_body_hash:
                body = framed_body(scope, limits) or await stream_body(receive, limits)
                identity = verifier.authenticate(
                    parsed, key, request, now=now, body_sha256=body.sha256
                )
            else:
                identity = verifier.authenticate(parsed, key, request, now=now)
                if parsed.streaming is not None:
                    decoder = chunk_decoder(parsed, key, limits)
                    if self.stream_verified_chunks:
                        self._record_use(identity, now)
                        return caller_identity(identity, key), Body.streaming(decoder)
                    body = await stream_body(receive, limits, decoder)
                    present_decoded(scope, decoder)
                elif parsed.body_must_match:
                    body = framed_body(scope, limits) or await stream_body(receive, limits)
                    verifier.check_payload(parsed, body.sha256)
        except BaseException:
            if body is not None:
                body.close()
            raise
        caller = caller_identity(identity, key)
        if cache_key is not None and parsed.streaming is None:
            signed_body = body.sha256 if (body is not None and parsed.needs_body_hash) else None
            self._verified.remember(
                cache_key, Verified(parsed, caller, key.secret_access_key, signed_body)
            )
        self._record_use(identity, now)
        return caller, body

    async def _verify_replay(
        self, remembered: Verified, scope: Scope, receive: Receive, now: datetime
    ) -> tuple[CallerIdentity, Body | None] | None:
        """Verify a byte-identical replay of a request verified before.

        The signature is a pure function of these exact bytes and the secret,
        so it is not recomputed; everything that depends on time, on the key
        record or on the body is checked again. Returns None (full
        verification) when the key's secret or principal changed or the body
        differs from the signed one.
        """
        verifier = self.verifier
        parsed = remembered.parsed
        if parsed.streaming is not None:
            return None  # aws-chunked bodies are always decoded and verified in full
        verifier.check_time_at(parsed, now)
        key: KeyRecord | None = await self._lookup(parsed.access_key_id)
        verifier.check_key_at(parsed, key, now)
        assert key is not None
        identity = remembered.caller.sigv4
        if key.principal != identity.principal or key.secret_access_key != remembered.secret:
            return None
        limits = self.body_limits
        body: Body | None = None
        try:
            if parsed.needs_body_hash:
                body = framed_body(scope, limits) or await stream_body(receive, limits)
                if body.sha256 != remembered.body_sha256:
                    # Another body under the same headers: check it in full,
                    # with the body already read.
                    request = signed_request(scope, self.trusted_proxies)
                    identity = verifier.authenticate(
                        parsed, key, request, now=now, body_sha256=body.sha256
                    )
            elif parsed.body_must_match:
                body = framed_body(scope, limits) or await stream_body(receive, limits)
                verifier.check_payload(parsed, body.sha256)
        except BaseException:
            if body is not None:
                body.close()
            raise
        self._record_use(identity, now)
        # The key record is read again: a changed session or principal shows at once.
        return caller_identity(identity, key), body

    async def _lookup(self, access_key_id: str) -> KeyRecord | None:
        try:
            return await self.store.get_key(access_key_id)
        except StoreUnavailableError:
            raise ServiceUnavailable() from None

    def _record_use(self, identity: Identity, now: datetime) -> None:
        try:
            self.store.record_use(
                identity.access_key_id, at=now, region=identity.region, service=identity.service
            )
        except Exception as exc:
            # Bookkeeping only: a failure here must not refuse a verified request.
            logger.warning("record_use failed: %s", type(exc).__name__)

    # -- WebSocket -----------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._passes(scope):
            await self.app(self._anonymous(scope), receive, send)
            return
        request_id = new_request_id()
        caller: CallerIdentity | None = None
        try:
            now = self.clock()
            request = signed_request(scope, self.trusted_proxies)
            parsed = self.verifier.parse_at(request, now)
            key = await self._lookup(parsed.access_key_id)
            identity = self.verifier.authenticate(
                parsed, key, request, now=now, body_sha256=EMPTY_SHA256
            )
            self.verifier.check_payload(parsed, EMPTY_SHA256)
            assert key is not None  # authenticate refuses an unknown key
            caller = caller_identity(identity, key)
            await self._authorize(caller, scope)
        except VerificationError as exc:
            log_refusal(exc, request_id, scope, self.refusal_log_level)
            error = self._audit_refusal(exc, scope, caller, request_id)
            await deny_websocket(scope, receive, send, error, request_id, self.error_format)
            return
        except Exception as exc:
            log_internal(exc, request_id)
            error = self._audit_refusal(InternalError(), scope, caller, request_id)
            await deny_websocket(scope, receive, send, error, request_id, self.error_format)
            return
        if self.auditor is not None and not self.auditor.admitted(scope, caller, now=now):
            await deny_websocket(scope, receive, send, ServiceUnavailable(), request_id,
                                 self.error_format)
            return
        self._record_use(identity, now)
        await self.app(self._authenticated(scope, caller), receive, send)


def _system_clock() -> datetime:
    return datetime.now(UTC)
