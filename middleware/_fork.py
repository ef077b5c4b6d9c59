"""Per-process state after ``os.fork()`` (gunicorn ``--preload`` forks after the app exists).

An object holding connections, tasks or locks registers a reset with
:func:`reset_in_child`; in every child forked while the object is alive the
reset runs first thing, before the child uses it. The reset must drop what
the parent owns *without closing it*: a connection inherited through a fork
is a socket shared with the parent, and closing it (a PostgreSQL Terminate,
a TLS close_notify) ends the parent's session.

Imports: nothing from sigv4kit.
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["reset_in_child"]

T = TypeVar("T")

# Owners are held weakly: registering never keeps an object alive.
_RESETS: weakref.WeakKeyDictionary[Any, Callable[[Any], None]] = weakref.WeakKeyDictionary()


def reset_in_child(owner: T, reset: Callable[[T], None]) -> None:
    """Call ``reset(owner)`` in each child forked while ``owner`` lives.

    Pass an unbound method (``Store._after_fork``), not a bound one, or the
    registration keeps ``owner`` alive.
    """
    _watch_forks()
    _RESETS[owner] = reset


def _after_fork_in_child() -> None:
    for owner, reset in list(_RESETS.items()):
        reset(owner)


@functools.cache
def _watch_forks() -> None:
    # Once per process, on first use (a fork hook cannot be unregistered).
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
