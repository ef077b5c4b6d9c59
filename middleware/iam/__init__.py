"""IAM for any service: the policy language, identities, the IAM and STS APIs.

Subpackages: ``policy`` (the policy language: parse, validate, evaluate,
simulate; pure, no I/O) and ``api`` (the wire protocols IAM and STS speak).
"""
