"""The server half's commands of the ``sigv4kit`` command line.

``keys`` (the key store) and ``policy`` (IAM policy documents), plus the
:class:`~sigv4kit.cli.VerifySupport` that ``sigv4kit verify --store`` uses. They join
the core's command line through the ``sigv4kit.commands`` and ``sigv4kit.verify_support``
entry points declared in pyproject.toml; the core never imports this package unless
one of them runs. May import the core (``sigv4kit``, ``sigv4kit.cli``) and the rest of
the server; nothing in the server imports it.
"""
