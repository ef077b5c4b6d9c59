"""``python -m sigv4kit`` and the ``sigv4kit`` console script."""

from __future__ import annotations

import sys

from .cli._main import main

__all__ = ["run"]


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
