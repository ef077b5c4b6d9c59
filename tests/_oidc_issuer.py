"""A real local OIDC issuer for tests: discovery and a JWKS over uvicorn, tokens signed in-test.

``with running_issuer() as issuer:`` starts a small ASGI app on a free
loopback port (``issuer.url`` is ``http://127.0.0.1:PORT``), serving
``/.well-known/openid-configuration`` and ``/jwks``; ``issuer.token(...)``
signs claims with one of its keys (RSA and EC, generated here), and
``issuer.rotate()`` publishes a new key with a new kid. ``issuer.down = True``
makes every request answer 503; ``issuer.requests`` counts requests.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

Key = RSAKey | ECKey


class Issuer:
    """The app and its keys (see the module docstring)."""

    def __init__(self) -> None:
        self.url = ""
        self.keys: dict[str, Key] = {}
        self.published: list[str] = []
        self.down = False
        self.requests: list[str] = []
        self.add_key("rsa-1", RSAKey.generate_key(2048, private=True))
        self.add_key("ec-1", ECKey.generate_key("P-256", private=True))
        self.add_key("ec-384", ECKey.generate_key("P-384", private=True))
        self.add_key("ec-521", ECKey.generate_key("P-521", private=True))

    def add_key(self, kid: str, key: Key, *, publish: bool = True) -> None:
        key.ensure_kid()
        self.keys[kid] = key
        if publish:
            self.published.append(kid)

    def rotate(self, kid: str) -> None:
        """Publish a new RSA key ``kid`` (tokens may then be signed with it)."""
        self.add_key(kid, RSAKey.generate_key(2048, private=True))

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.published:
            public = self.keys[kid].as_dict(private=False)
            public["kid"] = kid
            keys.append(public)
        return {"keys": keys}

    def token(self, claims: dict[str, Any], *, kid: str = "rsa-1", alg: str | None = None) -> str:
        key = self.keys[kid]
        alg = alg or ("RS256" if isinstance(key, RSAKey) else "ES256")
        header = {"alg": alg, "kid": kid, "typ": "JWT"}
        return jwt.encode(header, claims, key, algorithms=[alg])

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        self.requests.append(path)
        if self.down:
            status, body = 503, {"error": "down"}
        elif path == "/.well-known/openid-configuration":
            status, body = 200, {"issuer": self.url, "jwks_uri": f"{self.url}/jwks"}
        elif path == "/jwks":
            status, body = 200, self.jwks()
        else:
            status, body = 404, {"error": "not found"}
        data = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_issuer() -> Iterator[Issuer]:
    """An :class:`Issuer` under a real uvicorn in a thread, stopped afterwards."""
    issuer = Issuer()
    port = _free_port()
    issuer.url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        issuer, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test OIDC issuer did not start")
        time.sleep(0.01)
    try:
        yield issuer
    finally:
        server.should_exit = True
        thread.join(timeout=10)
