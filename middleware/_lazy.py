"""Attributes of a package loaded on first use (PEP 562), for the heavy SQL store.

Imports: nothing from sigv4kit.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["load"]


def load(
    package: str, modules: Mapping[str, str], name: str, namespace: MutableMapping[str, Any]
) -> object:
    """``name`` from its module in ``modules`` (relative to ``package``), kept in ``namespace``.

    Raises :class:`AttributeError` for a name ``modules`` does not list.
    """
    module = modules.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, package), name)
    namespace[name] = value
    return value
