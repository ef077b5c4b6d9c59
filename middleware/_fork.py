"""Per-process state across ``os.fork()`` (gunicorn ``--preload`` forks after the app exists).

An object holding connections, threads or locks registers hooks with
:func:`at_fork`; they run for every fork while the object is alive:

* ``before``, in the forking thread: bring the object's own threads to a
  point where forking is safe (outside a library holding a C-level mutex,
  such as SQLite's allocator mutex, which no thread of the child would ever
  release);
* ``after_in_parent``: let them go on;
* ``after_in_child``, first thing in the child: drop what the parent owns
  *without closing it*. A connection inherited through a fork is a socket
  shared with the parent, and closing it (a PostgreSQL Terminate, a TLS
  close_notify) ends the parent's session.

Imports: nothing from sigv4kit.
"""

from __future__ import annotations

import functools
import logging
import os
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["at_fork"]

T = TypeVar("T")

logger = logging.getLogger("sigv4kit.middleware")

_Hook = Callable[[Any], None] | None

# Owners are held weakly: registering never keeps an object alive.
_HOOKS: weakref.WeakKeyDictionary[Any, tuple[_Hook, _Hook, _Hook]] = weakref.WeakKeyDictionary()


def at_fork(
    owner: T,
    *,
    before: Callable[[T], None] | None = None,
    after_in_parent: Callable[[T], None] | None = None,
    after_in_child: Callable[[T], None] | None = None,
) -> None:
    """Call these with ``owner`` around each fork while ``owner`` lives.

    Pass unbound methods (``Store._after_fork``), not bound ones, or the
    registration keeps ``owner`` alive. ``before`` runs for owners in the
    reverse order of registration, the others in that order (as
    :func:`os.register_at_fork` does).
    """
    _watch_forks()
    _HOOKS[owner] = (before, after_in_parent, after_in_child)


def _run(which: int, owners: list[Any]) -> None:
    for owner in owners:
        hook = _HOOKS.get(owner, (None, None, None))[which]
        if hook is None:
            continue
        try:
            hook(owner)
        except Exception:  # the others must still run (the interpreter would drop it silently)
            logger.exception("fork hook of %s failed", type(owner).__name__)


def _before() -> None:
    _run(0, list(_HOOKS.keys())[::-1])


def _after_in_parent() -> None:
    _run(1, list(_HOOKS.keys()))


def _after_in_child() -> None:
    _run(2, list(_HOOKS.keys()))


@functools.cache
def _watch_forks() -> None:
    # Once per process, on first use (a fork hook cannot be unregistered).
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(
            before=_before, after_in_parent=_after_in_parent, after_in_child=_after_in_child
        )
