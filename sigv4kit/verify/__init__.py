"""Verification: the wire model of a signed request, parsing of the Authorization header and
query authentication, time checks, the key lookup protocol, signature and payload checks,
the orchestrating :class:`Verifier`, the aws-chunked decoder, and the errors (one class per
AWS error code).

May import ``sigv4kit.canonical``, ``sigv4kit.signing`` and the shared base modules; never
``client``, ``explain``, ``cli`` or the server (``sigv4kit.middleware``).
"""
