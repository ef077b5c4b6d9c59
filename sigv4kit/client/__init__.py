"""The client: httpx auth, presigning, the retry transport, credential providers, clock skew,
AWS error parsing, endpoint inference.

May import ``sigv4kit.canonical``, ``sigv4kit.signing`` and the shared base modules; never
``verify``, ``explain``, ``cli`` or the server.
"""
