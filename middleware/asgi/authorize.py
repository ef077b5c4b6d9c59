"""Authorization: the step between a verified signature and the app.

The middleware runs authenticate → authorize → app. After a request's
signature (and body) verified, it awaits ``authorizer.authorize(caller,
scope)``:

* returning (None) allows the request: the app runs;
* raising :class:`~sigv4kit.AccessDenied` (or any
  :class:`~sigv4kit.VerificationError`, e.g. ``ServiceUnavailable`` when
  the policy store cannot answer) refuses it: the client gets that error
  in the service's error format (403 AccessDenied) and the app never runs;
* any other exception also refuses it with 403 AccessDenied (fail closed),
  and is logged.

The default, :class:`AllowAuthenticated`, allows every verified caller
(sigv4kit's behaviour before the seam existed). IAM policy evaluation plugs
in here without touching the middleware.

Imports: the core (``sigv4kit``), :mod:`.identity`, :mod:`.types`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from .identity import CallerIdentity
from .types import Scope

__all__ = ["AUTHORIZATION_KEY", "AllowAuthenticated", "AuthorizationRecord", "Authorizer"]

#: The scope key where an authorizer leaves the :class:`AuthorizationRecord` of
#: its decision (allowed or refused), for the app (``request.scope``) and the audit
#: trail. An authorizer that does not decide per action (the default) leaves none.
AUTHORIZATION_KEY: Final = "sigv4.authorization"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRecord:
    """What an authorizer decided for one request.

    ``action`` (``orders:GetOrder``) on ``resource`` (an ARN); ``allowed``;
    ``reason``: for a refusal, the AccessDenied message; for an allow, the id
    of the policy whose statement allowed (``""`` when none applies, as for the
    account's root user).
    """

    action: str
    resource: str
    allowed: bool
    reason: str = ""



@runtime_checkable
class Authorizer(Protocol):
    """Decides whether a verified caller may make this request.

    ```python
    from sigv4kit import AccessDenied

    class ReadOnly:
        async def authorize(self, caller, scope):
            if scope["method"] not in ("GET", "HEAD"):
                raise AccessDenied(f"{caller.arn} may only read")
    ```
    """

    async def authorize(self, caller: CallerIdentity, scope: Scope) -> None:
        """Return to allow; raise :class:`~sigv4kit.AccessDenied` to refuse.

        ``scope`` is the request's ASGI scope (method, path, headers, ...);
        the body is not available (it is verified, not yet read by the app).
        """
        ...


class AllowAuthenticated:
    """The default authorizer: every caller whose signature verified is allowed."""

    __slots__ = ()

    async def authorize(self, caller: CallerIdentity, scope: Scope) -> None:
        return None

    def __repr__(self) -> str:
        return "AllowAuthenticated()"
