"""Signing: credentials, scope, string to sign, key derivation, SigV4 and SigV4A signatures,
checksums, the aws-chunked chunk chain and encoder.

May import ``sigv4kit.canonical`` and the shared base modules (``_exceptions``, ``_settings``);
never ``verify``, ``client``, ``explain`` or ``cli``.
"""
