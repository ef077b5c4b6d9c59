"""Explaining a SignatureDoesNotMatch: the causes found by comparing the server's canonical
request and string to sign with ours, and their rendering.

May import every core stage below it (``canonical``, ``signing``, ``verify``, ``client``);
never ``cli`` or the server.
"""

from __future__ import annotations

from ._explain import (
    explain,
    recompute_signed,
)
from ._model import (
    Cause,
    Explanation,
    Finding,
)
from ._render import (
    render_explanation,
)

__all__ = [
    "Cause",
    "Explanation",
    "Finding",
    "explain",
    "recompute_signed",
    "render_explanation",
]
