"""The key store as the ``keys`` and ``verify`` commands open it: URL, logging, errors."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from sigv4kit import SigV4Error
from sigv4kit.cli import CLIError, ExitCode, Streams

from .. import AccessKeyStore, KeyManager, StoreError, StoreNotFoundError, open_store

__all__ = [
    "DEFAULT_STORE_URL",
    "STORE_ENV",
    "open_cli_store",
    "store_log_to",
    "store_url",
    "with_manager",
]

T = TypeVar("T")

STORE_ENV = "SIGV4KIT_STORE"
DEFAULT_STORE_URL = "sqlite:///sigv4kit.db"


def store_url(args: argparse.Namespace) -> str:
    """The store URL: ``--store``, else ``$SIGV4KIT_STORE``, else the default."""
    url: str | None = args.store or getattr(args, "keys_store", None)
    if url is None:
        url = os.environ.get(STORE_ENV) or DEFAULT_STORE_URL
    return url


@contextlib.contextmanager
def store_log_to(streams: Streams) -> Iterator[None]:
    # The store reports (e.g. "created the master key file") through logging;
    # on the command line those belong on the command's stderr.
    logger = logging.getLogger("sigv4kit.middleware")
    handler = logging.StreamHandler(streams.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    previous = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = previous


def open_cli_store(url: str, *, create: bool = False) -> AccessKeyStore:
    """The store at ``url``; unless ``create``, it must exist already.

    Only `keys create` may create a store (and its key file): a typo in
    --store or ?schema= must not silently start an empty one.
    """
    try:
        return open_store(url, create=create)
    except StoreNotFoundError as exc:
        # Not the URL itself: a postgresql:// one may carry a password.
        raise CLIError(
            f"{exc}; create a key first with `sigv4kit keys create`, "
            f"or give --store / ${STORE_ENV}"
        ) from None
    except StoreError as exc:
        # open_store raises the base class only for a URL it cannot use (no or
        # an unknown scheme, a malformed path or schema): a bad option value.
        if type(exc) is StoreError:
            raise CLIError(str(exc), ExitCode.USAGE) from None
        raise


def with_manager(
    args: argparse.Namespace,
    streams: Streams,
    fn: Callable[[KeyManager], Awaitable[T]],
    *,
    create: bool = False,
) -> T:
    url = store_url(args)

    async def go(store: AccessKeyStore) -> T:
        try:
            if not isinstance(store, KeyManager):
                raise CLIError(f"the store at {url} does not support key management")
            return await fn(store)
        finally:
            await store.aclose()

    with store_log_to(streams):
        try:
            return asyncio.run(go(open_cli_store(url, create=create)))
        except OSError as exc:
            raise CLIError(f"{url}: {exc.strerror or exc}") from None
        except (SigV4Error, KeyboardInterrupt):
            raise
        except Exception as exc:  # never a traceback on the command line
            raise CLIError(f"unexpected {type(exc).__name__} from the key store: {exc}") from None


