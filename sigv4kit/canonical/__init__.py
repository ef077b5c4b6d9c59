"""Canonicalization: the request as bytes on the wire and its canonical form.

Holds percent-encoding, path normalization, the canonical query and headers, the canonical
request, the raw HTTP/1.1 request parser, and the diagnostics of canonical text (first
difference, line names, redaction). May import only ``sigv4kit._exceptions`` and
``sigv4kit._settings``; every other stage builds on it.
"""
