"""The IAM console: sign-in with a password and MFA, identities, policies, the audit trail.

Server-rendered HTML (standard library only) with its own small CSS and
JavaScript (``static/``), served by ``sigv4kit serve`` at ``/console`` next
to the APIs (:class:`ConsoleMount`). See docs/console.md.

```python
from sigv4kit.middleware.console import ConsoleApp, ConsoleMount, ConsoleSettings
```
"""

from __future__ import annotations

from ._app import ConsoleApp, ConsoleSettings, check_document
from ._ctx import PREFIX
from ._mount import ConsoleMount, store_audit_sink
from ._sessions import ConsoleSession, ConsoleSessions, SessionState, csrf_token
from ._signin import COOKIE, PRE_COOKIE

__all__ = [
    "COOKIE",
    "PREFIX",
    "PRE_COOKIE",
    "ConsoleApp",
    "ConsoleMount",
    "ConsoleSession",
    "ConsoleSessions",
    "ConsoleSettings",
    "SessionState",
    "check_document",
    "csrf_token",
    "store_audit_sink",
]
