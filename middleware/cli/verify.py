"""What ``sigv4kit verify`` borrows from the server: key lookup and the error bodies."""

from __future__ import annotations

from dataclasses import dataclass

from sigv4kit import KeyRecord, VerificationError
from sigv4kit.cli import CLIError, ExitCode

from .. import ErrorFormat, StoreError, render_error
from ._store import open_cli_store

__all__ = ["SUPPORT", "ServerVerifySupport"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerVerifySupport:
    """The server's :class:`sigv4kit.cli.VerifySupport`."""

    async def fetch_key(self, store_url: str, access_key_id: str) -> KeyRecord | None:
        """The key record from the store at ``store_url``; store errors exit 1."""
        store = open_cli_store(store_url)
        try:
            return await store.get_key(access_key_id)
        except StoreError as exc:
            raise CLIError(f"key store: {exc}", ExitCode.ERROR) from None
        finally:
            await store.aclose()

    def render_error(self, error: VerificationError, error_format: str) -> str:
        """The error body the middleware would send, in ``error_format``."""
        _status, _headers, body = render_error(
            error, ErrorFormat(error_format), request_id="0000000000000000"
        )
        return body.decode("utf-8")


#: The object the ``sigv4kit.verify_support`` entry point names.
SUPPORT = ServerVerifySupport()
